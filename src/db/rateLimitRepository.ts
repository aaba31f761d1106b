import type { Knex } from 'knex';

/**
 * Take one unit of a per-user fixed-window budget, atomically in the database: of N parallel
 * callers at most `limit` get true per window. A window that has passed is restarted by the
 * first caller after it.
 */
export async function takeFromBudget(
  trx: Knex.Transaction,
  q: { userId: number; bucket: string; limit: number; windowMs: number; now: number },
): Promise<boolean> {
  await trx('rate_limits')
    .where({ user_id: q.userId, bucket: q.bucket })
    .andWhere('window_start', '<=', q.now - q.windowMs)
    .update({ window_start: q.now, used: 0 });
  const taken = await trx('rate_limits')
    .where({ user_id: q.userId, bucket: q.bucket })
    .andWhere('used', '<', q.limit)
    .increment('used', 1);
  return Number(taken) === 1;
}

/**
 * Make sure the user's budget row exists — outside the caller's transaction, as its own statement:
 * an INSERT … IGNORE inside it would take a shared lock that parallel updaters deadlock on.
 */
export async function ensureBudget(knex: Knex, userId: number, bucket: string, now: number): Promise<void> {
  await knex('rate_limits').insert({ user_id: userId, bucket, window_start: now, used: 0 }).onConflict(['user_id', 'bucket']).ignore();
}

/** The end of a spent budget's window, or null when some is left. */
export async function budgetSpentUntil(knex: Knex, q: { userId: number; bucket: string; limit: number; windowMs: number; now: number }): Promise<number | null> {
  const row = await knex('rate_limits').where({ user_id: q.userId, bucket: q.bucket }).first('window_start', 'used');
  if (!row) return null;
  const end = Number(row.window_start) + q.windowMs;
  return end > q.now && Number(row.used) >= q.limit ? end : null;
}

export async function clearBudget(trx: Knex.Transaction, userId: number, bucket: string): Promise<void> {
  await trx('rate_limits').where({ user_id: userId, bucket }).delete();
}
