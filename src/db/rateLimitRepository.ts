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

/** The row that counts a budget's reservations still in flight (see reserveFromBudget). */
const inFlight = (bucket: string) => `${bucket}:held`;

/** ensureBudget for a budget that is reserved from: its row and its in-flight row. */
export async function ensureReservableBudget(db: Db, b: Pick<Budget, 'subject' | 'bucket' | 'now'>): Promise<void> {
  await db
    .knex(db.t.rate_limits)
    .insert([b.bucket, inFlight(b.bucket)].map((bucket) => ({ subject: b.subject, bucket, window_start: b.now, used: 0 })))
    .onConflict(['subject', 'bucket'])
    .ignore();
}

export type Reservation = { reserved: true; windowStart: number } | { reserved: false; spent: boolean; until: number };

/**
 * Reserve one unit of a budget for an attempt whose outcome is not known yet (a password check),
 * atomically: of N parallel callers at most `limit` hold a unit per window. The attempt then keeps
 * its unit (settleReservation: it counted) or gives it back (refundReservation). `used` counts
 * kept units and reservations in flight; the in-flight row tells them apart, so a caller who gets
 * nothing learns whether the budget is spent (kept units alone reach the limit) or only held by
 * attempts still running (try again shortly). The budget row is always updated first, so callers
 * queue on it and never deadlock.
 */
export async function reserveFromBudget(db: Db, b: Budget): Promise<Reservation> {
  const held = inFlight(b.bucket);
  await db
    .knex(db.t.rate_limits)
    .where({ subject: b.subject, bucket: b.bucket })
    .andWhere('window_start', '<=', b.now - b.windowMs)
    .update({ window_start: b.now, used: 0 });
  const taken = await db.knex(db.t.rate_limits).where({ subject: b.subject, bucket: b.bucket }).andWhere('used', '<', b.limit).increment('used', 1);
  const windowStart = Number((await db.knex(db.t.rate_limits).where({ subject: b.subject, bucket: b.bucket }).first('window_start'))!.window_start);
  // the in-flight count belongs to one window: a new window starts it again
  await db
    .knex(db.t.rate_limits)
    .where({ subject: b.subject, bucket: held })
    .whereNot('window_start', windowStart)
    .update({ window_start: windowStart, used: 0 });
  if (Number(taken) === 1) {
    await db.knex(db.t.rate_limits).where({ subject: b.subject, bucket: held }).increment('used', 1);
    return { reserved: true, windowStart };
  }
  // both counts in one statement: one consistent reading, whatever the isolation level
  const rows = await db.knex(db.t.rate_limits).where('subject', b.subject).whereIn('bucket', [b.bucket, held]).select('bucket', 'used');
  const count = (bucket: string) => Number(rows.find((r) => r.bucket === bucket)?.used ?? 0);
  return { reserved: false, spent: count(b.bucket) - count(held) >= b.limit, until: windowStart + b.windowMs };
}

/** The attempt counted: its unit stays used (if its window is still the current one). */
export async function settleReservation(db: Db, b: Pick<Budget, 'subject' | 'bucket'>, windowStart: number): Promise<void> {
  await db
    .knex(db.t.rate_limits)
    .where({ subject: b.subject, bucket: inFlight(b.bucket), window_start: windowStart })
    .andWhere('used', '>', 0)
    .decrement('used', 1);
}

/** The attempt did not count: its unit is given back (if its window is still the current one). */
export async function refundReservation(db: Db, b: Pick<Budget, 'subject' | 'bucket'>, windowStart: number): Promise<void> {
  await db.knex(db.t.rate_limits).where({ subject: b.subject, bucket: b.bucket, window_start: windowStart }).andWhere('used', '>', 0).decrement('used', 1);
  await settleReservation(db, b, windowStart);
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
