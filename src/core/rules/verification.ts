import { acceptStep, burnStepsThrough, findCredential, type CredentialRow } from '../../db/credentialRepository.js';
import { scopeOf } from '../requestScope.js';
import { ensureBudget, takeFromBudget } from '../../db/rateLimitRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import type { PortalUser } from '../domain.js';
import { party, recordAudit, type AuditAction, type AuditParty } from '../primitives/audit.js';
import type { MfaDeps } from '../deps.js';
import { locked, rejected, usageError, wrongState } from '../errors.js';
import { attempt, diagnoseBudget, lockState, lockedError, MISS, type AttemptEvent, type LockState } from './lockout.js';
import { decryptSecret } from '../primitives/secrets.js';
import { DEFAULT_TOTP, matchCode, normaliseCode } from '../primitives/totp.js';
import { humanTimeUntil } from '../primitives/humanTime.js';

export interface VerifyResult {
  driftSteps: number;
  step: number;
  credentialId: number;
}

export interface AttemptContext {
  actor: AuditParty | null;
  /** audit action, e.g. 'mfa.verify', 'session.login', 'mfa.replace.prove' */
  action: AuditAction;
  organisation?: { id: string; slug: string } | null;
}

/** A code as typed: spaces allowed; anything but exactly the configured digits is a usage error. */
export function parseCode(raw: string): string {
  const code = normaliseCode(raw, DEFAULT_TOTP.digits);
  if (code === null) {
    throw usageError(`not a ${DEFAULT_TOTP.digits}-digit code`, { hint: 'type the code your authenticator app shows now, e.g. 123456' });
  }
  return code;
}

function mfaNotEnabled(target: Pick<PortalUser, 'email'>, self: boolean) {
  // (a hint's command is for whoever reads it: someone checking another user's code does not enrol)
  return wrongState(`MFA is not enabled for ${target.email}`, {
    code: 'mfa_not_enabled',
    hint: self ? 'enrol first: portal-mfa enroll' : 'the user runs portal-mfa enroll first',
  });
}

/** The user's active credential, or wrong_state (`by`: who asks, when it may be someone else). */
export async function activeCredential(deps: MfaDeps, target: PortalUser, by?: AuditParty | null): Promise<CredentialRow> {
  const { active } = await scopeOf(deps).credentials(target.id);
  if (!active) throw mfaNotEnabled(target, by === undefined || by === null || by.id === target.id);
  return active;
}

/**
 * Verify a code against a credential: current step ± window, each step accepted at most once
 * (a conditional UPDATE in the database), failures counted through the lockout. Throws: locked,
 * rejected (wrong or replayed).
 */
async function verifyCredentialCode(deps: MfaDeps, target: PortalUser, credential: CredentialRow, code: string, ctx: AttemptContext): Promise<VerifyResult> {
  const event = { action: ctx.action, actor: ctx.actor, target: party(target), organisation: ctx.organisation ?? null };
  const onMiss = (lockedNow: LockState | null): never => {
    if (lockedNow) {
      const until = lockedNow.hard ? 'hard-locked until an unlock' : `locked until ${humanTimeUntil(lockedNow.until!)}`;
      throw rejected(`wrong code; ${target.email} is now ${until}`, { code: 'wrong_code', hint: 'too many failed codes; ask support to unlock' });
    }
    // (someone checking another user's code diagnoses that user's phone)
    const whose = ctx.actor?.id === target.id ? '' : ` --user ${target.email}`;
    throw rejected('wrong code', {
      code: 'wrong_code',
      hint: `check that the phone's clock is set automatically; \`portal-mfa verify --diagnose${whose}\` measures its offset`,
    });
  };
  return attempt(deps, { user: target, credential, event, onMiss }, async () => {
    const now = deps.clock();
    const match = matchCode(decryptSecret(deps, credential), code, now, deps.settings.window);
    if (!match) return MISS;
    const accepted = await withWriteTransaction(deps.db, async (trx) => {
      if (!(await acceptStep(trx, credential.id, match.step, now))) return false;
      await recordAudit(trx, deps, { ...event, outcome: 'success', detail: { driftSteps: match.driftSteps } });
      return true;
    });
    if (accepted) return { driftSteps: match.driftSteps, step: match.step, credentialId: credential.id };
    const lockedNow = lockState(await findCredential(deps.db, credential.id), now);
    if (lockedNow !== null) throw lockedError(target, lockedNow);
    // A replay is not a guess: it is refused and audited, but does not count towards the lock.
    await withWriteTransaction(deps.db, (trx) => recordAudit(trx, deps, { ...event, outcome: 'replay', detail: { driftSteps: match.driftSteps } }));
    throw rejected('this code has already been used', { code: 'replayed_code', hint: 'wait for the next code (codes change every 30 seconds)' });
  });
}

/** Whether verifyActiveCode would accept this code now — its step not used up, nothing counted. */
export async function activeCodeWouldMatch(deps: MfaDeps, target: PortalUser, code: string): Promise<boolean> {
  const { active } = await scopeOf(deps).credentials(target.id);
  const now = deps.clock();
  if (!active || lockState(active, now) !== null) return false;
  const match = matchCode(decryptSecret(deps, active), code, now, deps.settings.window);
  return match !== null && (active.last_accepted_step === null || match.step > active.last_accepted_step);
}

/** verifyCredentialCode against the user's active credential. */
export async function verifyActiveCode(deps: MfaDeps, target: PortalUser, code: string, ctx: AttemptContext): Promise<VerifyResult> {
  return verifyCredentialCode(deps, target, await activeCredential(deps, target, ctx.actor), code, ctx);
}

export interface DiagnoseResult {
  matched: boolean;
  driftSteps: number | null;
  offsetSeconds: number | null;
  withinWindow: boolean;
  searchedMinutes: number;
}

/**
 * Rule 12: measure the device clock's offset by searching ±diagnoseMinutes for the code, without
 * accepting it — and without becoming an oracle: the matched step and every earlier one are burnt
 * (never accepted later), a code that matches nothing counts as a failure (rule 11), and at most
 * diagnosePerHour diagnoses per user per hour are answered (an atomic budget in the database).
 */
export async function diagnoseCode(deps: MfaDeps, target: PortalUser, code: string, ctx: AttemptContext): Promise<DiagnoseResult> {
  const credential = await activeCredential(deps, target, ctx.actor);
  const event: AttemptEvent = {
    action: 'mfa.diagnose',
    actor: ctx.actor,
    target: party(target),
    organisation: ctx.organisation ?? null,
    detail: { diagnose: true },
  };
  const searchedMinutes = deps.settings.diagnoseMinutes;
  const onMiss = (): DiagnoseResult => ({ matched: false, driftSteps: null, offsetSeconds: null, withinWindow: false, searchedMinutes });
  return attempt(deps, { user: target, credential, event, onMiss }, async () => {
    const budget = diagnoseBudget(deps, target);
    await ensureBudget(deps.db, budget);
    const allowed = await withWriteTransaction(deps.db, async (trx) => {
      const ok = await takeFromBudget(trx, budget);
      if (!ok) await recordAudit(trx, deps, { ...event, outcome: 'rate-limited' });
      return ok;
    });
    if (!allowed) {
      throw locked(`too many clock diagnoses for ${target.email} in the last hour (limit ${deps.settings.diagnosePerHour})`, {
        code: 'rate_limited',
        hint: 'try again later',
      });
    }
    const steps = Math.round((searchedMinutes * 60) / DEFAULT_TOTP.periodSeconds);
    const match = matchCode(decryptSecret(deps, credential), code, budget.now, steps);
    if (!match) return MISS;
    await withWriteTransaction(deps.db, async (trx) => {
      await burnStepsThrough(trx, credential.id, match.step);
      await recordAudit(trx, deps, { ...event, outcome: 'success', detail: { driftSteps: match.driftSteps, burntThroughStep: match.step } });
    });
    return {
      matched: true,
      driftSteps: match.driftSteps,
      offsetSeconds: match.driftSteps * DEFAULT_TOTP.periodSeconds,
      withinWindow: Math.abs(match.driftSteps) <= deps.settings.window,
      searchedMinutes,
    };
  });
}
