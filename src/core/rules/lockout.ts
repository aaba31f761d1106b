import type { UserId } from '../domain.js';
import type { Db } from '../../db/store.js';
import { clearLocksOfUser, countFailureUnlessLocked, findCredential, setLock, type CredentialRow } from '../../db/credentialRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import type { PortalUser } from '../domain.js';
import { recordAudit, type AuditParty } from '../primitives/audit.js';
import type { MfaDeps } from '../deps.js';
import { locked, wrongState } from '../errors.js';
import { queueNotification } from '../notify/outbox.js';
import { humanTimeUntil } from '../primitives/humanTime.js';

/**
 * Rule 11 in one place. Every counted attempt — codes, recovery codes, enrolment confirmations,
 * access codes, diagnoses — goes through registerFailure; every check goes through assertNotLocked.
 *
 * consecutive_failures counts failures since the last success, across lockouts. A lock begins
 * after maxFailures failures since the last one began (failures_at_lock); the k-th of a streak
 * (lock_count) lasts lockMinutes × 2^(k-1), capped at maxLockMinutes; at hardLockFailures the
 * credential is hard-locked until an `unlock`.
 */
export interface LockState {
  until: number | null;
  hard: boolean;
}

export function lockState(credential: Pick<CredentialRow, 'locked_until' | 'hard_locked_at'> | undefined, now: number): LockState | null {
  if (!credential) return null;
  if (credential.hard_locked_at !== null) return { until: null, hard: true };
  const until = credential.locked_until;
  return until !== null && until > now ? { until, hard: false } : null;
}

export function lockedError(target: Pick<PortalUser, 'email'>, state: LockState) {
  if (state.hard) {
    return locked(`${target.email} is hard-locked after too many failed attempts`, {
      code: 'hard_locked',
      hint: 'only an unlock by support or an organisation admin lifts it: portal-mfa unlock --user EMAIL',
    });
  }
  return locked(`${target.email} is locked until ${humanTimeUntil(state.until!)} after too many failed attempts`, {
    code: 'locked',
    hint: 'wait for the lock to expire, or ask support to unlock: portal-mfa unlock --user EMAIL',
  });
}

export interface AttemptEvent {
  action: string;
  actor: AuditParty | null;
  target: AuditParty;
  organisation?: { id: string; slug: string } | null;
  detail?: Record<string, unknown>;
}

/** Refuse (audited) while the credential is locked or hard-locked. */
export async function assertNotLocked(deps: MfaDeps, target: PortalUser, credential: CredentialRow | undefined, event: AttemptEvent): Promise<void> {
  const state = lockState(credential, deps.clock());
  if (state === null) return;
  await withWriteTransaction(deps.db, (trx) =>
    recordAudit(trx, deps, {
      ...event,
      outcome: 'locked',
      detail: { ...event.detail, lockedUntil: state.until === null ? null : new Date(state.until).toISOString(), hardLocked: state.hard },
    }),
  );
  throw lockedError(target, state);
}

function lockMinutesFor(lockNumber: number, settings: MfaDeps['settings']): number {
  return Math.min(settings.lockMinutes * 2 ** Math.max(0, lockNumber - 1), settings.maxLockMinutes);
}

export interface FailureOutcome {
  /** this failure locked the credential (until, or hard) */
  lockedNow: LockState | null;
  /** it was already locked (by a parallel request): nothing was counted, the guess is not answered */
  alreadyLocked: LockState | null;
}

/**
 * Count one failure and lock at the thresholds, in one transaction with its audit rows and the
 * lock notice. Counted only while not locked (checked by the database), so a burst of parallel
 * guesses gets at most maxFailures answers before the lock.
 */
export async function registerFailure(deps: MfaDeps, credentialId: number, user: { id: string; email: string }, event: AttemptEvent): Promise<FailureOutcome> {
  const now = deps.clock();
  const s = deps.settings;
  return withWriteTransaction(deps.db, async (trx: Db) => {
    if (!(await countFailureUnlessLocked(trx, credentialId, now))) {
      const fresh = await findCredential(trx, credentialId);
      if (!fresh) throw wrongState(`MFA is not enabled for ${event.target.email}`, { code: 'mfa_not_enabled', hint: 'enrol first: portal-mfa enroll' });
      const state = lockState(fresh, now) ?? { until: now, hard: false };
      await recordAudit(trx, deps, { ...event, outcome: 'locked', detail: { ...event.detail, hardLocked: state.hard } });
      return { lockedNow: null, alreadyLocked: state };
    }
    const counted = (await findCredential(trx, credentialId))!;
    const failures = counted.consecutive_failures;
    await recordAudit(trx, deps, { ...event, outcome: 'failure', detail: { ...event.detail, consecutiveFailures: failures } });
    if (failures >= s.hardLockFailures) {
      await setLock(trx, credentialId, { hardAt: now });
      await recordAudit(trx, deps, { ...event, action: 'mfa.hard-lock', outcome: 'locked', detail: { afterFailures: failures } });
      await queueNotification(trx, deps, user, { kind: 'hard-locked' });
      return { lockedNow: { until: null, hard: true }, alreadyLocked: null };
    }
    // maxFailures more failures since the last lock began (not a multiple of the count: a change of
    // maxFailures between two failures must never skip a lock)
    if (failures - counted.failures_at_lock >= s.maxFailures) {
      const lockNumber = counted.lock_count + 1;
      const until = now + lockMinutesFor(lockNumber, s) * 60_000;
      await setLock(trx, credentialId, { until, failuresAtLock: failures, lockCount: lockNumber });
      await recordAudit(trx, deps, {
        ...event,
        action: 'mfa.lockout',
        outcome: 'locked',
        detail: { lockedUntil: new Date(until).toISOString(), afterFailures: failures, lockNumber },
      });
      await queueNotification(trx, deps, user, { kind: 'locked', until });
      return { lockedNow: { until, hard: false }, alreadyLocked: null };
    }
    return { lockedNow: null, alreadyLocked: null };
  });
}

/** `unlock`: clear every lock and the failure count of the user, inside the caller's transaction. */
export async function clearLocks(trx: Db, userId: UserId): Promise<number> {
  return clearLocksOfUser(trx, userId);
}
