/**
 * Issue 22, the application's own database handle: `openPortalMfa({ knex })` works over the app's
 * knex instance and pool, patches nothing of it (its `transaction` and client are the app's own),
 * and `close()` leaves it open; `migrate()` / `schemaStatus()` do what `db migrate` / `db status` do.
 * Bad database options are invalid_input before anything is opened. SQLite and MariaDB.
 */
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKeyBase64 } from '../../src/core/primitives/secretBox.js';
import { isPortalMfaError, migrate, openPortalMfa, schemaStatus, type PortalMfaError } from '../../src/index.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.js';
import { openWorld, type World } from '../support/world.js';

function appKnex(url: string): Knex {
  if (url.startsWith('sqlite:'))
    return knexFactory({ client: 'better-sqlite3', connection: { filename: url.slice('sqlite:'.length) }, useNullAsDefault: true });
  return knexFactory({ client: 'mysql2', connection: url, pool: { min: 0, max: 3 } });
}

async function failure(p: Promise<unknown>): Promise<PortalMfaError> {
  try {
    await p;
  } catch (e) {
    expect(isPortalMfaError(e), String(e)).toBe(true);
    return e as PortalMfaError;
  }
  throw new Error('expected a failure');
}

describeEachDatabase("the application's knex instance (issue 22)", (getDb) => {
  let w: World;
  let knex: Knex;
  let fresh: TestDatabase;

  beforeAll(async () => {
    w = await openWorld(getDb().url);
    knex = appKnex(getDb().url);
    fresh = await createTestDatabase(getDb().dialect);
  });
  afterAll(async () => {
    await knex?.destroy();
    await w?.close();
    await fresh?.drop();
  });

  it('signs in over the app’s pool; nothing of the instance is patched; close() leaves it open', async () => {
    const transaction = knex.transaction;
    const query = (knex.client as { query: unknown }).query;
    const mfa = await openPortalMfa({ knex, keys: [generateKeyBase64()] });
    const actor = await mfa.signIn({ email: 'devon@example.com', password: w.password('devon@example.com'), action: 'portal.login', secondFactor: {} });
    expect(actor.user.email).toBe('devon@example.com');
    expect(await mfa.status(actor, {})).toMatchObject({ email: 'devon@example.com', state: 'none' });
    await mfa.close();
    expect(knex.transaction).toBe(transaction);
    expect((knex.client as { query: unknown }).query).toBe(query);
    const [row] = await knex.raw('select 1 as ok').then((r: unknown) => (Array.isArray(r) && Array.isArray(r[0]) ? r[0] : r) as { ok: number }[]);
    expect(Number(row!.ok)).toBe(1);
  });

  it('migrate() creates only prefixed tables and is audited; schemaStatus() reports it; a second migrate applies nothing', async () => {
    const url = fresh.url;
    const app = appKnex(url);
    try {
      // a SQLite file is created by migrate; a MariaDB database exists empty
      expect(await failure(openPortalMfa({ knex: app, keys: [generateKeyBase64()] }))).toMatchObject({ code: 'config' });
      const before = await schemaStatus({ knex: app });
      expect(before).toMatchObject({ current: false, applied: [] });
      expect(before.pending.length).toBeGreaterThan(0);
      const first = await migrate({ knex: app, origin: { host: 'deploy-host', osUser: 'ci' } });
      expect(first.applied).toEqual(before.pending);
      expect(await schemaStatus({ knex: app })).toMatchObject({ current: true, pending: [], newer: [], legacy: false });
      expect((await migrate({ knex: app })).applied).toEqual([]);
      const audit = await app('mfa_audit_events').where({ action: 'db.migrate' }).select('outcome', 'host', 'os_user');
      expect(audit).toEqual([{ outcome: 'success', host: 'deploy-host', os_user: 'ci' }]);
      const tables: string[] =
        getDb().dialect === 'sqlite'
          ? (await app.raw("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")).map((r: { name: string }) => r.name)
          : (await app.raw('show tables'))[0].map((r: Record<string, string>) => Object.values(r)[0]);
      expect(tables.filter((t) => !t.startsWith('mfa_'))).toEqual([]);
    } finally {
      await app.destroy();
    }
  });

  it('bad database options are invalid_input, and nothing is opened', async () => {
    const keys = [generateKeyBase64()];
    expect(await failure(openPortalMfa({ keys } as never))).toMatchObject({ code: 'invalid_input' });
    expect(await failure(openPortalMfa({ keys, knex, databaseUrl: getDb().url }))).toMatchObject({ code: 'invalid_input' });
    expect(await failure(openPortalMfa({ keys, knex, pool: { max: 2 } }))).toMatchObject({ code: 'invalid_input' });
    expect(await failure(openPortalMfa({ keys, databaseUrl: getDb().url, pool: { min: 5, max: 2 } }))).toMatchObject({ code: 'invalid_input' });
    expect(await failure(openPortalMfa({ keys, knex: {} as Knex }))).toMatchObject({ code: 'invalid_config' });
    expect(await failure(schemaStatus({} as never))).toMatchObject({ code: 'invalid_input' });
  });
});
