/**
 * Conflict retries (issue 15) and driver messages without SQL (issue 15, "no driver message ever
 * carries SQL text"), on the real databases. The cluster-wide behaviour is in test/cluster/.
 *
 * - a real InnoDB deadlock between two withWriteTransaction calls: the victim is run again from
 *   the start and both commit; the retry is counted;
 * - knex.transaction (not through the helper) and an autocommit statement are retried too;
 * - a transaction that keeps failing gives up after the bounded attempts with one clean line;
 * - a constraint violation's message holds neither the statement nor the bound values.
 */
import type { Knex } from 'knex';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PortalMfaError } from '../../src/core/errors.js';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { retryCounters } from '../../src/db/conflictRetry.js';
import { EXIT_CODES } from '../../src/cli/exitCodes.js';
import { describeDatabaseError } from '../../src/db/databaseErrors.js';
import { withWriteTransaction } from '../../src/db/transaction.js';
import { parseDatabaseUrl } from '../../src/db/url.js';
import { describeEachDatabase } from '../support/databases.js';

const SECRET_VALUE = 'carol.secret-value@acme.example';

/** What the CLI would print for an error (message and hint). */
const shown = (e: PortalMfaError) => `${e.message} (${e.hint ?? ''})`;

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describeEachDatabase('driver messages without SQL', (getDb) => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase(parseDatabaseUrl(getDb().url), { create: true });
    await db.knex.schema.createTable('pm_probe', (t) => {
      t.increments('id');
      t.string('email', 100).notNullable().unique();
    });
    await db.knex('pm_probe').insert({ email: SECRET_VALUE });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('a unique violation: one line, no statement, no bound value, exit 10', async () => {
    const e = await caught(db.knex('pm_probe').insert({ email: SECRET_VALUE }));
    // knex puts the statement (with the bound email) in front of the driver message
    expect(String((e as Error).message)).toMatch(/insert into/i);
    const err = describeDatabaseError(e, db.target);
    expect(EXIT_CODES[err.kind]).toBe(10);
    expect(shown(err)).not.toMatch(/insert into|pm_probe`? \(|values/i);
    expect(shown(err)).not.toContain(SECRET_VALUE);
    expect(shown(err)).not.toMatch(/[\r\n]/);
    expect(shown(err)).toMatch(/duplicate|unique/i);
  });

  it('a syntax error in raw SQL shows no SQL either', async () => {
    const e = await caught(db.knex.raw(`select email from pm_probe where email = '${SECRET_VALUE}' and and`));
    const err = describeDatabaseError(e, db.target);
    expect(shown(err)).not.toContain(SECRET_VALUE);
    expect(shown(err)).not.toMatch(/select email/i);
  });
});

describeEachDatabase('conflict retries', (getDb) => {
  let db: Database;
  let url = '';
  let mysqlOnly = false;
  beforeAll(async () => {
    url = getDb().url;
    db = await openDatabase(parseDatabaseUrl(url), { create: true });
    mysqlOnly = db.dialect !== 'mysql';
    await db.knex.schema.createTable('pm_rows', (t) => {
      t.integer('id').primary();
      t.integer('v').notNullable();
    });
    await db.knex('pm_rows').insert([
      { id: 1, v: 0 },
      { id: 2, v: 0 },
    ]);
    // withWriteTransaction takes SQLite's write lock through this table (normally made by db migrate)
    if (db.dialect === 'sqlite') await db.knex.schema.createTable('mfa_knex_migrations_lock', (t) => t.integer('is_locked'));
  });
  afterAll(async () => {
    await db?.close();
  });

  const values = async (knex: Knex) => (await knex('pm_rows').orderBy('id').pluck('v')).map(Number);

  it('an error of the work itself (a typed refusal) is passed on at once, not retried', async () => {
    let runs = 0;
    const e = await caught(
      withWriteTransaction(db.store, async (tx) => {
        runs++;
        await tx.knex('pm_rows').where({ id: 1 }).increment('v', 100);
        throw new PortalMfaError('wrong_state', 'changed by another process');
      }),
    );
    expect(e).toBeInstanceOf(PortalMfaError);
    expect(runs).toBe(1);
    expect(await values(db.knex)).toEqual([0, 0]);
  });

  it('a real deadlock between two write transactions: the victim runs again from the start, both commit', async (ctx) => {
    if (mysqlOnly) ctx.skip();
    const before = retryCounters.transactionRetries;
    // each transaction locks one row, waits until the other holds its row, then wants the other's
    let holding = 0;
    const bothHold = async () => {
      holding++;
      const deadline = Date.now() + 5000;
      while (holding < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    };
    const runs = { a: 0, b: 0 };
    const tx = (name: 'a' | 'b', first: number, second: number) =>
      withWriteTransaction(db.store, async (tx) => {
        runs[name]++;
        await tx.knex('pm_rows').where({ id: first }).increment('v', 1);
        if (runs[name] === 1) await bothHold();
        await tx.knex('pm_rows').where({ id: second }).increment('v', 10);
      });
    await Promise.all([tx('a', 1, 2), tx('b', 2, 1)]);
    // the victim's first run was rolled back completely: each transaction counted exactly once
    expect(await values(db.knex)).toEqual([11, 11]);
    expect(runs.a + runs.b, 'one of the two ran twice').toBe(3);
    expect(retryCounters.transactionRetries - before).toBe(1);
  });

  it('knex.transaction outside the helper is retried the same way', async (ctx) => {
    if (mysqlOnly) ctx.skip();
    await db.knex('pm_rows').update({ v: 0 });
    let holding = 0;
    const runs = { a: 0, b: 0 };
    const tx = (name: 'a' | 'b', first: number, second: number) =>
      db.knex.transaction(async (trx) => {
        runs[name]++;
        await trx('pm_rows').where({ id: first }).increment('v', 1);
        if (runs[name] === 1) {
          holding++;
          const deadline = Date.now() + 5000;
          while (holding < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        }
        await trx('pm_rows').where({ id: second }).increment('v', 10);
      });
    await Promise.all([tx('a', 1, 2), tx('b', 2, 1)]);
    expect(await values(db.knex)).toEqual([11, 11]);
    expect(runs.a + runs.b).toBe(3);
  });

  it('an autocommit statement that times out on a row lock is sent again and applied once', async (ctx) => {
    if (mysqlOnly) ctx.skip();
    await db.knex('pm_rows').update({ v: 0 });
    const before = retryCounters.statementRetries;
    const holder = await mysql.createConnection({ uri: url });
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT * FROM pm_rows WHERE id = 1 FOR UPDATE');
      const release = new Promise<void>((r) => setTimeout(() => void holder.query('COMMIT').then(() => r()), 1500));
      // waits at most 1 s per attempt: the first attempt fails with ER_LOCK_WAIT_TIMEOUT
      await db.knex.raw('SET STATEMENT innodb_lock_wait_timeout = 1 FOR UPDATE pm_rows SET v = v + 1 WHERE id = 1');
      await release;
    } finally {
      await holder.end();
    }
    expect(await values(db.knex)).toEqual([1, 0]);
    expect(retryCounters.statementRetries - before).toBeGreaterThanOrEqual(1);
  });

  it('a transaction that keeps conflicting gives up after the bounded attempts: one line, exit 10, no SQL', async (ctx) => {
    if (mysqlOnly) ctx.skip();
    const before = retryCounters.gaveUp;
    const holder = await mysql.createConnection({ uri: url });
    let runs = 0;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT * FROM pm_rows WHERE id = 2 FOR UPDATE');
      const e = await caught(
        withWriteTransaction(
          db.store,
          async (tx) => {
            runs++;
            await tx.knex.raw('SET STATEMENT innodb_lock_wait_timeout = 1 FOR UPDATE pm_rows SET v = v + 1 WHERE id = 2');
          },
          { attempts: 3, baseMs: 1, capMs: 5 },
        ),
      );
      expect(runs).toBe(3);
      expect(retryCounters.gaveUp - before).toBe(1);
      const err = describeDatabaseError(e, db.target);
      expect(EXIT_CODES[err.kind]).toBe(10);
      expect(shown(err)).toMatch(/conflicting concurrent changes \(tried 3 times\)/);
      expect(shown(err)).not.toMatch(/update|pm_rows|SET STATEMENT/i);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(await values(db.knex)).toEqual([1, 0]);
  }, 20_000);
});
