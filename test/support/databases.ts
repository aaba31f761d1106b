/**
 * Per-suite test databases for both supported dialects.
 *
 *   describeEachDatabase('enrol', (getDb) => {
 *     let knex: Knex;
 *     beforeAll(() => { knex = connect(getDb().url); });
 *     afterAll(() => knex.destroy());          // close connections before the DB is dropped
 *     it('works', async () => { ... });
 *   });
 *
 * The MariaDB server comes from test/support/globalSetup.ts (inject('mysqlServerUrl')).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import type {} from './globalSetup.js'; // ProvidedContext typing

export type Dialect = 'sqlite' | 'mysql';

export interface TestDatabase {
  dialect: Dialect;
  /**
   * portal-mfa DB URL:
   *   'sqlite:/tmp/portal-mfa-sqlite-XXXXXX/portal.db' (file not created yet), or
   *   'mysql://pmfa:pmfa-test-pw@127.0.0.1:PORT/pmfa_test_<hex>' (empty database, utf8mb4_unicode_ci).
   */
  url: string;
  /** Removes the temp dir / DROP DATABASE. Idempotent. Close your connections first. */
  drop(): Promise<void>;
}

function mysqlServerUrl(): string {
  return inject('mysqlServerUrl') ?? '';
}

export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'portal-mfa-sqlite-'));
    let dropped = false;
    return {
      dialect,
      url: `sqlite:${path.join(dir, 'portal.db')}`,
      async drop() {
        if (dropped) return;
        dropped = true;
        await rm(dir, { recursive: true, force: true });
      },
    };
  }

  const serverUrl = mysqlServerUrl();
  if (!serverUrl) {
    throw new Error(`createTestDatabase('mysql'): no MariaDB server (${inject('mysqlSkipReason') || 'globalSetup did not run?'})`);
  }
  const name = `pmfa_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;

  const admin = async <T>(fn: (conn: mysql.Connection) => Promise<T>): Promise<T> => {
    const conn = await mysql.createConnection({ uri: serverUrl, connectTimeout: 10_000 });
    try {
      return await fn(conn);
    } finally {
      await conn.end().catch(() => {});
    }
  };

  await admin((c) => c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`));

  let dropped = false;
  return {
    dialect,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin(async (c) => {
        // Don't hang forever on metadata locks held by connections a test forgot to close.
        await c.query('SET SESSION lock_wait_timeout = 20');
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      });
    },
  };
}

/** Both dialects; `skip` is the reason string when the dialect cannot run here. */
const dialects: { dialect: Dialect; skip: string | false }[] = [
  { dialect: 'sqlite', skip: false },
  {
    dialect: 'mysql',
    skip: mysqlServerUrl() ? false : inject('mysqlSkipReason') || 'no MariaDB server provided by globalSetup',
  },
];

/**
 * Runs `body` once per dialect, inside `describe('<name> [<dialect>]')`. For each suite a fresh
 * TestDatabase is created in beforeAll and dropped in afterAll (registered before `body`'s hooks,
 * so with the default 'stack' hook order it is created first and dropped last). getDb() is only
 * valid inside hooks/tests. A dialect that cannot run uses describe.skip with the reason in the
 * title, so the reporter shows "<name> [mysql] (skipped: <reason>)".
 */
export function describeEachDatabase(name: string, body: (getDb: () => TestDatabase) => void): void {
  for (const { dialect, skip } of dialects) {
    if (skip) {
      describe.skip(`${name} [${dialect}] (skipped: ${skip})`, () => {
        body(() => {
          throw new Error(`${dialect} database unavailable: ${skip}`);
        });
      });
      continue;
    }
    describe(`${name} [${dialect}]`, () => {
      let db: TestDatabase | undefined;
      beforeAll(async () => {
        db = await createTestDatabase(dialect);
      });
      afterAll(async () => {
        await db?.drop();
      });
      body(() => {
        if (!db) throw new Error(`getDb() called before the ${dialect} test database was created (use it inside hooks/tests)`);
        return db;
      });
    });
  }
}
