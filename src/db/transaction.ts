import type { Knex } from 'knex';

/**
 * Run fn in one transaction that will write. On SQLite the transaction first takes the write
 * lock (a no-op UPDATE), so two processes never both read and then both try to upgrade — the
 * busy timeout then serialises them instead of failing one with SQLITE_BUSY.
 */
export async function withWriteTransaction<T>(knex: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const sqlite = isSqlite(knex);
  return knex.transaction(async (trx) => {
    if (sqlite) await trx.raw('UPDATE knex_migrations_lock SET is_locked = is_locked WHERE 1 = 0');
    return fn(trx);
  });
}

export function isSqlite(knex: Knex): boolean {
  return knex.client.config.client === 'better-sqlite3';
}
