/**
 * `policy show` / `policy set` (SPEC §3, §8): the portal-wide policy, shown to support in full and
 * changed only by support — with the password re-entered, a ticket, an audit row holding the
 * before and after, and, when the portal starts requiring MFA, a notice to every active user who
 * has not enrolled, in the same transaction.
 */
import { allUsers } from '../../db/identity/reader.js';
import { mfaStatesOf } from '../../db/organisationReports.js';
import { writeSetting } from '../../db/settingsRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import { admit, type Actor, reauthenticate } from '../rules/actor.js';
import { party, recordAudit } from '../primitives/audit.js';
import { requireSupport } from '../rules/authorise.js';
import type { MfaDeps } from '../deps.js';
import type { UserId } from '../domain.js';
import { usageError } from '../errors.js';
import { queueNotifications } from '../notify/outbox.js';
import { checkLimit, type DeliveryPolicy, type LimitName, type Limits, POLICY_SETTING, type PortalPolicy, readPolicy } from '../rules/policy.js';

const DAY_MS = 86_400_000;
const POLICY_IS_SUPPORTS = 'the portal policy is managed by support representatives';
const POLICY_HINT = 'organisation admins: portal-mfa org policy';

export async function showPortalPolicy(deps: MfaDeps, actor: Actor): Promise<PortalPolicy> {
  await admit(deps, actor, 'other');
  await requireSupport(deps, actor, { action: 'policy.show', message: POLICY_IS_SUPPORTS, hint: POLICY_HINT });
  return readPolicy(deps.db);
}

export interface PortalPolicyChange {
  mfaRequired?: boolean;
  graceDays?: number | null;
  limits?: Partial<Limits>;
  /** null: notices stay in the outbox for the portal's own mailer */
  delivery?: DeliveryPolicy | null;
}

export interface PortalPolicyResult {
  kind: 'changed' | 'dry-run' | 'unchanged';
  before: PortalPolicy;
  after: PortalPolicy;
  /** notices queued to users without MFA (the portal started requiring it) */
  noticesQueued: number;
}

function applyChange(before: PortalPolicy, change: PortalPolicyChange, now: number): PortalPolicy {
  const limits = { ...before.limits };
  for (const [name, value] of Object.entries(change.limits ?? {})) {
    if (value !== undefined) limits[name as LimitName] = checkLimit(name as LimitName, value);
  }
  if (change.graceDays !== undefined && change.graceDays !== null && (!Number.isInteger(change.graceDays) || change.graceDays < 0 || change.graceDays > 365)) {
    throw usageError('the grace period must be a whole number of days from 0 to 365');
  }
  const mfaRequired = change.mfaRequired ?? before.mfaRequired;
  const graceDays = change.graceDays !== undefined ? change.graceDays : before.graceDays;
  // the grace period runs from when the requirement was switched on (or its length changed)
  const starting = mfaRequired && (!before.mfaRequired || change.graceDays !== undefined);
  return {
    mfaRequired,
    graceDays: mfaRequired ? graceDays : null,
    requiredSince: !mfaRequired ? null : starting ? now : before.requiredSince,
    limits,
    delivery: change.delivery !== undefined ? change.delivery : before.delivery,
  };
}

export async function setPortalPolicy(
  deps: MfaDeps,
  actor: Actor,
  req: { change: PortalPolicyChange; password?: string; ticket?: string | null; reason?: string | null; dryRun?: boolean },
): Promise<PortalPolicyResult> {
  await admit(deps, actor, 'other');
  await requireSupport(deps, actor, { action: 'policy.set', message: POLICY_IS_SUPPORTS, hint: POLICY_HINT });
  if (req.change.delivery) {
    // refused here, before the password is asked, if the relay or sender cannot be used
    const { policyRelay } = await import('../../mail/relay.js');
    policyRelay(req.change.delivery);
  }
  const before = await readPolicy(deps.db);
  const after = applyChange(before, req.change, deps.clock());
  if (JSON.stringify(before) === JSON.stringify(after)) return { kind: 'unchanged', before, after, noticesQueued: 0 };
  if (req.dryRun) return { kind: 'dry-run', before, after, noticesQueued: 0 };
  if (!req.ticket) throw usageError('a change of the portal policy needs a ticket reference', { code: 'ticket_required', hint: 'pass --ticket SUP-1234' });
  await reauthenticate(deps, actor, req.password, 'policy.set');
  const now = deps.clock();
  const notices = await withWriteTransaction(deps.db, async (trx) => {
    await writeSetting(trx, POLICY_SETTING, JSON.stringify(after), now, actor.user.email);
    let queued = 0;
    if (after.mfaRequired && after.requiredSince === now) {
      const deadline = after.graceDays ? now + after.graceDays * DAY_MS : null;
      for await (const page of allUsers(trx, 2000)) {
        const active = page.filter((u) => u.active);
        const states = await mfaStatesOf(
          trx,
          active.map((u) => u.id as UserId),
          now,
        );
        const lacking = active.filter((u) => states.get(u.id)?.mfa !== 'active');
        await queueNotifications(
          trx,
          deps,
          lacking.map((u) => ({ to: u, event: { kind: 'portal-mfa-required' as const, deadline } })),
        );
        queued += lacking.length;
      }
    }
    await recordAudit(trx, deps, {
      action: 'policy.set',
      outcome: 'success',
      actor: party(actor.user),
      ticket: req.ticket ?? null,
      reason: req.reason ?? null,
      detail: { before, after, noticesQueued: queued },
    });
    return queued;
  });
  return { kind: 'changed', before, after, noticesQueued: notices };
}
