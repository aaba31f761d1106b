import { clearBudget } from '../../db/rateLimitRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import { ACCESS_CODE_LIMITS, issueAccessCode, revokeAccessCode, type IssuedAccessCode } from './accessCodes.js';
import { admit, reauthenticate, type Actor } from '../rules/actor.js';
import { party, recordAudit } from '../primitives/audit.js';
import type { MfaDeps } from '../deps.js';
import { type ChangeOnUserRequest, startChangeOnUser } from './changeOnUser.js';
import { usageError } from '../errors.js';
import { clearLocks } from '../rules/lockout.js';
import { requireLockToClear } from '../rules/targetState.js';
import { queueNotification } from '../notify/outbox.js';
import { regenerateRecoveryCodes } from './recoveryCodes.js';

/** (the password again: these hand out access, a session file alone is not enough) */
export interface TargetedRequest extends ChangeOnUserRequest {
  targetEmail: string;
}

export interface UnlockResult {
  kind: 'unlocked' | 'dry-run';
  email: string;
  wasHardLocked: boolean;
  lockedUntil: number | null;
  consecutiveFailures: number;
  passwordLocked: boolean;
}

/** `unlock`: clear a lock, a hard lock (rule 11), the failure count and the wrong-password window. */
export async function unlockUser(deps: MfaDeps, actor: Actor, req: TargetedRequest): Promise<UnlockResult> {
  const auth = await startChangeOnUser(deps, actor, req, { permission: 'unlock', action: 'mfa.unlock' });
  const { target, ticket, reason } = auth;
  const { passwordBudget: budget, ...facts } = await requireLockToClear(deps, target);
  if (req.dryRun) return { kind: 'dry-run', ...facts };
  await reauthenticate(deps, actor, req.password, 'mfa.unlock');
  await withWriteTransaction(deps.db, async (trx) => {
    await clearLocks(trx, target.id);
    await clearBudget(trx, budget);
    await recordAudit(trx, deps, {
      action: 'mfa.unlock',
      outcome: 'success',
      actor: party(actor.user),
      target: party(target),
      organisation: auth.organisation,
      ticket,
      reason,
      detail: { hardLocked: facts.wasHardLocked, consecutiveFailures: facts.consecutiveFailures, passwordLocked: facts.passwordLocked },
    });
    await queueNotification(trx, deps, target, { kind: 'unlocked', by: actor.user.email, ticket });
  });
  return { kind: 'unlocked', ...facts };
}

export interface AccessCodeRequest extends TargetedRequest {
  minutes?: number;
  uses?: number;
}

export type AccessCodeResult =
  | ({ kind: 'issued' } & IssuedAccessCode & { email: string })
  | { kind: 'dry-run'; email: string; expiresAt: number; uses: number };

/**
 * An access code's lifetime and uses, defaulted and checked; exported so the remote CLI refuses
 * out-of-range terms with the same line before it asks the service.
 */
export function accessCodeTerms(req: { minutes?: number; uses?: number }): { minutes: number; uses: number } {
  const minutes = req.minutes ?? ACCESS_CODE_LIMITS.defaultMinutes;
  const uses = req.uses ?? ACCESS_CODE_LIMITS.defaultUses;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > ACCESS_CODE_LIMITS.maxMinutes)
    throw usageError(`an access code lives 1 to ${ACCESS_CODE_LIMITS.maxMinutes} minutes (7 days)`, { code: 'invalid_input' });
  if (!Number.isInteger(uses) || uses < 1 || uses > ACCESS_CODE_LIMITS.maxUses)
    throw usageError(`an access code allows 1 to ${ACCESS_CODE_LIMITS.maxUses} uses`, { code: 'invalid_input' });
  return { minutes, uses };
}

/** `access-code issue`: support (ticket) or an organisation admin for a non-protected member. */
export async function issueAccessCodeFor(deps: MfaDeps, actor: Actor, req: AccessCodeRequest): Promise<AccessCodeResult> {
  const { minutes, uses } = accessCodeTerms(req);
  const auth = await startChangeOnUser(deps, actor, req, { permission: 'access-code', action: 'access-code.issue' });
  const { ticket, reason } = auth;
  if (req.dryRun) return { kind: 'dry-run', email: auth.target.email, expiresAt: deps.clock() + minutes * 60_000, uses };
  await reauthenticate(deps, actor, req.password, 'access-code.issue');
  const issued = await issueAccessCode(deps, actor.user, auth.target, { minutes, uses, ticket, reason, organisation: auth.organisation });
  return { kind: 'issued', email: auth.target.email, ...issued };
}

export async function revokeAccessCodeFor(deps: MfaDeps, actor: Actor, req: TargetedRequest): Promise<{ kind: 'revoked' | 'dry-run'; email: string }> {
  const auth = await startChangeOnUser(deps, actor, req, { permission: 'access-code', action: 'access-code.revoke' });
  const { ticket, reason } = auth;
  if (req.dryRun) return { kind: 'dry-run', email: auth.target.email };
  await reauthenticate(deps, actor, req.password, 'access-code.revoke');
  await revokeAccessCode(deps, actor.user, auth.target, { ticket, reason, organisation: auth.organisation });
  return { kind: 'revoked', email: auth.target.email };
}

/** `recovery-codes regenerate`: the actor's own, after the password again. */
export async function regenerateOwnRecoveryCodes(deps: MfaDeps, actor: Actor, proof: { password?: string }): Promise<{ email: string; codes: string[] }> {
  await admit(deps, actor, 'other');
  await reauthenticate(deps, actor, proof.password, 'recovery-codes.regenerate');
  return { email: actor.user.email, codes: await regenerateRecoveryCodes(deps, actor.user, party(actor.user)) };
}
