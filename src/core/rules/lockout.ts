import type { PortalUser, UserId } from '../domain.js';
import type { Db } from '../../db/store.js';
import { clearLocksOfUser, countFailureUnlessLocked, findCredential, setLock, type CredentialRow } from '../../db/credentialRepository.js';
import type { Budget } from '../../db/rateLimitRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import { foldEmail } from '../primitives/email.js';
import { recordAudit, type AuditAction, type AuditParty } from '../primitives/audit.js';
import type { MfaDeps } from '../deps.js';
import { locked, wrongState } from '../errors.js';
import { queueNotification } from '../notify/outbox.js';
import { humanTimeUntil } from '../primitives/humanTime.js';

/**
 * Rule 11 in one place. Every counted attempt — codes, recovery codes, enrolment confirmations,
 * access codes, diagnoses — goes through `attempt`: the lock check, the proof, the failure count and
 * what a failure means (locked now, or already locked by a parallel guess). The budgets of rule 11
 * (wrong passwords) and rule 12 (diagnoses) are built here too.
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
  action: AuditAction;
  actor: AuditParty | null;
  target: AuditParty;
  organisation?: { id: string; slug: string } | null;
  detail?: Record<string, unknown>;
}

/** Refuse (audited) while the credential is locked or hard-locked: the check of `attempt`, and of a change that must not go around a lock (replace). */
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

interface FailureOutcome {
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
async function registerFailure(deps: MfaDeps, credentialId: number, user: { id: string; email: string }, event: AttemptEvent): Promise<FailureOutcome> {
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

/** What a proof's check answers when the proof is wrong: counted by `attempt`, never by the check itself. */
export const MISS: unique symbol = Symbol('wrong proof');

export interface CountedAttempt<T> {
  user: PortalUser;
  /** the credential a wrong proof counts against and whose lock refuses it; undefined: none (an access code for a user without MFA) */
  credential: CredentialRow | undefined;
  event: AttemptEvent;
  /** what a counted wrong proof answers — a refusal, or a result (a diagnosis that matched nothing); told whether this failure locked the credential */
  onMiss: (lockedNow: LockState | null) => T;
  /** a wrong proof with no credential to count on counts here instead (the access code's own tries) */
  uncounted?: () => Promise<void>;
}

/**
 * Rule 11 for one counted attempt: refuse (audited) while locked, check the proof with `tryIt`, and
 * on MISS count the failure, locking at the thresholds with its audit rows and notice. A failure
 * that finds the credential already locked (a parallel guess got there first) is not answered:
 * the person is told it is locked, not whether the guess was right. A right proof and a refusal
 * of tryIt's own (a replayed code) come back as they are.
 */
export async function attempt<T>(deps: MfaDeps, a: CountedAttempt<T>, tryIt: () => Promise<T | typeof MISS>): Promise<T> {
  await assertNotLocked(deps, a.user, a.credential, a.event);
  const result = await tryIt();
  if (result !== MISS) return result;
  if (!a.credential) {
    await a.uncounted?.();
    return a.onMiss(null);
  }
  const outcome = await registerFailure(deps, a.credential.id, a.user, a.event);
  if (outcome.alreadyLocked) throw lockedError(a.user, outcome.alreadyLocked);
  return a.onMiss(outcome.lockedNow);
}

/** Rule 11's wrong-password budget of an email (folded: however the portal or the person spells it, one budget). */
export function passwordBudget(deps: Pick<MfaDeps, 'settings' | 'clock'>, email: string): Budget {
  const s = deps.settings;
  return { subject: foldEmail(email.trim()), bucket: 'password', limit: s.passwordFailures, windowMs: s.passwordWindowMinutes * 60_000, now: deps.clock() };
}

/** Rule 12's budget: diagnosePerHour clock diagnoses per user per hour. */
export function diagnoseBudget(deps: Pick<MfaDeps, 'settings' | 'clock'>, user: Pick<PortalUser, 'id'>): Budget {
  return { subject: `user:${user.id}`, bucket: 'diagnose', limit: deps.settings.diagnosePerHour, windowMs: 3_600_000, now: deps.clock() };
}

/** `unlock`: clear every lock and the failure count of the user, inside the caller's transaction. */
export async function clearLocks(trx: Db, userId: UserId): Promise<number> {
  return clearLocksOfUser(trx, userId);
}
