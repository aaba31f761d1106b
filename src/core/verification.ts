import type { Knex } from 'knex';
import {
  acceptStep,
  countFailureUnlessLocked,
  credentialsOfUser,
  findCredential,
  lockIfOverLimit,
  type CredentialRow,
} from '../db/credentialRepository.js';
import { withWriteTransaction } from '../db/transaction.js';
import { countRecentAuditEvents } from '../db/auditRepository.js';
import type { UserRow } from '../db/userRepository.js';
import { recordAudit, type AuditParty } from './audit.js';
import type { MfaDeps } from './deps.js';
import { locked, rejected, usageError, wrongState } from './errors.js';
import { decryptSecret } from './secrets.js';
import { DEFAULT_TOTP, matchCode, normaliseCode } from './totp.js';

export interface VerifyResult {
  driftSteps: number;
  step: number;
  credentialId: number;
}

export interface VerifyContext {
  actor: AuditParty | null;
  /** audit action, e.g. 'mfa.verify', 'session.login', 'mfa.replace.prove' */
  action: string;
  organisation?: { id: number; slug: string } | null;
}

/** A code as typed: spaces allowed; anything but exactly the configured digits is a usage error. */
export function parseCode(raw: string): string {
  const code = normaliseCode(raw, DEFAULT_TOTP.digits);
  if (code === null) {
    throw usageError(`not a ${DEFAULT_TOTP.digits}-digit code`, { hint: 'type the code your authenticator app shows now, e.g. 123456' });
  }
  return code;
}

export const party = (u: Pick<UserRow, 'id' | 'email'>): AuditParty => ({ id: u.id, email: u.email });

/** When the credential's lock ends, if it is locked at `now`; null otherwise. */
export function activeLock(credential: Pick<CredentialRow, 'locked_until'> | undefined, now: number): number | null {
  const until = credential?.locked_until ?? null;
  return until !== null && until > now ? until : null;
}

export function lockedError(target: Pick<UserRow, 'email'>, until: number) {
  return locked(`${target.email} is locked until ${new Date(until).toISOString()} after too many failed codes`, {
    hint: 'wait for the lock to expire, or ask support to reset MFA',
  });
}

/**
 * Verify a code against the user's active credential: current step ± window, each step accepted
 * at most once (a conditional UPDATE in the database), failures counted in the database and the
 * user locked at the limit. Throws: wrong_state (no MFA), locked, rejected (wrong or replayed).
 */
export async function verifyActiveCode(deps: MfaDeps, target: UserRow, code: string, vctx: VerifyContext): Promise<VerifyResult> {
  const { active } = await credentialsOfUser(deps.knex, target.id);
  if (!active) {
    throw wrongState(`MFA is not enabled for ${target.email}`, { hint: 'enrol first: portal-mfa enroll' });
  }
  return verifyCredentialCode(deps, target, active, code, vctx);
}

export async function verifyCredentialCode(
  deps: MfaDeps,
  target: UserRow,
  credential: CredentialRow,
  code: string,
  vctx: VerifyContext,
): Promise<VerifyResult> {
  const now = deps.clock();
  const base = { actor: vctx.actor, target: party(target), organisation: vctx.organisation ?? null };
  const lockEnd = activeLock(credential, now);
  if (lockEnd !== null) {
    await recordAudit(deps.knex, deps, { ...base, action: vctx.action, outcome: 'locked', detail: { lockedUntil: new Date(lockEnd).toISOString() } });
    throw lockedError(target, lockEnd);
  }
  const secret = decryptSecret(deps, credential);
  const match = matchCode(secret, code, now, deps.settings.window);
  if (match) {
    const accepted = await withWriteTransaction(deps.knex, async (trx) => {
      if (!(await acceptStep(trx, credential.id, match.step, now))) return false;
      await recordAudit(trx, deps, { ...base, action: vctx.action, outcome: 'success', detail: { driftSteps: match.driftSteps } });
      return true;
    });
    if (accepted) return { driftSteps: match.driftSteps, step: match.step, credentialId: credential.id };
    const lockedNow = activeLock(await findCredential(deps.knex, credential.id), now);
    if (lockedNow !== null) throw lockedError(target, lockedNow);
    // A replay is not a guess: it is refused and audited, but does not count towards the lock.
    await recordAudit(deps.knex, deps, { ...base, action: vctx.action, outcome: 'replay', detail: { driftSteps: match.driftSteps } });
    throw rejected('this code has already been used', { hint: 'wait for the next code (codes change every 30 seconds)' });
  }
  const { lockedUntil, alreadyLockedUntil } = await registerFailure(deps, credential.id, now, { ...base, action: vctx.action });
  // locked by a parallel request after the check above: refused as locked, the guess is not answered
  if (alreadyLockedUntil !== null) throw lockedError(target, alreadyLockedUntil);
  if (lockedUntil !== null) {
    throw rejected(`wrong code; ${target.email} is now locked until ${new Date(lockedUntil).toISOString()}`, {
      hint: 'too many failed codes; wait, or ask support to reset MFA',
    });
  }
  throw rejected('wrong code', { hint: 'check that the phone\'s clock is set automatically; `portal-mfa verify --diagnose` measures its offset' });
}

/**
 * Count one failure and lock at the limit, in one transaction with the audit rows. `lockedUntil`:
 * the lock end if this failure locked. The failure is counted only while the credential is not
 * locked (checked in the database): a guess that raced past the caller's lock check while a
 * parallel request locked the user gets `alreadyLockedUntil` instead — so a burst of parallel
 * guesses gets at most maxFailures answers, and failures are not counted during a lock.
 */
export async function registerFailure(
  deps: MfaDeps,
  credentialId: number,
  now: number,
  event: { action: string; actor: AuditParty | null; target: AuditParty; organisation?: { id: number; slug: string } | null; detail?: Record<string, unknown> },
): Promise<{ lockedUntil: number | null; alreadyLockedUntil: number | null }> {
  const until = now + deps.settings.lockMinutes * 60_000;
  return withWriteTransaction(deps.knex, async (trx: Knex.Transaction) => {
    if (!(await countFailureUnlessLocked(trx, credentialId, now))) {
      const fresh = await findCredential(trx, credentialId);
      if (!fresh) throw wrongState(`MFA is not enabled for ${event.target.email}`, { hint: 'enrol first: portal-mfa enroll' });
      const lockedUntil = fresh.locked_until ?? until;
      await recordAudit(trx, deps, { ...event, outcome: 'locked', detail: { lockedUntil: new Date(lockedUntil).toISOString() } });
      return { lockedUntil: null, alreadyLockedUntil: lockedUntil };
    }
    const lockedNow = await lockIfOverLimit(trx, credentialId, deps.settings.maxFailures, now, until);
    await recordAudit(trx, deps, { ...event, outcome: 'failure' });
    if (lockedNow) {
      await recordAudit(trx, deps, {
        ...event,
        action: 'mfa.lockout',
        outcome: 'locked',
        detail: { lockedUntil: new Date(until).toISOString(), afterFailures: deps.settings.maxFailures },
      });
    }
    return { lockedUntil: lockedNow ? until : null, alreadyLockedUntil: null };
  });
}

/** `verify --diagnose` runs per user per hour (it is not counted as a failure, so it is limited here). */
export const DIAGNOSE_PER_HOUR = 10;

export interface DiagnoseResult {
  matched: boolean;
  driftSteps: number | null;
  offsetSeconds: number | null;
  withinWindow: boolean;
  searchedMinutes: number;
}

/**
 * Measure the device clock's offset: search ±diagnoseMinutes for the code, without consuming it
 * or counting a failure. Refused while the user is locked (it must not become a guessing oracle).
 */
export async function diagnoseCode(deps: MfaDeps, target: UserRow, code: string, actor: AuditParty | null): Promise<DiagnoseResult> {
  const { active } = await credentialsOfUser(deps.knex, target.id);
  if (!active) throw wrongState(`MFA is not enabled for ${target.email}`, { hint: 'enrol first: portal-mfa enroll' });
  const now = deps.clock();
  const lockEnd = activeLock(active, now);
  if (lockEnd !== null) throw lockedError(target, lockEnd);
    // Diagnosis neither uses up the code nor counts a failure, so it must not become a way to guess
  // codes: it is rate-limited per user (exit 4), counted from the audit trail.
  const recent = await countRecentAuditEvents(deps.knex, target.id, 'mfa.diagnose', now - 3_600_000);
  if (recent >= DIAGNOSE_PER_HOUR) {
    await recordAudit(deps.knex, deps, { action: 'mfa.diagnose', outcome: 'rate-limited', actor, target: party(target) });
    throw locked(`too many clock diagnoses for ${target.email} in the last hour (limit ${DIAGNOSE_PER_HOUR})`, { hint: 'try again later' });
  }
const secret = decryptSecret(deps, active);
  const steps = Math.round((deps.settings.diagnoseMinutes * 60) / DEFAULT_TOTP.periodSeconds);
  const match = matchCode(secret, code, now, steps);
  await recordAudit(deps.knex, deps, {
    action: 'mfa.diagnose',
    outcome: match ? 'success' : 'failure',
    actor,
    target: party(target),
    detail: { driftSteps: match?.driftSteps ?? null },
  });
  return {
    matched: match !== null,
    driftSteps: match?.driftSteps ?? null,
    offsetSeconds: match ? match.driftSteps * DEFAULT_TOTP.periodSeconds : null,
    withinWindow: match !== null && Math.abs(match.driftSteps) <= deps.settings.window,
    searchedMinutes: deps.settings.diagnoseMinutes,
  };
}

/** "drift: -1 step (device clock ~30 s behind)" */
export function describeDrift(driftSteps: number): string {
  if (driftSteps === 0) return 'drift: none (device clock in step)';
  const seconds = Math.abs(driftSteps) * DEFAULT_TOTP.periodSeconds;
  const plural = Math.abs(driftSteps) === 1 ? 'step' : 'steps';
  return `drift: ${driftSteps > 0 ? '+' : ''}${driftSteps} ${plural} (device clock ~${seconds} s ${driftSteps < 0 ? 'behind' : 'ahead'})`;
}
