/**
 * SPEC §1 rule 13 (issue 9, "emails compare differently per backend"): emails are compared after
 * NFC normalisation and lower-casing, identically on SQLite and MariaDB. Before the fix SQLite was
 * case-sensitive (a stored `Mixed.Case@Example.com` could not log in as `mixed.case@…`), MariaDB's
 * default collation is accent-insensitive (`jose@…` found `josé@…`), and an NFD-typed `josé` failed.
 * The migration 20261201000001_email_nfc folds stored emails and reports collisions (exit 10,
 * nothing changed) instead of merging two accounts.
 */
import { hashSync } from '@node-rs/bcrypt';
import type { Knex } from 'knex';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKeyBase64 } from '../../src/core/secretBox.js';
import { describeRun, expectOneLineError, makeCliEnv, runCli, type CliResult } from '../support/cli.js';
import { describeEachDatabase, type TestDatabase } from '../support/databases.js';
import { connect } from '../robustness/helpers.js';

const MIGRATION = '20261201000001_email_nfc';
const NFC = 'jos\u00e9@example.com';
const NFD = 'jose\u0301@example.com';
const hash = (pw: string) => hashSync(pw, 4);

describeEachDatabase('rule 13: one email identity on every database', (getDb) => {
  let db: TestDatabase;
  let knex: Knex;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[], stdin?: string) => runCli(['--db', db.url, ...args], { env, stdin, timeoutMs: 60_000 });
  const ok = (r: CliResult) => {
    expect(r.code, describeRun(r)).toBe(0);
    return r;
  };
  const statusAs = async (email: string, password: string) => cli(['status', '--as', email, '--password-stdin', '--json'], `${password}\n`);
  const emails = async () => ((await knex('users').orderBy('id').select('email')) as { email: string }[]).map((r) => r.email);
  /** write rows as a portal would have before the migration, then apply it (again) */
  const insertThenMigrate = async (rows: { email: string; password: string }[]) => {
    const now = Date.now();
    for (const r of rows) await knex('users').insert({ email: r.email, name: 'n', password_hash: hash(r.password), role: 'developer', created_at: now });
    await knex('knex_migrations').where('name', MIGRATION).delete();
    return cli(['db', 'migrate']);
  };

  beforeAll(async () => {
    db = getDb();
    env = makeCliEnv({ PORTAL_MFA_KEY: generateKeyBase64() }).env;
    ok(await cli(['db', 'migrate']));
    knex = connect(db);
  });
  afterAll(async () => {
    await knex?.destroy();
  });

  it('the migration folds stored emails: Mixed.Case logs in as mixed.case, an NFD email is stored NFC', async () => {
    ok(
      await insertThenMigrate([
        { email: 'Mixed.Case@Example.com', password: 'mixed-pass' },
        { email: NFD, password: 'jose-accent-pass' },
        { email: 'jose@example.com', password: 'jose-plain-pass' },
      ]),
    );
    expect(await emails()).toEqual(['mixed.case@example.com', NFC, 'jose@example.com']);
    expect(JSON.parse(ok(await statusAs('mixed.case@example.com', 'mixed-pass')).stdout)).toMatchObject({ email: 'mixed.case@example.com' });
    expect(JSON.parse(ok(await statusAs('MIXED.CASE@EXAMPLE.COM', 'mixed-pass')).stdout)).toMatchObject({ email: 'mixed.case@example.com' });
  });

  it('an NFD-typed email finds the NFC-stored user; jose never matches josé', async () => {
    expect(JSON.parse(ok(await statusAs(NFD, 'jose-accent-pass')).stdout)).toMatchObject({ email: NFC });
    expect(JSON.parse(ok(await statusAs(NFC.toUpperCase(), 'jose-accent-pass')).stdout)).toMatchObject({ email: NFC });
    // jose@ is another account: josé's password does not open it, jose's does
    expectOneLineError(await statusAs('jose@example.com', 'jose-accent-pass'), 1);
    expect(JSON.parse(ok(await statusAs('jose@example.com', 'jose-plain-pass')).stdout)).toMatchObject({ email: 'jose@example.com' });
    // and the database itself compares exactly (MariaDB: utf8mb4_bin, not the accent-insensitive default)
    expect((await knex('users').where('email', 'jose@example.com').select('email')).map((r: { email: string }) => r.email)).toEqual(['jose@example.com']);
    expect(await knex('users').where('email', 'MIXED.CASE@example.com').select('email')).toEqual([]);
  });

  it('collisions are reported (exit 10, the ids named) and nothing is merged or changed', async () => {
    await knex('users').insert({ email: 'Someone@Example.com', name: 'n', password_hash: hash('x'), role: 'developer', created_at: Date.now() });
    const r = await insertThenMigrate([
      { email: 'DUP@example.com', password: 'a' },
      { email: 'dup@example.com', password: 'b' },
      { email: 'Jose\u0301@Example.com', password: 'c' },
    ]);
    expectOneLineError(
      r,
      10,
      /2 email\(s\) are held by more than one user \("jos\u00e9@example\.com": user ids \d+, \d+; "dup@example\.com": user ids \d+, \d+\).*nothing was changed/,
    );
    const after = await emails();
    expect(after).toContain('Someone@Example.com'); // not folded: the migration changed nothing
    expect(after).toContain('DUP@example.com');
    expect(after).toContain('dup@example.com');
    expect(await knex('knex_migrations').where('name', MIGRATION).first()).toBeUndefined();
    // every other command refuses until the schema is current
    expectOneLineError(await statusAs('someone@example.com', 'x'), 10, /db migrate/);
    // the operator resolves the duplicates; the migration then completes
    await knex('users').whereIn('email', ['DUP@example.com', 'Jose\u0301@Example.com']).delete();
    ok(await cli(['db', 'migrate']));
    expect(await emails()).toContain('someone@example.com');
  });
});
