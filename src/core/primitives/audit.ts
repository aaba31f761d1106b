import type { Db } from '../../db/store.js';
import { insertAuditEvent, insertAuditEvents, type NewAuditRow } from '../../db/auditRepository.js';
import type { Clock, Origin } from '../settings.js';

/** Who a state change was done by / to. Emails are copied so the trail outlives the rows. */
export interface AuditParty {
  /** null for an email that names no user (a refused request about an unknown account) */
  id: string | null;
  email: string;
}

/** What an actor asks for, for rule 4 (src/core/rules/actor.ts `admit`): the few things an actor who must enrol may still do. */
export type Intent = 'enrol' | 'replace' | 'verify-self' | 'status-self' | 'logout' | 'other';

/** The events portal-mfa records itself (SPEC §7): one name per event, `noun.verb`. */
export type CoreAuditAction =
  // signing in and out (the password and the second factor are recorded under the command's own action)
  | 'session.login'
  | 'session.logout'
  // a user's own MFA
  | 'mfa.enroll'
  | 'mfa.enroll.start'
  | 'mfa.enroll.confirm'
  | 'mfa.replace'
  | 'mfa.replace.start'
  | 'mfa.replace.prove'
  | 'mfa.replace.confirm'
  | 'mfa.verify'
  | 'mfa.diagnose'
  | 'mfa.status'
  | 'mfa.disable'
  | 'recovery-codes.regenerate'
  | 'device.trust'
  | 'device.list'
  | 'device.revoke'
  // rule 11
  | 'mfa.lockout'
  | 'mfa.hard-lock'
  | 'mfa.unlock'
  // support and organisation administration
  | 'mfa.reset'
  | 'access-code.issue'
  | 'access-code.revoke'
  | 'org.list'
  | 'org.users'
  | 'org.policy'
  | 'org.remind'
  | 'org.disable-mfa'
  | 'users.list'
  | 'audit.read'
  | 'notify.list'
  | 'notify.send'
  | 'policy.show'
  | 'policy.set'
  // operations on the database and the keys
  | 'db.init'
  | 'db.migrate'
  | 'db.rollback'
  | 'db.cleanup'
  | 'keys.rotate'
  | 'demo.create'
  | 'demo.reset';

/**
 * Every audit action: portal-mfa's own, rule 4's gate refusing an intent, the password re-entered
 * for an action (`mfa.disable.reauth`), and — from the library — a portal backend's own sign-in
 * (`portal.login`: a backend names its sign-ins under `portal.`).
 */
export type AuditAction = CoreAuditAction | `gate.${Intent}` | `${CoreAuditAction}.reauth` | `portal.${string}`;

/** What came of it. */
export type AuditOutcome =
  | 'success'
  /** a wrong code, password or recovery code (counted) */
  | 'failure'
  /** not allowed, or not possible (the reason says which) */
  | 'refused'
  /** refused by a lock or a spent budget, or the lock itself */
  | 'locked'
  /** a code already used (refused, not counted) */
  | 'replay'
  /** rule 12's diagnosis budget spent */
  | 'rate-limited'
  /** a long operation began (keys rotate): its end is recorded as success */
  | 'started';

export interface AuditEvent {
  action: AuditAction;
  outcome: AuditOutcome;
  actor?: AuditParty | null;
  target?: AuditParty | null;
  organisation?: { id: string; slug: string } | null;
  ticket?: string | null;
  reason?: string | null;
  /** small, non-secret facts (drift, counts, device ids) */
  detail?: Record<string, unknown> | null;
}

export interface AuditDeps {
  clock: Clock;
  origin: Origin;
}

/** Write one audit event (SPEC §1 rule 10) inside the caller's transaction. */
export async function recordAudit(db: Db, deps: AuditDeps, e: AuditEvent): Promise<void> {
  await insertAuditEvent(db, auditRow(deps, deps.clock(), e));
}

/** Write several audit events, in order, with one statement (bulk commands), inside the caller's transaction. */
export async function recordAudits(db: Db, deps: AuditDeps, events: AuditEvent[]): Promise<void> {
  const at = deps.clock();
  await insertAuditEvents(
    db,
    events.map((e) => auditRow(deps, at, e)),
  );
}

function auditRow(deps: AuditDeps, at: number, e: AuditEvent): NewAuditRow {
  return {
    occurred_at: at,
    actor_user_id: e.actor?.id ?? null,
    actor_email: e.actor?.email ?? null,
    target_user_id: e.target?.id ?? null,
    target_email: e.target?.email ?? null,
    organisation_id: e.organisation?.id ?? null,
    organisation_slug: e.organisation?.slug ?? null,
    action: e.action,
    outcome: e.outcome,
    ticket: e.ticket ?? null,
    reason: e.reason ?? null,
    detail: e.detail ? JSON.stringify(e.detail) : null,
    host: deps.origin.host.slice(0, 255),
    os_user: deps.origin.osUser.slice(0, 255),
  };
}

export const party = (u: { id: string; email: string }): AuditParty => ({ id: u.id, email: u.email });
