import type { Knex } from 'knex';
import { type Db, within } from './store.js';
import { retryOnConflict, type RetryPolicy, DEFAULT_RETRY } from './conflictRetry.js';

/** knex.transaction as knex made it, for knex instances whose `transaction` retryConflicts() replaced. */
const plainTransaction = new WeakMap<Knex, Knex['transaction']>();

/**
 * Run fn in one transaction that will write, and run it again from the start if the database
 * refuses it because of a concurrent change (deadlock, lock wait timeout, Galera certification
 * conflict — see conflictRetry.ts): callers never retry. fn must therefore do nothing but
 * database work through `trx` (it may run several times; only the last run commits).
 *
 * On SQLite the transaction first takes the write lock (a no-op UPDATE), so two processes never
 * both read and then both try to upgrade — the busy timeout then serialises them instead of
 * failing one with SQLITE_BUSY.
 *
 * Inside another transaction (knex is a Transaction) nothing is retried here: the conflict has
 * rolled back the outer transaction too, so only the outermost level can start again.
 */
export async function withWriteTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  const knex = db.knex as Knex;
  const sqlite = db.dialect === 'sqlite';
  const begin = plainTransaction.get(knex) ?? ((c: (trx: Knex.Transaction) => Promise<T>) => knex.transaction(c));
  const once = () =>
    begin(async (trx: Knex.Transaction) => {
      // any cheap write takes SQLite's write lock; portal-mfa's migration lock table always exists
      if (sqlite) await trx.raw(`UPDATE ${db.t.knex_migrations_lock} SET is_locked = is_locked WHERE 1 = 0`);
      return fn(within(db, trx));
    }) as Promise<T>;
  if (sqlite || knex.isTransaction) return once();
  return retryOnConflict('transaction', once, policy);
}

/**
 * Make every write on a MySQL/MariaDB knex instance conflict-safe, also where the caller does not
 * go through withWriteTransaction:
 * - `knex.transaction(fn)` runs fn again from the start on a conflict (as withWriteTransaction);
 * - a statement outside any transaction (autocommit, e.g. an audit insert) is sent again on a
 *   conflict. Statements inside a transaction are never re-sent one by one: the conflict rolled
 *   back the whole transaction, so the transaction is what is retried.
 * Installed once by openDatabase (connect.ts).
 */
export function retryConflicts(knex: Knex, policy: RetryPolicy = DEFAULT_RETRY): void {
  if (isSqlite(knex) || plainTransaction.has(knex)) return;
  const original = knex.transaction.bind(knex) as Knex['transaction'];
  plainTransaction.set(knex, original);
  const retrying = ((container?: unknown, config?: unknown) => {
    if (typeof container !== 'function') return (original as (...a: unknown[]) => unknown)(container, config);
    return retryOnConflict('transaction', () => (original as (...a: unknown[]) => Promise<unknown>)(container, config), policy);
  }) as Knex['transaction'];
  Object.defineProperty(knex, 'transaction', { value: retrying, configurable: true, writable: true });

  // The root client runs only statements outside transactions: a transaction gets its own client
  // object (knex's makeTxClient builds it from the prototype, so this instance override is not
  // inherited by it).
  const client = knex.client as { query: (conn: unknown, obj: unknown) => Promise<unknown> };
  const query = client.query;
  client.query = function (this: unknown, conn: unknown, obj: unknown) {
    return retryOnConflict('statement', () => query.call(this, conn, obj), policy);
  };
}

export function isSqlite(knex: Knex): boolean {
  return knex.client.config.client === 'better-sqlite3';
}

/**
 * Rows per multi-row INSERT: knex writes a SQLite multi-row insert as a compound SELECT, and SQLite
 * allows at most 500 terms in one.
 */
export const INSERT_BATCH_ROWS = 250;
