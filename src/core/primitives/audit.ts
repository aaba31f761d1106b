import { isIP } from 'node:net';
import type { Db } from '../../db/store.js';
import { insertAuditEvent, insertAuditEvents, type NewAuditRow } from '../../db/auditRepository.js';
import { usageError } from '../errors.js';
import type { Clock, Origin } from '../settings.js';

/** Who a state change was done by / to. Emails are copied so the trail outlives the rows. */
export interface AuditParty {
  /** null for an email that names no user (a refused request about an unknown account) */
  id: string | null;
  email: string;
  /** the portal backend that vouched for this actor instead of a password (recorded with the request) */
  vouchedBy?: string;
  /** when the backend says it checked the actor's password itself */
  vouchedPasswordAt?: number | null;
}

/**
 * Where one web request came from (issue 22): recorded, as given by the portal backend, on every
 * audit row of the calls made for that request (`mfa.forRequest`), in the audit table's `request`
 * column, together with who vouched for the actor.
 */
export interface RequestOrigin {
  /** the client's address (IPv4 or IPv6) */
  ip?: string;
  userAgent?: string;
  /** the backend's own id of the request, to join its logs with the trail */
  requestId?: string;
}

/** What an actor asks for, for rule 4 (src/core/rules/actor.ts `admit`): the few things an actor who must enrol may still do. */
export type Intent = 'enrol' | 'replace' | 'verify-self' | 'status-self' | 'logout' | 'other';

/** The events portal-mfa records itself (SPEC §7): one name per event, `noun.verb`. */
export type CoreAuditAction =
  // signing in and out (the password and the second factor are recorded under the command's own action)
  | 'session.login'
  | 'session.logout'
  // a portal backend's sign-ins through the library: the two-page login, re-entry, vouching
  | 'portal.login'
  | 'portal.reauth'
  | 'portal.vouch'
  | 'signin.challenge'
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
  | 'demo.reset'
  // the JSON service (portal-mfa serve) and its keys
  | 'service.authenticate'
  | 'service.vouch'
  | 'service.rate-limit'
  | 'service-key.create'
  | 'service-key.list'
  | 'service-key.revoke';

/** Every audit action: portal-mfa's own, rule 4's gate refusing an intent, and the password re-entered for an action (`mfa.disable.reauth`). */
export type AuditAction = CoreAuditAction | `gate.${Intent}` | `${CoreAuditAction}.reauth`;

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
  | 'started'
  /** the first page of a two-page sign-in passed: a challenge for the second factor was issued */
  | 'challenge';

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

const ORIGIN_LIMITS = { userAgent: 1024, requestId: 200 } as const;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A request origin as a backend gives it: checked field by field, copied (never the caller's object). */
export function checkRequestOrigin(raw: unknown): RequestOrigin {
  if (raw === null || typeof raw !== 'object') throw usageError('forRequest needs { ip?, userAgent?, requestId? }', { code: 'invalid_input' });
  const { ip, userAgent, requestId } = raw as Record<string, unknown>;
  const out: RequestOrigin = {};
  if (ip !== undefined) {
    if (typeof ip !== 'string' || isIP(ip) === 0) throw usageError(`not an IP address: ${JSON.stringify(String(ip).slice(0, 60))}`, { code: 'invalid_input' });
    out.ip = ip;
  }
  for (const [name, value] of [
    ['userAgent', userAgent],
    ['requestId', requestId],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length > ORIGIN_LIMITS[name] || CONTROL.test(value))
      throw usageError(`${name} must be text of at most ${ORIGIN_LIMITS[name]} characters without control characters`, { code: 'invalid_input' });
    out[name] = value;
  }
  return out;
}

export interface AuditDeps {
  clock: Clock;
  origin: Origin;
  /** the web request the call is made for, if any */
  request?: RequestOrigin;
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
    request: requestColumn(deps.request, e.actor),
  };
}

/** The request's origin and who vouched for the actor, as one JSON document (null: neither). */
function requestColumn(request: RequestOrigin | undefined, actor: AuditParty | null | undefined): string | null {
  const doc: Record<string, unknown> = { ...request };
  if (actor?.vouchedBy !== undefined) {
    doc.vouchedBy = actor.vouchedBy;
    if (typeof actor.vouchedPasswordAt === 'number') doc.passwordCheckedAt = new Date(actor.vouchedPasswordAt).toISOString();
  }
  return Object.keys(doc).length > 0 ? JSON.stringify(doc) : null;
}

/**
 * The users a portal backend vouched for (rules/actor.ts marks an Actor's own frozen copy of its
 * user): every audit row whose actor is one of them records who vouched, whatever use case wrote it.
 */
const vouched = new WeakMap<object, { by: string; passwordCheckedAt: number | null }>();

export function markVouched(user: object, vouch: { by: string; passwordCheckedAt: number | null }): void {
  vouched.set(user, vouch);
}

export const party = (u: { id: string; email: string }): AuditParty => {
  const v = vouched.get(u);
  return v ? { id: u.id, email: u.email, vouchedBy: v.by, vouchedPasswordAt: v.passwordCheckedAt } : { id: u.id, email: u.email };
};
