import type { PortalUser } from '../domain.js';
import { party, type AuditAction } from '../primitives/audit.js';
import { accessCodeWouldMatch, useAccessCode } from '../usecases/accessCodes.js';
import type { MfaDeps } from '../deps.js';
import { recoveryCodeWouldMatch, useRecoveryCode } from '../usecases/recoveryCodes.js';
import { activeCodeWouldMatch, parseCode, verifyActiveCode } from './verification.js';

/** What can stand in as the second factor (SPEC §1 rule 5, §3 access codes). */
export type SecondFactorProof = { kind: 'code'; code: string } | { kind: 'recovery-code'; code: string } | { kind: 'access-code'; code: string };

export interface ProvenFactor {
  kind: SecondFactorProof['kind'];
  driftSteps?: number;
  recoveryCodesLeft?: number;
}

/**
 * Whether `proof` would prove the second factor now, without using it up or counting anything.
 * For a command that will fail anyway (a failed CommandPrecheck in signIn): the one-time secret
 * stays unused, and only someone holding a valid one learns why the command fails. A proof that
 * would not be accepted is not answered here: the caller proves it as usual, which refuses and counts it.
 */
export async function wouldProveSecondFactor(deps: MfaDeps, user: PortalUser, proof: SecondFactorProof): Promise<boolean> {
  switch (proof.kind) {
    case 'code':
      return activeCodeWouldMatch(deps, user, parseCode(proof.code));
    case 'recovery-code':
      return recoveryCodeWouldMatch(deps, user, proof.code);
    case 'access-code':
      return accessCodeWouldMatch(deps, user, proof.code);
  }
}

/**
 * Prove one second factor for `user`: one order, one audit, one lockout path. A TOTP code is
 * accepted once (replay refused), a recovery code is used up, an access code spends a use; every
 * wrong one counts through rule 11.
 */
export async function proveSecondFactor(
  deps: MfaDeps,
  user: PortalUser,
  proof: SecondFactorProof,
  ctx: { actor: PortalUser; action: AuditAction; organisation?: { id: string; slug: string } | null },
): Promise<ProvenFactor> {
  const attempt = { actor: party(ctx.actor), action: ctx.action, organisation: ctx.organisation ?? null };
  switch (proof.kind) {
    case 'code': {
      const r = await verifyActiveCode(deps, user, parseCode(proof.code), attempt);
      return { kind: 'code', driftSteps: r.driftSteps };
    }
    case 'recovery-code': {
      const r = await useRecoveryCode(deps, user, proof.code, attempt);
      return { kind: 'recovery-code', recoveryCodesLeft: r.left };
    }
    case 'access-code':
      await useAccessCode(deps, user, proof.code, attempt);
      return { kind: 'access-code' };
  }
}
