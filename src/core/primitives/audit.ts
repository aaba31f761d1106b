import type { Db } from '../../db/store.js';
import { insertAuditEvent, insertAuditEvents, type NewAuditRow } from '../../db/auditRepository.js';
import type { Clock, Origin } from '../settings.js';

/** Who a state change was done by / to. Emails are copied so the trail outlives the rows. */
export interface AuditParty {
  /** null for an email that names no user (a refused request about an unknown account) */
  id: string | null;
  email: string;
}

export interface AuditEvent {
  action: string;
  outcome: 'success' | 'failure' | 'refused' | 'locked' | 'replay' | 'dry-run' | string;
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
