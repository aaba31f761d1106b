import { type Db, within } from './store.js';
import { INSERT_BATCH_ROWS } from './transaction.js';

export type NotificationStatus = 'pending' | 'sent' | 'failed';

/** A row of the `notifications` outbox (migrations/20261201000003_notifications.ts). */
export interface NotificationRow {
  id: number;
  user_id: string;
  email: string;
  event: string;
  subject: string;
  body: string;
  status: NotificationStatus;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number;
  created_at: number;
  sent_at: number | null;
}

export type NewNotificationRow = Pick<NotificationRow, 'user_id' | 'email' | 'event' | 'subject' | 'body' | 'created_at' | 'next_attempt_at'>;

/** What a delivery needs of a claimed row. */
export type ClaimedNotification = Pick<NotificationRow, 'id' | 'email' | 'subject' | 'body' | 'attempts' | 'created_at'>;

// mysql2 returns BIGINT columns as numbers here (supportBigNumbers without strings), SQLite as numbers;
// COUNT(*) and aggregates can still arrive as strings, so everything numeric goes through Number().
function toRow(r: Record<string, unknown>): NotificationRow {
  return {
    ...(r as unknown as NotificationRow),
    id: Number(r.id),
    user_id: String(r.user_id),
    attempts: Number(r.attempts),
    next_attempt_at: Number(r.next_attempt_at),
    created_at: Number(r.created_at),
    sent_at: r.sent_at === null || r.sent_at === undefined ? null : Number(r.sent_at),
  };
}

/** Insert one pending notice (in the caller's transaction); returns its id. */
export async function insertNotification(db: Db, row: NewNotificationRow): Promise<number> {
  const [id] = await db.knex(db.t.notifications).insert(pending(row));
  return insertedId(id);
}

const pending = (row: NewNotificationRow) => ({ ...row, status: 'pending' as const, attempts: 0 });

/** The id an INSERT reports: a number, or `{ id }` from drivers that return rows. */
function insertedId(raw: unknown): number {
  return Number(typeof raw === 'object' && raw !== null ? (raw as { id: unknown }).id : raw);
}

/**
 * Insert pending notices with one multi-row INSERT (in the caller's transaction); returns the ids
 * by user_id (one notice per user: the bulk commands' case). The ids are read back inside the same
 * transaction (portable SQL, no RETURNING): rows of these users and this event and time, from the
 * first id the INSERT allocated on — a concurrent writer cannot add such a row for a user whose
 * credential this transaction holds, and its rows are not visible here before it commits.
 */
export async function insertNotifications(db: Db, rows: NewNotificationRow[]): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  if (rows.length === 0) return ids;
  for (let i = 0; i < rows.length; i += INSERT_BATCH_ROWS) {
    const part = rows.slice(i, i + INSERT_BATCH_ROWS);
    const [raw] = await db.knex(db.t.notifications).insert(part.map(pending));
    const reported = insertedId(raw);
    // MySQL reports the first id of a multi-row INSERT, SQLite the last (its ids are consecutive)
    const from = db.dialect === 'sqlite' ? reported - part.length + 1 : reported;
    const back = await db
      .knex(db.t.notifications)
      .where('id', '>=', from)
      .whereIn('user_id', [...new Set(part.map((r) => r.user_id))])
      .whereIn('event', [...new Set(part.map((r) => r.event))])
      .whereIn('created_at', [...new Set(part.map((r) => r.created_at))])
      .orderBy('id')
      .select('id', 'user_id');
    for (const r of back) ids.set(String(r.user_id), Number(r.id));
  }
  return ids;
}

/** Ids of pending notices due at `now`, after `afterId`, oldest first (a page of the delivery queue). */
export async function dueNotificationIds(db: Db, now: number, afterId: number, limit: number): Promise<number[]> {
  const rows = await db
    .knex(db.t.notifications)
    .where('status', 'pending')
    .andWhere('next_attempt_at', '<=', now)
    .andWhere('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .select('id');
  return rows.map((r: { id: unknown }) => Number(r.id));
}

/**
 * Claim the given notices for one delivery attempt: of `ids`, those still pending and due get
 * `attempts + 1` and `next_attempt_at = leaseUntil`, atomically, and are returned. Another process
 * (or a later run) sees them as not due until the lease ends, so they are sent by one process at a
 * time; if this process dies before it records the outcome, the lease runs out and they are retried.
 */
export async function claimNotifications(db: Db, ids: number[], now: number, leaseUntil: number): Promise<ClaimedNotification[]> {
  if (ids.length === 0) return [];
  return db.root.transaction(async (trx) => {
    const tx = within(db, trx);
    // SQLite: take the write lock first, so the select and the update see the same rows.
    if (db.dialect === 'sqlite') await trx.raw(`UPDATE ${db.t.knex_migrations_lock} SET is_locked = is_locked WHERE 1 = 0`);
    const select = tx
      .knex(db.t.notifications)
      .whereIn('id', ids)
      .andWhere('status', 'pending')
      .andWhere('next_attempt_at', '<=', now)
      .orderBy('id')
      .select('id', 'email', 'subject', 'body', 'attempts', 'created_at');
    // MySQL/MariaDB: lock the rows; a concurrent claimer waits, then sees them not due.
    const rows = db.dialect === 'sqlite' ? await select : await select.forUpdate();
    if (rows.length === 0) return [];
    const claimed = rows.map((r: Record<string, unknown>) => Number(r.id));
    await tx
      .knex(db.t.notifications)
      .whereIn('id', claimed)
      .update({ attempts: trx.raw('attempts + 1'), next_attempt_at: leaseUntil });
    return rows.map((r: Record<string, unknown>) => ({
      id: Number(r.id),
      email: String(r.email),
      subject: String(r.subject),
      body: String(r.body),
      attempts: Number(r.attempts) + 1,
      created_at: Number(r.created_at),
    }));
  });
}

/** The SMTP server accepted the notice. */
export async function markNotificationSent(db: Db, id: number, now: number): Promise<void> {
  await db.knex(db.t.notifications).where({ id, status: 'pending' }).update({ status: 'sent', sent_at: now, last_error: null });
}

/** The attempt failed: retry at `retryAt`, or give up (`failed`) when there is no retry left. */
export async function markNotificationAttemptFailed(db: Db, id: number, error: string, retryAt: number | null): Promise<void> {
  await db
    .knex(db.t.notifications)
    .where({ id, status: 'pending' })
    .update(retryAt === null ? { status: 'failed', last_error: error } : { last_error: error, next_attempt_at: retryAt });
}

/**
 * A claimed notice that was never tried (the delivery stopped early, e.g. the SMTP server is down):
 * give the attempt back and make it due again.
 */
export async function releaseNotification(db: Db, id: number, attemptsBefore: number, dueAt: number): Promise<void> {
  await db.knex(db.t.notifications).where({ id, status: 'pending' }).update({ attempts: attemptsBefore, next_attempt_at: dueAt });
}

export interface NotificationQuery {
  status?: NotificationStatus;
  userId?: string;
  limit: number;
}

/** The outbox, newest first. */
export async function listNotifications(db: Db, q: NotificationQuery): Promise<NotificationRow[]> {
  const query = db.knex(db.t.notifications).select('*');
  if (q.status !== undefined) query.where('status', q.status);
  if (q.userId !== undefined) query.where('user_id', q.userId);
  const rows = await query
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(q.limit);
  return rows.map(toRow);
}

/** How many notices wait, and how many of those are due at `now`. */
export async function countPendingNotifications(db: Db, now: number): Promise<{ pending: number; due: number }> {
  const r = await db
    .knex(db.t.notifications)
    .where('status', 'pending')
    .select(db.knex.raw('count(*) as pending'), db.knex.raw('sum(case when next_attempt_at <= ? then 1 else 0 end) as due', [now]))
    .first();
  return { pending: Number(r?.pending ?? 0), due: Number(r?.due ?? 0) };
}
