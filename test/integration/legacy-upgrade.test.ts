/**
 * Issue 19 item 2: an installation from before the identity mapping (unprefixed tables, bookkeeping
 * in `knex_migrations`) migrates forward without losing MFA state. Its `users`, `organisations` and
 * `organisation_members` become the demo portal's identity tables, untouched; everything else that
 * was portal-mfa's is carried into the prefixed tables and the old tables are dropped.
 *
 * The legacy installation is built with the old migrations themselves (test/fixtures/legacy-migrations)
 * and filled with rows as the old code wrote them. On MySQL/MariaDB, where DDL commits implicitly, an
 * upgrade stopped at any step must be completed by the next `db migrate`; on SQLite it must leave
 * nothing changed at all.
 */
import type { Knex } from 'knex';
import { afterEach, expect, it } from 'vitest';
import { PortalMfaError } from '../../src/core/errors.js';
import { openDatabase } from '../../src/db/connect.js';
import { DEMO_MAPPING } from '../../src/db/identity/presets.js';
import { legacyCredentialsTable, upgradeLegacySchema } from '../../src/db/legacyUpgrade.js';
import { ensureSchemaCurrent, knownMigrations, migrateLatest, migrationState, rollbackLast } from '../../src/db/schema.js';
import { type Db, makeDb } from '../../src/db/store.js';
import { listTables } from '../../src/db/tableList.js';
import { parseDatabaseUrl } from '../../src/db/url.js';
import { MIGRATIONS as LEGACY_MIGRATIONS } from '../fixtures/legacy-migrations/index.js';
import { createTestDatabase, type Dialect, describeEachDatabase, type TestDatabase } from '../support/databases.js';

/** what db migrate applies to a legacy installation: every migration of this version, in one batch */
const NEW_MIGRATIONS = ['20261203000001_own_tables', '20261204000001_challenges', '20261204000002_service_keys'];
const IDENTITY_TABLES = ['users', 'organisations', 'organisation_members'];
const T0 = Date.UTC(2026, 10, 20, 9, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FAR = Date.UTC(2030, 0, 1);

type Row = Record<string, unknown>;

/** legacy table → role of the new table, and its columns that held integer user/organisation ids */
const CARRIED: { from: string; role: keyof Db['t']; asText: string[]; added?: Row }[] = [
  { from: 'mfa_credentials', role: 'credentials', asText: ['user_id'], added: { failures_at_lock: 0, lock_count: 0 } },
  { from: 'trusted_devices', role: 'trusted_devices', asText: ['user_id'] },
  { from: 'recovery_codes', role: 'recovery_codes', asText: ['user_id'] },
  { from: 'access_codes', role: 'access_codes', asText: ['user_id', 'issued_by_user_id'] },
  { from: 'cli_sessions', role: 'sessions', asText: ['user_id'] },
  { from: 'rate_limits', role: 'rate_limits', asText: [] },
  { from: 'audit_events', role: 'audit_events', asText: ['actor_user_id', 'target_user_id', 'organisation_id'], added: { request: null } },
  { from: 'notifications', role: 'notifications', asText: ['user_id'] },
  { from: 'maintenance_locks', role: 'maintenance_locks', asText: [] },
];
const LEGACY_OWN = [...CARRIED.map((c) => c.from), 'knex_migrations', 'knex_migrations_lock'];

const legacySource: Knex.MigrationSource<string> = {
  getMigrations: async () => LEGACY_MIGRATIONS.map((m) => m.name),
  getMigrationName: (name) => name,
  getMigration: async (name) => LEGACY_MIGRATIONS.find((m) => m.name === name)!.module,
};

/** An installation of the last unprefixed version, with realistic MFA state. */
async function buildLegacy(knex: Knex): Promise<void> {
  await knex.migrate.latest({ migrationSource: legacySource, tableName: 'knex_migrations' });
  await insertEach(knex, 'organisations', [
    {
      id: 1,
      slug: 'acme',
      name: 'Acme Corp',
      mfa_required: true,
      grace_days: 14,
      mfa_required_since: T0 - 3 * DAY,
      device_trust_allowed: false,
      created_at: T0 - 90 * DAY,
    },
    { id: 2, slug: 'partners', name: 'Partners Ltd', created_at: T0 - 60 * DAY },
  ]);
  await insertEach(knex, 'users', [
    {
      id: 1,
      email: 'alice@acme.example',
      name: 'Alice Admin',
      password_hash: '$2b$04$aliceHASHaliceHASHaliceHASHaliceHASHaliceHASHaliceHA',
      created_at: T0 - 80 * DAY,
    },
    {
      id: 2,
      email: 'bob@acme.example',
      name: 'Bob Builder',
      password_hash: '$2b$04$bobHASHbobHASHbobHASHbobHASHbobHASHbobHASHbobHASHbob',
      created_at: T0 - 70 * DAY,
    },
    {
      id: 3,
      email: 'carol@partners.example',
      name: 'Carol',
      password_hash: '$2b$04$carolHASHcarolHASHcarolHASHcarolHASHcarolHASHcarol',
      created_at: T0 - 50 * DAY,
    },
    { id: 4, email: 'dave@example.com', name: '', password_hash: '$2b$04$daveHASHdaveHASHdaveHASHdaveHASHdaveHASHdaveHASHda', created_at: T0 - 40 * DAY },
    {
      id: 7,
      email: 'sam@support.example',
      name: 'Sam Support',
      password_hash: '$2b$04$samHASHsamHASHsamHASHsamHASHsamHASHsamHASHsamHASHsam',
      role: 'support',
      created_at: T0 - 100 * DAY,
    },
  ]);
  await insertEach(knex, 'organisation_members', [
    { organisation_id: 1, user_id: 1, role: 'admin', created_at: T0 - 80 * DAY, joined_at: T0 - 80 * DAY },
    { organisation_id: 1, user_id: 2, role: 'member', created_at: T0 - 70 * DAY, joined_at: T0 - 70 * DAY },
    { organisation_id: 2, user_id: 3, role: 'admin', created_at: T0 - 50 * DAY, joined_at: T0 - 50 * DAY },
    { organisation_id: 2, user_id: 2, role: 'member', created_at: T0 - 20 * DAY, joined_at: null },
  ]);
  await insertEach(knex, 'mfa_credentials', [
    {
      id: 3,
      user_id: 1,
      status: 'active',
      secret_ciphertext: 'v1:k1:aliceNONCE:aliceCIPHERTEXT:aliceTAG',
      key_id: 'k1',
      created_at: T0 - 79 * DAY,
      confirmed_at: T0 - 79 * DAY + 60_000,
      last_used_at: T0 - HOUR,
      last_accepted_step: Math.floor((T0 - HOUR) / 30_000),
    },
    {
      id: 5,
      user_id: 2,
      status: 'active',
      secret_ciphertext: 'v1:k2:bobNONCE:bobCIPHERTEXT:bobTAG',
      key_id: 'k2',
      created_at: T0 - 60 * DAY,
      confirmed_at: T0 - 60 * DAY + 90_000,
      last_used_at: T0 - 2 * DAY,
      last_accepted_step: Math.floor((T0 - 2 * DAY) / 30_000),
      consecutive_failures: 7,
      locked_until: T0 + 15 * 60_000,
      hard_locked_at: null,
    },
    // Bob is replacing his device: the new one is pending beside the active one (rule 7)
    { id: 6, user_id: 2, status: 'pending', secret_ciphertext: 'v1:k2:bob2NONCE:bob2CIPHER:bob2TAG', key_id: 'k2', created_at: T0 - HOUR },
    { id: 8, user_id: 3, status: 'pending', secret_ciphertext: 'v1:k2:carolNONCE:carolCIPHER:carolTAG', key_id: 'k2', created_at: T0 - 2 * HOUR },
    {
      id: 9,
      user_id: 4,
      status: 'active',
      secret_ciphertext: 'v1:k1:daveNONCE:daveCIPHER:daveTAG',
      key_id: 'k1',
      created_at: T0 - 30 * DAY,
      confirmed_at: T0 - 30 * DAY,
      consecutive_failures: 100,
      hard_locked_at: T0 - DAY,
    },
  ]);
  await insertEach(knex, 'trusted_devices', [
    { id: 7, user_id: 1, token_hash: 'a'.repeat(64), label: 'alice-laptop', created_at: T0 - 10 * DAY, last_used_at: T0 - HOUR, expires_at: T0 + 20 * DAY },
    { id: 12, user_id: 2, token_hash: 'b'.repeat(64), label: 'bob-desktop', created_at: T0 - 40 * DAY, expires_at: T0 - 10 * DAY, revoked_at: T0 - 12 * DAY },
    { id: 13, user_id: 2, token_hash: 'c'.repeat(64), label: '', created_at: T0 - 5 * DAY, expires_at: T0 + 25 * DAY },
  ]);
  await insertEach(knex, 'recovery_codes', [
    { id: 21, user_id: 1, code_hash: '$2b$04$recoveryONEhash', created_at: T0 - 79 * DAY, used_at: T0 - 5 * DAY },
    { id: 22, user_id: 1, code_hash: '$2b$04$recoveryTWOhash', created_at: T0 - 79 * DAY },
    { id: 23, user_id: 2, code_hash: '$2b$04$recoveryBOBhash', created_at: T0 - 60 * DAY },
  ]);
  await insertEach(knex, 'access_codes', [
    {
      id: 4,
      user_id: 3,
      code_hash: '$2b$04$accessCODEhash',
      created_at: T0 - HOUR,
      expires_at: T0 + HOUR,
      uses_left: 1,
      failed_attempts: 1,
      issued_by_user_id: 7,
      issued_by_email: 'sam@support.example',
      ticket: 'SUP-1234',
    },
  ]);
  await insertEach(knex, 'cli_sessions', [
    { id: 11, user_id: 1, token_hash: 'd'.repeat(64), created_at: T0 - HOUR, expires_at: T0 + 11 * HOUR, host: 'alice-laptop', os_user: 'alice' },
    {
      id: 12,
      user_id: 3,
      token_hash: 'e'.repeat(64),
      created_at: T0 - 30 * 60_000,
      expires_at: T0 + 11 * HOUR,
      ended_at: T0 - 10 * 60_000,
      host: 'carol-pc',
      os_user: 'carol',
      restriction: 'access-code',
    },
  ]);
  await insertEach(knex, 'rate_limits', [
    { subject: 'bob@acme.example', bucket: 'password', window_start: T0 - 5 * 60_000, used: 3 },
    { subject: 'user:2', bucket: 'diagnose', window_start: T0 - 10 * 60_000, used: 1 },
  ]);
  await insertEach(knex, 'audit_events', [
    {
      id: 101,
      occurred_at: T0 - 79 * DAY,
      actor_user_id: 1,
      actor_email: 'alice@acme.example',
      target_user_id: 1,
      target_email: 'alice@acme.example',
      action: 'enroll.confirm',
      outcome: 'success',
      host: 'alice-laptop',
      os_user: 'alice',
    },
    {
      id: 102,
      occurred_at: T0 - 3 * DAY,
      actor_user_id: 1,
      actor_email: 'alice@acme.example',
      organisation_id: 1,
      organisation_slug: 'acme',
      action: 'org.policy',
      outcome: 'success',
      detail: JSON.stringify({ mfaRequired: true, graceDays: 14 }),
      host: 'alice-laptop',
      os_user: 'alice',
    },
    {
      id: 103,
      occurred_at: T0 - HOUR,
      actor_user_id: 7,
      actor_email: 'sam@support.example',
      target_user_id: 3,
      target_email: 'carol@partners.example',
      action: 'access-code.issue',
      outcome: 'success',
      ticket: 'SUP-1234',
      reason: 'lost phone',
      host: 'support-1',
      os_user: 'sam',
    },
  ]);
  await insertEach(knex, 'notifications', [
    {
      id: 31,
      user_id: 1,
      email: 'alice@acme.example',
      event: 'mfa-enabled',
      subject: 'MFA enabled',
      body: 'Hello Alice',
      status: 'sent',
      attempts: 1,
      next_attempt_at: T0 - 79 * DAY,
      created_at: T0 - 79 * DAY,
      sent_at: T0 - 79 * DAY + 1000,
    },
    {
      id: 32,
      user_id: 3,
      email: 'carol@partners.example',
      event: 'access-code-issued',
      subject: 'An access code was issued',
      body: 'Hello Carol',
      status: 'pending',
      attempts: 2,
      last_error: '421 try again later',
      next_attempt_at: T0 + 60_000,
      created_at: T0 - HOUR,
    },
  ]);
  // a lock left by a finished `keys rotate` (expired): not held
  await knex('maintenance_locks').insert({ name: 'keys-rotate', holder: 'ops@host-1 (pid 4242)', acquired_at: T0 - 2 * DAY, expires_at: T0 - 2 * DAY + HOUR });
}

/** One row at a time, as the old code wrote them (a multi-row insert would write NULL, not the default, for a column one row leaves out). */
async function insertEach(knex: Knex, table: string, list: Row[]): Promise<void> {
  for (const row of list) await knex(table).insert(row);
}

async function rows(knex: Knex, table: string): Promise<Row[]> {
  const out = (await knex(table).select('*')) as Row[];
  return out.map((r) => ({ ...r })).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

async function schemaOf(knex: Knex, dialect: Dialect, table: string): Promise<unknown> {
  if (dialect === 'sqlite') return knex.raw(`SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? ORDER BY name`, [table]);
  const [res] = (await knex.raw(`SHOW CREATE TABLE \`${table}\``)) as [Row[]];
  return res;
}

/** Schema and every row of the given tables (all of the database's by default). */
async function dump(knex: Knex, dialect: Dialect, tables?: string[]): Promise<Record<string, { schema: unknown; rows: Row[] }>> {
  const out: Record<string, { schema: unknown; rows: Row[] }> = {};
  for (const t of tables ?? (await listTables(knex))) out[t] = { schema: await schemaOf(knex, dialect, t), rows: await rows(knex, t) };
  return out;
}

/** What the legacy tables hold, to compare the copies with (the old credentials may have been moved aside). */
async function legacyRows(knex: Knex, db: Db): Promise<Record<string, Row[]>> {
  const moved = (await listTables(knex)).includes(legacyCredentialsTable(db));
  const out: Record<string, Row[]> = {};
  for (const t of [...CARRIED.map((c) => c.from), 'organisations'])
    out[t] = await rows(knex, t === 'mfa_credentials' && moved ? legacyCredentialsTable(db) : t);
  return out;
}

/** The same as knex's migrate.latest in src/db/schema.ts, for calling upgradeLegacySchema directly. */
function runLatestFor(db: Db) {
  const list = knownMigrations(db);
  const migrationSource: Knex.MigrationSource<string> = {
    getMigrations: async () => list.map((m) => m.name),
    getMigrationName: (name) => name,
    getMigration: async (name) => list.find((m) => m.name === name)!.module,
  };
  return async (trx?: Knex.Transaction) => {
    const [, names] = (await (trx ?? db.root).migrate.latest({ migrationSource, tableName: db.t.knex_migrations })) as [number, string[]];
    return names;
  };
}

interface Installation {
  test: TestDatabase;
  knex: Knex;
  db: Db;
}

async function assertUpgraded(inst: Installation, source: Record<string, Row[]>, identity: Awaited<ReturnType<typeof dump>>): Promise<void> {
  const { knex, db, test } = inst;
  // only the portal's identity tables and portal-mfa's prefixed ones are left
  const expectedTables = [...IDENTITY_TABLES, ...Object.values(db.t)].sort();
  expect((await listTables(knex)).sort()).toEqual(expectedTables);

  // every row, every column, ids kept, user and organisation ids as text
  for (const c of CARRIED) {
    const expected = source[c.from]!.map((r) => {
      const e: Row = { ...r, ...c.added };
      for (const col of c.asText) e[col] = r[col] === null ? null : String(r[col]);
      return e;
    });
    let actual = await rows(knex, db.t[c.role]);
    if (c.role === 'audit_events') actual = actual.filter((r) => !(r.action === 'db.migrate' && String(r.detail).includes('upgradedFrom')));
    expect(actual, c.from).toEqual(expected.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)));
  }

  // the organisations' MFA policy, keyed by their id as text
  const policies = await rows(knex, db.t.org_policies);
  expect(policies).toEqual(
    source['organisations']!.map((o) => ({
      organisation_id: String(o.id),
      mfa_required: o.mfa_required,
      grace_days: o.grace_days,
      mfa_required_since: o.mfa_required_since,
      device_trust_allowed: o.device_trust_allowed,
      updated_at: expect.any(Number),
    })),
  );

  // the identity mapping every client reads: the demo portal's
  const setting = (await knex(db.t.settings).where('name', 'identity').first()) as Row;
  expect(JSON.parse(String(setting.value))).toEqual(DEMO_MAPPING);
  expect(setting).toMatchObject({ updated_by: 'db migrate (upgrade)', updated_at: expect.any(Number) });

  // one audit row for the upgrade, with what it carried
  const upgradeAudit = (await knex(db.t.audit_events).where('action', 'db.migrate')) as Row[];
  expect(upgradeAudit).toHaveLength(1);
  expect(upgradeAudit[0]).toMatchObject({ outcome: 'success', actor_user_id: null, target_user_id: null });
  expect(JSON.parse(String(upgradeAudit[0]!.detail))).toEqual({
    upgradedFrom: 'unprefixed',
    rows: {
      ...Object.fromEntries(CARRIED.map((c) => [c.role, source[c.from]!.length])),
      org_policies: source['organisations']!.length,
    },
  });

  // the portal's tables: byte-identical, schema included (policy columns left alone)
  expect(await dump(knex, test.dialect, IDENTITY_TABLES)).toEqual(identity);

  const state = await migrationState(db);
  expect(state).toMatchObject({ current: true, legacy: false, pending: [], unknown: [] });
  expect(state.applied.map((a) => a.name)).toEqual(NEW_MIGRATIONS);

  // a second db migrate is a no-op
  const everything = await dump(knex, test.dialect);
  expect(await migrateLatest(db)).toEqual([]);
  expect(await dump(knex, test.dialect)).toEqual(everything);
}

describeEachDatabase('legacy upgrade: unprefixed installations migrate forward', (getDb) => {
  const open: Installation[] = [];
  afterEach(async () => {
    for (const i of open.splice(0)) {
      await i.knex.destroy();
      await i.test.drop();
    }
  });

  async function legacyInstallation(prefix = 'mfa_'): Promise<Installation> {
    const test = await createTestDatabase(getDb().dialect);
    const { knex } = await openDatabase(parseDatabaseUrl(test.url), { create: true });
    const inst = { test, knex, db: makeDb(knex, prefix, null) };
    open.push(inst);
    await buildLegacy(knex);
    return inst;
  }

  it('carries every row into the mfa_ tables, stores the demo mapping, drops the old tables and leaves the portal tables alone', async () => {
    const inst = await legacyInstallation();
    const { knex, db, test } = inst;
    const source = await legacyRows(knex, db);
    const identity = await dump(knex, test.dialect, IDENTITY_TABLES);
    expect(await migrationState(db)).toMatchObject({ legacy: true, current: false, pending: NEW_MIGRATIONS });

    expect(await migrateLatest(db)).toEqual(NEW_MIGRATIONS);
    await assertUpgraded(inst, source, identity);

    // spot checks of what users and operators see
    expect(await knex(db.t.credentials).where('user_id', '2').orderBy('id').select('id', 'status', 'consecutive_failures', 'locked_until')).toEqual([
      { id: 5, status: 'active', consecutive_failures: 7, locked_until: T0 + 15 * 60_000 },
      { id: 6, status: 'pending', consecutive_failures: 0, locked_until: null },
    ]);
    expect(await knex(db.t.trusted_devices).where('user_id', '2').orderBy('id').select('id', 'revoked_at')).toEqual([
      { id: 12, revoked_at: T0 - 12 * DAY },
      { id: 13, revoked_at: null },
    ]);
    expect(await knex(db.t.recovery_codes).where('user_id', '1').whereNull('used_at').pluck('id')).toEqual([22]);
    expect(await knex(db.t.access_codes).first('user_id', 'issued_by_user_id', 'ticket')).toEqual({ user_id: '3', issued_by_user_id: '7', ticket: 'SUP-1234' });
    expect(await knex(db.t.org_policies).where('organisation_id', '1').first('mfa_required', 'grace_days', 'device_trust_allowed')).toEqual({
      mfa_required: 1,
      grace_days: 14,
      device_trust_allowed: 0,
    });
    expect(await knex(db.t.notifications).orderBy('id').pluck('status')).toEqual(['sent', 'pending']);
    // new rows continue after the carried ids: a device id users saw is never handed out again
    const [next] = await knex(db.t.trusted_devices).insert({ user_id: '4', token_hash: 'f'.repeat(64), created_at: T0, expires_at: FAR }, ['id']);
    expect(Number(typeof next === 'object' ? next.id : next)).toBeGreaterThan(13);
  });

  it('works the same with a custom prefix (pmfa_)', async () => {
    const inst = await legacyInstallation('pmfa_');
    const source = await legacyRows(inst.knex, inst.db);
    const identity = await dump(inst.knex, inst.test.dialect, IDENTITY_TABLES);
    expect(await migrateLatest(inst.db)).toEqual(NEW_MIGRATIONS);
    await assertUpgraded(inst, source, identity);
    expect(await listTables(inst.knex)).not.toContain('mfa_credentials');
  });

  const refusals: { name: string; spoil: (knex: Knex) => Promise<unknown>; message: RegExp }[] = [
    {
      name: 'a legacy bookkeeping with a migration this version does not know',
      spoil: (knex) => knex('knex_migrations').insert({ name: '20261202000001_something_newer', batch: 7, migration_time: new Date() }),
      message: /does not know \(20261202000001_something_newer\); nothing was changed/,
    },
    {
      name: 'a partly migrated legacy schema',
      spoil: (knex) => knex('knex_migrations').where('name', '20261201000004_joined_at').delete(),
      message: /only partly migrated \(missing 20261201000004_joined_at\); nothing was changed/,
    },
    {
      name: 'a legacy schema missing one of its tables',
      spoil: (knex) => knex.schema.dropTable('notifications'),
      message: /table\(s\) notifications are missing; nothing was changed/,
    },
    {
      name: 'a maintenance lock held by an earlier portal-mfa',
      spoil: (knex) =>
        knex('maintenance_locks').insert({ name: 'keys-rotate-2', holder: 'ops@host-2 (pid 1)', acquired_at: Date.now(), expires_at: Date.now() + HOUR }),
      message: /holds the maintenance lock "keys-rotate-2"/,
    },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name}, changing nothing`, async () => {
      const { knex, db, test } = await legacyInstallation();
      await r.spoil(knex);
      const before = await dump(knex, test.dialect);
      const err = await migrateLatest(db).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortalMfaError);
      expect(err).toMatchObject({ kind: 'config', hint: expect.any(String) });
      expect((err as Error).message).toMatch(r.message);
      expect(await dump(knex, test.dialect)).toEqual(before);
    });
  }

  // MySQL: DDL commits as it goes, so each of these leaves a half-upgraded database that the next
  // db migrate must complete. SQLite: the one transaction leaves the database exactly as it was.
  const stops = ['renamed', 'creating the new tables', 'migrated', 'copied', 'dropped trusted_devices', 'dropped knex_migrations_lock'];
  for (const stop of stops) {
    it(`an upgrade that fails after "${stop}" is completed by the next db migrate`, async () => {
      const inst = await legacyInstallation();
      const { knex, db, test } = inst;
      let source = await legacyRows(knex, db);
      const identity = await dump(knex, test.dialect, IDENTITY_TABLES);
      const before = await dump(knex, test.dialect);

      const runLatest = runLatestFor(db);
      const failing =
        stop === 'creating the new tables'
          ? async (trx?: Knex.Transaction) => {
              // the new migration dies after its first tables (on MySQL they stay)
              const k = trx ?? knex;
              await k.schema.createTable(db.t.credentials, (t) => t.increments('id'));
              await k.schema.createTable(db.t.trusted_devices, (t) => t.increments('id'));
              throw new Error('injected failure');
            }
          : runLatest;
      const hook = (step: string) => {
        if (step === stop) throw new Error('injected failure');
      };
      await expect(upgradeLegacySchema(db, failing, hook)).rejects.toThrow('injected failure');

      if (test.dialect === 'sqlite') {
        expect(await dump(knex, test.dialect)).toEqual(before);
      } else {
        // half-way: still legacy, so every other command refuses it and db migrate comes back
        expect(await migrationState(db)).toMatchObject({ legacy: true, current: false });
        await expect(ensureSchemaCurrent(db, { autoMigrate: false })).rejects.toMatchObject({ kind: 'config' });
        // nor may the new tables, perhaps the only copy by now, be rolled back
        await expect(rollbackLast(db)).rejects.toMatchObject({ kind: 'config', message: expect.stringContaining('upgrade') });
      }

      // an earlier portal-mfa still running writes after the failed attempt: taken in while the
      // old tables are all there (the copy is made again)
      const present = await listTables(knex);
      if (CARRIED.every((c) => present.includes(c.from === 'mfa_credentials' ? legacyCredentialsTable(db) : c.from))) {
        await knex('recovery_codes').insert({ id: 24, user_id: 2, code_hash: '$2b$04$recoveryLATEhash', created_at: T0 });
        source = await legacyRows(knex, db);
      }

      const applied = await migrateLatest(db);
      expect(applied).toEqual(test.dialect === 'mysql' && !['renamed', 'creating the new tables'].includes(stop) ? [] : NEW_MIGRATIONS);
      await assertUpgraded(inst, source, identity);
    });
  }

  it('MySQL: old tables written to between the copy and the drops are kept, and the next run copies again', async (ctx) => {
    // SQLite serialises writers: nothing can be written between the copy and the drops
    if (getDb().dialect === 'sqlite') ctx.skip();
    const inst = await legacyInstallation();
    const { knex, db, test } = inst;
    const identity = await dump(knex, test.dialect, IDENTITY_TABLES);
    // an earlier portal-mfa still in use trusts a device right after the copy
    const hook = async (step: string) => {
      if (step === 'copied') await knex('trusted_devices').insert({ id: 14, user_id: 4, token_hash: '9'.repeat(64), created_at: T0, expires_at: FAR });
    };
    const err = await upgradeLegacySchema(db, runLatestFor(db), hook).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'config', message: expect.stringMatching(/rows changed in trusted_devices .*the old tables were kept/) });
    expect(await listTables(knex)).toEqual(expect.arrayContaining(LEGACY_OWN.map((t) => (t === 'mfa_credentials' ? 'mfa_legacy_credentials' : t))));
    const source = await legacyRows(knex, db);
    expect(source['trusted_devices']!.map((r) => r.id)).toContain(14);
    expect(await migrateLatest(db)).toEqual([]);
    await assertUpgraded(inst, source, identity);
  });
});
