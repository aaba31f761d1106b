import type { Db } from './store.js';
import type {} from './tables.js';

export interface Budget {
  /** a normalised email, or "user:ID" */
  subject: string;
  bucket: string;
  limit: number;
  windowMs: number;
  now: number;
}

/**
 * Make sure the budget row exists — outside the caller's transaction, as its own statement: an
 * INSERT … IGNORE inside it would take a shared lock that parallel updaters deadlock on (MariaDB).
 */
export async function ensureBudget(db: Db, b: Pick<Budget, 'subject' | 'bucket' | 'now'>): Promise<void> {
  await db.knex(db.t.rate_limits).insert({ subject: b.subject, bucket: b.bucket, window_start: b.now, used: 0 }).onConflict(['subject', 'bucket']).ignore();
}

/**
 * Take one unit of a fixed-window budget, atomically in the database: of N parallel callers at
 * most `limit` get true per window. A window that has passed is restarted by the first caller after it.
 */
export async function takeFromBudget(db: Db, b: Budget): Promise<boolean> {
  await db
    .knex(db.t.rate_limits)
    .where({ subject: b.subject, bucket: b.bucket })
    .andWhere('window_start', '<=', b.now - b.windowMs)
    .update({ window_start: b.now, used: 0 });
  const taken = await db.knex(db.t.rate_limits).where({ subject: b.subject, bucket: b.bucket }).andWhere('used', '<', b.limit).increment('used', 1);
  return Number(taken) === 1;
}

/** The end of a spent budget's window, or null when some is left. */
export async function budgetSpentUntil(db: Db, b: Budget): Promise<number | null> {
  const row = await db.knex(db.t.rate_limits).where({ subject: b.subject, bucket: b.bucket }).first('window_start', 'used');
  if (!row) return null;
  const end = Number(row.window_start) + b.windowMs;
  return end > b.now && Number(row.used) >= b.limit ? end : null;
}

export async function clearBudget(db: Db, b: Pick<Budget, 'subject' | 'bucket'>): Promise<void> {
  await db.knex(db.t.rate_limits).where({ subject: b.subject, bucket: b.bucket }).delete();
}
