import { timingSafeEqual } from 'node:crypto';
import { scopeOf } from '../requestScope.js';
import { countAccessCodeFailure, consumeAccessCode, liveAccessCode, replaceAccessCode, revokeAccessCodes } from '../../db/accessCodeRepository.js';
import { resetFailuresUnlessLocked } from '../../db/credentialRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import type { PortalUser } from '../domain.js';
import { party, recordAudit } from '../primitives/audit.js';
import type { MfaDeps } from '../deps.js';
import { rejected, usageError, wrongState } from '../errors.js';
import { attempt, lockedError, lockState, MISS } from '../rules/lockout.js';
import { queueNotification } from '../notify/outbox.js';
import { hashToken } from '../primitives/tokens.js';
import { base32Encode } from '../primitives/totp.js';
import type { AttemptContext } from '../rules/verification.js';

export const ACCESS_CODE_LIMITS = { defaultMinutes: 60, maxMinutes: 7 * 24 * 60, defaultUses: 1, maxUses: 10 } as const;

/**
 * A temporary access code (Entra's Temporary Access Pass): 100 random bits as five groups of four
 * base32 characters, e.g. "K3MF-Q2ZX-7HNA-C4DE-P5RT" — longer than a recovery code so the two
 * never look alike. High entropy, so a SHA-256 of it is all that is stored.
 */
function newAccessCode(random: (n: number) => Buffer): string {
  return base32Encode(random(13)).slice(0, 20).match(/.{4}/g)!.join('-');
}

/** Canonical form of a typed access code: case, spaces and dashes do not matter. */
function normaliseAccessCode(raw: string): string {
  const compact = raw.toUpperCase().replace(/[\s-]/g, '');
  if (!/^[A-Z2-7]{20}$/.test(compact)) throw usageError('not an access code', { hint: 'access codes look like K3MF-Q2ZX-7HNA-C4DE-P5RT' });
  return compact;
}

export function looksLikeAccessCode(raw: string): boolean {
  return /^[A-Z2-7]{20}$/.test(raw.toUpperCase().replace(/[\s-]/g, ''));
}

export interface IssuedAccessCode {
  code: string;
  expiresAt: number;
  uses: number;
}

/** Issue (replacing any live one) — the caller has authorised the actor and checked the ticket. */
export async function issueAccessCode(
  deps: MfaDeps,
  actor: { id: string; email: string },
  target: PortalUser,
  opts: { minutes: number; uses: number; ticket: string | null; reason: string | null; organisation: { id: string; slug: string } | null },
): Promise<IssuedAccessCode> {
  const code = newAccessCode(deps.random);
  const now = deps.clock();
  const expiresAt = now + opts.minutes * 60_000;
  await withWriteTransaction(deps.db, async (trx) => {
    await replaceAccessCode(trx, {
      user_id: target.id,
      code_hash: hashToken(normaliseAccessCode(code)),
      created_at: now,
      expires_at: expiresAt,
      uses_left: opts.uses,
      issued_by_user_id: actor.id,
      issued_by_email: actor.email,
      ticket: opts.ticket,
    });
    await recordAudit(trx, deps, {
      action: 'access-code.issue',
      outcome: 'success',
      actor: party(actor),
      target: party(target),
      organisation: opts.organisation,
      ticket: opts.ticket,
      reason: opts.reason,
      detail: { expiresAt: new Date(expiresAt).toISOString(), uses: opts.uses },
    });
    await queueNotification(trx, deps, target, { kind: 'access-code-issued', by: actor.email, ticket: opts.ticket, expiresAt, uses: opts.uses });
  });
  return { code, expiresAt, uses: opts.uses };
}

export async function revokeAccessCode(
  deps: MfaDeps,
  actor: { id: string; email: string },
  target: PortalUser,
  opts: { ticket: string | null; reason: string | null; organisation: { id: string; slug: string } | null },
): Promise<number> {
  return withWriteTransaction(deps.db, async (trx) => {
    const n = await revokeAccessCodes(trx, target.id, deps.clock());
    if (n === 0) throw wrongState(`${target.email} has no live access code`, { code: 'nothing_pending' });
    await recordAudit(trx, deps, {
      action: 'access-code.revoke',
      outcome: 'success',
      actor: party(actor),
      target: party(target),
      organisation: opts.organisation,
      ticket: opts.ticket,
      reason: opts.reason,
    });
    return n;
  });
}

/**
 * Use an access code in place of a TOTP code (at `login`). Each use is taken atomically; a wrong
 * code counts through the lockout on the user's credential — or, for a user without MFA, on the
 * code itself, which is revoked after maxFailures wrong tries.
 */
export async function useAccessCode(deps: MfaDeps, user: PortalUser, raw: string, ctx: AttemptContext): Promise<{ usesLeft: number }> {
  const compact = normaliseAccessCode(raw);
  const { active } = await scopeOf(deps).credentials(user.id);
  const event = { action: ctx.action, actor: ctx.actor, target: party(user), organisation: ctx.organisation ?? null, detail: { accessCode: true } };
  const now = deps.clock();
  const live = await liveAccessCode(deps.db, user.id, now);
  const onMiss = (): never => {
    throw rejected('wrong, expired or used-up access code', { code: 'wrong_access_code', hint: 'ask support for a new one' });
  };
  // a user without MFA has no credential to lock: the wrong tries count on the code itself, revoked after maxFailures
  const uncounted = () =>
    withWriteTransaction(deps.db, async (trx) => {
      await recordAudit(trx, deps, { ...event, outcome: 'failure' });
      if (live && (await countAccessCodeFailure(trx, live.id)) >= deps.settings.maxFailures) {
        await revokeAccessCodes(trx, user.id, now);
        await recordAudit(trx, deps, { ...event, action: 'access-code.revoke', outcome: 'locked', reason: 'too many wrong access codes' });
      }
    });
  return attempt(deps, { user, credential: active, event, onMiss, uncounted }, async () => {
    if (!live || !timingSafeEqual(Buffer.from(live.code_hash, 'hex'), Buffer.from(hashToken(compact), 'hex'))) return MISS;
    const ok = await withWriteTransaction(deps.db, async (trx) => {
      if (!(await consumeAccessCode(trx, live.id, now))) return false;
      if (active && !(await resetFailuresUnlessLocked(trx, active.id, now))) throw lockedError(user, { until: now, hard: false });
      await recordAudit(trx, deps, { ...event, outcome: 'success', detail: { accessCode: true, usesLeft: live.uses_left - 1 } });
      return true;
    });
    return ok ? { usesLeft: live.uses_left - 1 } : MISS;
  });
}

/** Whether useAccessCode would accept this code now — nothing used up, nothing counted. */
export async function accessCodeWouldMatch(deps: MfaDeps, user: PortalUser, raw: string): Promise<boolean> {
  const compact = normaliseAccessCode(raw);
  const { active } = await scopeOf(deps).credentials(user.id);
  if (lockState(active, deps.clock()) !== null) return false;
  const live = await liveAccessCode(deps.db, user.id, deps.clock());
  return live !== undefined && timingSafeEqual(Buffer.from(live.code_hash, 'hex'), Buffer.from(hashToken(compact), 'hex'));
}

export type AccessCodeStatus = { expiresAt: number; usesLeft: number; issuedBy: string | null } | null;

export async function accessCodeStatus(deps: MfaDeps, user: PortalUser): Promise<AccessCodeStatus> {
  const live = await liveAccessCode(deps.db, user.id, deps.clock());
  return live ? { expiresAt: live.expires_at, usesLeft: live.uses_left, issuedBy: live.issued_by_email } : null;
}
