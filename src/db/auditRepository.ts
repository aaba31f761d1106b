import type { UserId } from '../core/domain.js';
import type { Db } from './store.js';
import type { Knex } from 'knex';
import type {} from './tables.js';
import { INSERT_BATCH_ROWS } from './transaction.js';

export interface AuditRow {
  id: number;
  occurred_at: number;
  actor_user_id: string | null;
  actor_email: string | null;
  target_user_id: string | null;
  target_email: string | null;
  organisation_id: string | null;
  organisation_slug: string | null;
  action: string;
  outcome: string;
  ticket: string | null;
  reason: string | null;
  detail: string | null;
  host: string;
  os_user: string;
  /** JSON: the web request's origin (ip, userAgent, requestId) and who vouched for the actor; null for neither */
  request: string | null;
}

export type NewAuditRow = Omit<AuditRow, 'id'>;

export async function insertAuditEvent(db: Db, row: NewAuditRow): Promise<void> {
  await db.knex(db.t.audit_events).insert(row);
}

/** Several rows with multi-row INSERTs of up to INSERT_BATCH_ROWS rows (ids follow the array's order). */
export async function insertAuditEvents(db: Db, rows: NewAuditRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_BATCH_ROWS) await db.knex(db.t.audit_events).insert(rows.slice(i, i + INSERT_BATCH_ROWS));
}

export interface AuditQuery {
  /** events where the user is target or actor */
  involvingUserId?: UserId;
  organisationId?: string;
  /** only events by or about this user, or in these organisations (what a non-support actor may see) */
  visibleTo?: { userId: UserId; organisationIds: string[] };
  action?: string;
  since?: number;
  afterId?: number;
  limit: number;
}

export async function queryAuditEvents(db: Db, q: AuditQuery): Promise<AuditRow[]> {
  const query = db.knex(db.t.audit_events).select('*');
  if (q.involvingUserId !== undefined) {
    const id = q.involvingUserId;
    query.where((w: Knex.QueryBuilder) => w.where('target_user_id', id).orWhere('actor_user_id', id));
  }
  if (q.visibleTo !== undefined) {
    const v = q.visibleTo;
    query.where((w: Knex.QueryBuilder) => {
      w.where('target_user_id', v.userId).orWhere('actor_user_id', v.userId);
      if (v.organisationIds.length > 0) w.orWhereIn('organisation_id', v.organisationIds);
    });
  }
  if (q.organisationId !== undefined) query.where('organisation_id', q.organisationId);
  if (q.action !== undefined) {
    if (q.action.endsWith('*')) query.where('action', 'like', q.action.slice(0, -1).replace(/[\\%_]/g, (c) => '\\' + c) + '%');
    else query.where('action', q.action);
  }
  if (q.since !== undefined) query.where('occurred_at', '>=', q.since);
  if (q.afterId !== undefined) query.where('id', '>', q.afterId);
  return query
    .orderBy([
      { column: 'occurred_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(q.limit);
}
