/**
 * Black-box tests of the foundation commands through the built binary: `db migrate / rollback /
 * status`, the schema guard, refusal of a newer schema, and `demo` — on SQLite and a real MariaDB.
 * Tests within a suite run in order and build on each other's database state.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { verifySync } from '@node-rs/bcrypt';
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, expectOneLineError, makeCliEnv, REPO_ROOT, runCli, type CliResult } from '../support/cli.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.js';
import { migrations } from '../../migrations/index.js';
import { ownTables } from '../../src/db/store.js';

/** The one migration that creates portal-mfa's own (prefixed) tables (SPEC §5). */
const INITIAL = '20261203000001_own_tables';
/** Every migration file in migrations/ (SPEC §3: "knex migrations of the schema in migrations/"), oldest first. */
const ALL_MIGRATIONS = readdirSync(path.join(REPO_ROOT, 'migrations'))
  .filter((f) => /^\d{14}_\w+\.ts$/.test(f))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
/** portal-mfa's own tables under the default prefix; `db migrate` creates these and nothing else. */
const OWN_TABLES = Object.values(ownTables()).filter((t) => !t.includes('knex_migrations'));
/** The demo portal's identity tables: the portal's (here the demo's), never created by `db migrate`. */
const PORTAL_TABLES = ['users', 'organisations', 'organisation_members'];
const FUTURE = '29990101000000_future';

function connect(db: TestDatabase): Knex {
  if (db.dialect === 'sqlite') {
    return knexFactory({ client: 'better-sqlite3', connection: { filename: db.url.slice('sqlite:'.length) }, useNullAsDefault: true });
  }
  return knexFactory({ client: 'mysql2', connection: db.url, pool: { min: 0, max: 2 } });
}

interface DemoAccountJson {
  email: string;
  password: string;
  role: string;
  organisations: { slug: string; role: string }[];
}

function ok(r: CliResult): CliResult {
  expect(r.code, describeRun(r)).toBe(0);
  return r;
}

function parseJson<T = unknown>(r: CliResult): T {
  ok(r);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${describeRun(r)}`);
  }
}

describeEachDatabase('foundation: db and demo', (getDb) => {
  let env: NodeJS.ProcessEnv;
  let url: string;
  let knexInstance: Knex | undefined;
  /** Opened on first use, so the CLI is the first to touch a new SQLite file. */
  const knex = () => (knexInstance ??= connect(getDb()));
  const cli = (args: string[], stdin?: string) => runCli(['--db', url, ...args], { env, stdin });

  const count = async (table: string, where: Record<string, unknown> = {}) => {
    const row = await knex()(table).where(where).count({ n: '*' }).first();
    return Number(row?.n ?? 0);
  };
  const acmeMembers = async () => {
    const row = await knex()('organisation_members')
      .join('organisations', 'organisations.id', 'organisation_members.organisation_id')
      .where('organisations.slug', 'acme')
      .count({ n: '*' })
      .first();
    return Number(row?.n ?? 0);
  };
  const counts = async () => ({
    users: await count('users'),
    organisations: await count('organisations'),
    members: await count('organisation_members'),
  });

  beforeAll(() => {
    const db = getDb();
    url = db.url;
    // A MySQL database has no key file beside it: give it a key, as an operator would.
    env = makeCliEnv(db.dialect === 'mysql' ? { PORTAL_MFA_KEY: randomBytes(32).toString('base64') } : {}).env;
  });

  afterAll(async () => {
    await knexInstance?.destroy();
  });

  it('db status --json on an empty database: not current, the migration pending', async () => {
    const doc = parseJson<Record<string, unknown>>(await cli(['db', 'status', '--json']));
    expect(doc).toMatchObject({ current: false, applied: [], pending: ALL_MIGRATIONS, unknown: [], dialect: getDb().dialect });
    expect(JSON.stringify(doc)).not.toContain('pmfa-test-pw');
    expect(await knex().schema.hasTable('users')).toBe(false);
  });

  it('db migrate applies the schema; status is current; a second migrate is a no-op', async () => {
    expect(ALL_MIGRATIONS[0]).toBe(INITIAL);
    // the static list the binary runs is exactly the migration files
    expect(migrations(ownTables()).map((m) => m.name)).toEqual(ALL_MIGRATIONS);
    const first = ok(await cli(['db', 'migrate']));
    for (const name of ALL_MIGRATIONS) expect(first.stdout).toContain(`applied ${name}`);
    for (const table of ['mfa_credentials', 'mfa_trusted_devices', 'mfa_recovery_codes', 'mfa_audit_events', ...OWN_TABLES]) {
      expect(await knex().schema.hasTable(table), table).toBe(true);
    }
    // the portal's identity tables are the portal's: db migrate never creates them
    for (const table of PORTAL_TABLES) expect(await knex().schema.hasTable(table), table).toBe(false);

    const doc = parseJson<{ current: boolean; applied: { name: string; appliedAt: string | null }[]; pending: string[] }>(
      await cli(['db', 'status', '--json']),
    );
    expect(doc.current).toBe(true);
    expect(doc.pending).toEqual([]);
    expect(doc.applied.map((a) => a.name)).toEqual(ALL_MIGRATIONS);
    for (const a of doc.applied) expect(a.appliedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

    const again = ok(await cli(['db', 'migrate', '--json']));
    expect(JSON.parse(again.stdout)).toMatchObject({ migrated: [], current: true });
    expect(await count('mfa_knex_migrations')).toBe(ALL_MIGRATIONS.length);
    // the first migrate is audited, the no-op is not
    expect(await count('mfa_audit_events', { action: 'db.migrate' })).toBe(1);
  });

  it('db rollback undoes the migration; status shows it pending; migrate again', async () => {
    // one migrate = one batch: rollback undoes all of it
    const rb = ok(await cli(['db', 'rollback', '--force', '--yes'])); // the audit trail holds the migrate row
    for (const name of ALL_MIGRATIONS) expect(rb.stdout).toContain(`rolled back ${name}`);
    for (const table of OWN_TABLES) expect(await knex().schema.hasTable(table), table).toBe(false);

    const doc = parseJson<{ current: boolean; applied: unknown[]; pending: string[] }>(await cli(['db', 'status', '--json']));
    expect(doc).toMatchObject({ current: false, applied: [], pending: ALL_MIGRATIONS });

    ok(await cli(['db', 'migrate']));
    const after = parseJson<{ current: boolean; pending: string[] }>(await cli(['db', 'status', '--json']));
    expect(after).toMatchObject({ current: true, pending: [] });
    for (const table of OWN_TABLES) expect(await knex().schema.hasTable(table), table).toBe(true);
  });

  it('schema guard: demo on an unmigrated database exits 10 and names `portal-mfa db migrate`', async () => {
    const other = await createTestDatabase(getDb().dialect);
    try {
      const r = await runCli(['--db', other.url, 'demo'], { env });
      // a command to paste: with the --db of this run
      expectOneLineError(r, 10, /run: portal-mfa --db \S+ db migrate/);
      expect(r.stdout).toBe('');
      // and nothing was created behind the refusal
      const doc = parseJson<{ current: boolean; applied: unknown[] }>(await runCli(['--db', other.url, 'db', 'status', '--json'], { env }));
      expect(doc).toMatchObject({ current: false, applied: [] });
    } finally {
      await other.drop();
    }
  });

  it('a database migrated by a newer version is refused by demo and db migrate', async () => {
    await knex()('mfa_knex_migrations').insert({ name: FUTURE, batch: 99, migration_time: new Date() });
    try {
      const demo = await cli(['demo']);
      expectOneLineError(demo, 10, new RegExp(FUTURE));
      expectOneLineError(await cli(['db', 'migrate']), 10, new RegExp(FUTURE));
      expectOneLineError(await cli(['db', 'rollback']), 10, new RegExp(FUTURE));
      const status = parseJson<{ current: boolean; unknown: string[] }>(await cli(['db', 'status', '--json']));
      expect(status).toMatchObject({ current: false, unknown: [FUTURE] });
      // refused before touching anything: not even the demo portal's tables were created
      for (const table of PORTAL_TABLES) expect(await knex().schema.hasTable(table), table).toBe(false);
      expect(await count('mfa_knex_migrations')).toBe(ALL_MIGRATIONS.length + 1);
    } finally {
      await knex()('mfa_knex_migrations').where('name', FUTURE).delete();
    }
    const status = parseJson<{ current: boolean; unknown: string[] }>(await cli(['db', 'status', '--json']));
    expect(status).toMatchObject({ current: true, unknown: [] });
  });

  let accounts: DemoAccountJson[] = [];

  it('demo twice: exit 0 both times, nothing duplicated; --json lists the accounts', async () => {
    ok(await cli(['demo']));
    const first = await counts();
    accounts = parseJson<DemoAccountJson[]>(await cli(['demo', '--json']));
    expect(await counts()).toEqual(first);

    expect(Array.isArray(accounts)).toBe(true);
    expect(accounts.length).toBeGreaterThanOrEqual(5);
    for (const a of accounts) {
      expect(a.email).toMatch(/^[^\s@]+@[^\s@]+\.[^\s@]+$/);
      expect(typeof a.password).toBe('string');
      expect(a.password.length).toBeGreaterThanOrEqual(8);
      expect(['developer', 'support']).toContain(a.role);
      expect(Array.isArray(a.organisations)).toBe(true);
      for (const o of a.organisations) expect(['member', 'admin']).toContain(o.role);
    }
    expect(new Set(accounts.map((a) => a.email)).size).toBe(accounts.length);
    expect(accounts.some((a) => a.role === 'support')).toBe(true);
    expect(accounts.some((a) => a.organisations.length >= 2)).toBe(true);
    expect(accounts.some((a) => a.organisations.some((o) => o.slug === 'acme' && o.role === 'admin'))).toBe(true);

    // the database holds exactly what --json describes
    const slugs = new Set(accounts.flatMap((a) => a.organisations.map((o) => o.slug)));
    expect(first).toEqual({
      users: accounts.length,
      organisations: slugs.size,
      members: accounts.reduce((n, a) => n + a.organisations.length, 0),
    });
    const acme = await knex()('organisations').where('slug', 'acme').first();
    // the organisation's MFA policy is portal-mfa's, kept under the portal's organisation id
    const acmePolicy = await knex()('mfa_org_policies').where('organisation_id', String(acme?.id)).first();
    expect(Boolean(acmePolicy?.mfa_required)).toBe(true);
    const support = accounts.find((a) => a.role === 'support')!;
    expect((await knex()('users').where('email', support.email).first())?.role).toBe('support');
  });

  it('demo passwords are stored as bcrypt hashes, never in plain', async () => {
    const rows: { email: string; password_hash: string }[] = await knex()('users').select('email', 'password_hash');
    expect(rows.length).toBe(accounts.length);
    for (const a of accounts) {
      const row = rows.find((r) => r.email === a.email);
      expect(row, a.email).toBeDefined();
      expect(row!.password_hash).toMatch(/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/);
      expect(row!.password_hash).not.toContain(a.password);
      expect(verifySync(a.password, row!.password_hash), a.email).toBe(true);
    }
  });

  it('demo --reset restores a deleted membership; demo runs are audited with host and OS user', async () => {
    if (accounts.length === 0) accounts = parseJson<DemoAccountJson[]>(await cli(['demo', '--json'])); // earlier test failed
    const twoOrgs = accounts.find((a) => a.organisations.length >= 2)!;
    const user = await knex()('users').where('email', twoOrgs.email).first('id');
    const before = await counts();
    const deleted = await knex()('organisation_members').where('user_id', user.id).limit(1).first();
    await knex()('organisation_members').where({ user_id: user.id, organisation_id: deleted.organisation_id }).delete();
    expect(await count('organisation_members')).toBe(before.members - 1);

    ok(await cli(['demo', '--reset', '--yes']));
    expect(await counts()).toEqual(before);
    const restored = await knex()('organisation_members')
      .join('users', 'users.id', 'organisation_members.user_id')
      .join('organisations', 'organisations.id', 'organisation_members.organisation_id')
      .where('users.email', twoOrgs.email)
      .select('organisations.slug as slug', 'organisation_members.role as role');
    expect(restored.map((r: { slug: string; role: string }) => ({ slug: r.slug, role: r.role })).sort((a, b) => a.slug.localeCompare(b.slug))).toEqual(
      [...twoOrgs.organisations].sort((a, b) => a.slug.localeCompare(b.slug)),
    );

    const audit: { action: string; outcome: string; host: string; os_user: string }[] = await knex()('mfa_audit_events')
      .whereIn('action', ['demo.create', 'demo.reset'])
      .select('action', 'outcome', 'host', 'os_user');
    expect(audit.filter((a) => a.action === 'demo.create').length).toBeGreaterThanOrEqual(2);
    expect(audit.filter((a) => a.action === 'demo.reset').length).toBe(1);
    for (const a of audit) {
      expect(a.outcome).toBe('success');
      expect(a.host.trim()).not.toBe('');
      expect(a.os_user.trim()).not.toBe('');
    }
  });

  it('demo --members 25 adds 25 members to acme; --members abc is a usage error that changes nothing', async () => {
    ok(await cli(['demo'])); // the demo organisations exist (no-op when an earlier test created them)
    const beforeAcme = await acmeMembers();
    const beforeUsers = await count('users');
    ok(await cli(['demo', '--members', '25']));
    expect(await acmeMembers()).toBe(beforeAcme + 25);
    expect(await count('users')).toBe(beforeUsers + 25);
    const generated: { password_hash: string }[] = await knex()('users').where('email', 'like', 'member-%@acme.example').select('password_hash');
    expect(generated.length).toBe(25);
    for (const g of generated) expect(g.password_hash).toMatch(/^\$2[aby]\$/);

    const snapshot = await counts();
    const auditBefore = await count('mfa_audit_events');
    for (const bad of ['abc', '2.5']) {
      const r = await cli(['demo', '--members', bad]);
      expectOneLineError(r, 2, /--members/);
      expect(r.stdout).toBe('');
    }
    expect(await counts()).toEqual(snapshot);
    expect(await count('mfa_audit_events')).toBe(auditBefore);
  });
});

describe('foundation: the embedded default database [sqlite]', () => {
  it('demo with no --db creates $XDG_DATA_HOME/portal-mfa/portal.db (0600), migrated', async () => {
    const { env } = makeCliEnv();
    const dbFile = path.join(env.XDG_DATA_HOME!, 'portal-mfa', 'portal.db');
    expect(existsSync(dbFile)).toBe(false);

    const r = await runCli(['demo'], { env });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain('embedded default');
    expect(existsSync(dbFile)).toBe(true);
    expect(statSync(dbFile).mode & 0o777).toBe(0o600);
    // (The key file portal.db.key is created lazily, when a secret is first sealed or opened —
    // `demo` needs none — so it is not asserted here.)

    const status = await runCli(['db', 'status', '--json'], { env });
    expect(status.code, describeRun(status)).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      database: `sqlite:${dbFile} (embedded default)`,
      dialect: 'sqlite',
      current: true,
      pending: [],
    });

    const knex = knexFactory({ client: 'better-sqlite3', connection: { filename: dbFile }, useNullAsDefault: true });
    try {
      const row = await knex('users').count({ n: '*' }).first();
      expect(Number(row?.n)).toBeGreaterThanOrEqual(5);
      expect(await knex('mfa_audit_events').where('action', 'demo.create').count({ n: '*' }).first()).toMatchObject({ n: 1 });
    } finally {
      await knex.destroy();
    }
  });

  it('PORTAL_MFA_DB is used when --db is absent, and --db wins over it', async () => {
    const a = await createTestDatabase('sqlite');
    const b = await createTestDatabase('sqlite');
    try {
      const { env } = makeCliEnv({ PORTAL_MFA_DB: a.url });
      const viaEnv = await runCli(['db', 'status', '--json'], { env });
      expect(viaEnv.code, describeRun(viaEnv)).toBe(0);
      expect(JSON.parse(viaEnv.stdout).database).toBe(a.url);
      const viaFlag = await runCli(['--db', b.url, 'db', 'status', '--json'], { env });
      expect(viaFlag.code, describeRun(viaFlag)).toBe(0);
      expect(JSON.parse(viaFlag.stdout).database).toBe(b.url);
      expect(existsSync(path.join(env.XDG_DATA_HOME!, 'portal-mfa', 'portal.db'))).toBe(false);
    } finally {
      await a.drop();
      await b.drop();
    }
  });
});
