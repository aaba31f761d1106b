/**
 * The state a command needs its target in, checked once: by the use case, and — before any
 * password is asked again or code is used — by a command's precheck (CommandPrecheck in actor.ts).
 * Both run only after authorisation: the actor may see this user.
 */
import type { CredentialRow } from '../../db/credentialRepository.js';
import { budgetSpentUntil, type Budget } from '../../db/rateLimitRepository.js';
import type { MfaDeps } from '../deps.js';
import type { PortalUser } from '../domain.js';
import { wrongState } from '../errors.js';
import { scopeOf } from '../requestScope.js';
import { lockState, passwordBudget as passwordBudgetOf } from './lockout.js';

/** disable: there is MFA (active, or an enrolment pending) to remove; else wrong state. */
export async function requireMfaToRemove(deps: MfaDeps, target: PortalUser): Promise<{ active?: CredentialRow; pending?: CredentialRow }> {
  const creds = await scopeOf(deps).credentials(target.id);
  if (!creds.active && !creds.pending) throw wrongState(`MFA is not enabled for ${target.email}`, { code: 'mfa_not_enabled', hint: 'nothing to disable' });
  return creds;
}

export interface LockToClear {
  email: string;
  wasHardLocked: boolean;
  lockedUntil: number | null;
  consecutiveFailures: number;
  passwordLocked: boolean;
  /** the wrong-password budget an unlock clears */
  passwordBudget: Budget;
}

/** unlock: the lock, failures and wrong-password limit there are to clear; wrong state when there is none. */
export async function requireLockToClear(deps: MfaDeps, target: PortalUser): Promise<LockToClear> {
  const now = deps.clock();
  const { active, pending } = await scopeOf(deps).credentials(target.id);
  const creds = [active, pending].filter((c) => c !== undefined);
  const lock = creds.map((c) => lockState(c, now)).find((l) => l !== null) ?? null;
  const failures = Math.max(0, ...creds.map((c) => c.consecutive_failures));
  // the budget sign-in counts against: the folded email, however the portal spells it
  const passwordBudget = passwordBudgetOf(deps, target.email);
  const passwordLocked = (await budgetSpentUntil(deps.db, passwordBudget)) !== null;
  if (lock === null && failures === 0 && !passwordLocked) {
    throw wrongState(`${target.email} is not locked`, {
      code: 'not_locked',
      hint: `portal-mfa status --user ${target.email} shows the failure count`,
    });
  }
  return {
    email: target.email,
    wasHardLocked: lock?.hard ?? false,
    lockedUntil: lock?.until ?? null,
    consecutiveFailures: failures,
    passwordLocked,
    passwordBudget,
  };
}
