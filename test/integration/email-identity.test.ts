/**
 * SPEC §1 rule 13 (issue 9, "emails compare differently per backend"; issue 19 §4): emails are
 * compared after NFC normalisation and lower-casing, identically on SQLite and MariaDB, at query
 * time over data the portal writes at any time — portal-mfa never rewrites the portal's rows.
 * A stored `Mixed.Case@Example.com` signs in as `mixed.case@…` (SQLite compares case-sensitively),
 * MariaDB's default collation is accent-insensitive yet `jose@…` never finds `josé@…`, an NFD
 * email is the same address as its NFC form, and two accounts that fold to the same email are
 * refused by name (`ambiguous_account`) instead of being merged.
 */
import { hashSync } from '@node-rs/bcrypt';
import type { Knex } from 'knex';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKeyBase64 } from '../../src/core/primitives/secretBox.js';
import { createDemoTables } from '../../src/db/demoSeeder.js';
import { DEMO_MAPPING } from '../../src/db/identity/presets.js';
import { describeRun, expectOneLineError, makeCliEnv, runCli, type CliResult } from '../support/cli.js';
import { describeEachDatabase, type TestDatabase } from '../support/databases.js';
import { connect } from '../robustness/helpers.js';

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
  /** the id of the row holding exactly this address (MariaDB's default collation would match its look-alikes too) */
  const idOf = async (email: string) =>
    String(((await knex('users').select('id', 'email')) as { id: unknown; email: string }[]).find((r) => r.email === email)?.id);
  /** rows as the portal writes them, at any time, without portal-mfa in the loop */
  const portalInserts = async (rows: { email: string; password: string }[]) => {
    const now = Date.now();
    for (const r of rows) await knex('users').insert({ email: r.email, name: 'n', password_hash: hash(r.password), role: 'developer', created_at: now });
  };

  beforeAll(async () => {
    db = getDb();
    env = makeCliEnv({ PORTAL_MFA_KEY: generateKeyBase64() }).env;
    ok(await cli(['db', 'migrate']));
    knex = connect(db);
    // a portal of the demo's shape whose email column is not unique (as Django's auth_user) and, on
    // MariaDB, keeps the database's accent- and case-insensitive default collation
    expect(await createDemoTables(knex)).toBe(true);
    await knex.schema.alterTable('users', (t) => t.dropUnique(['email'], 'users_email_unique'));
    await knex('mfa_settings').insert({ name: 'identity', value: JSON.stringify(DEMO_MAPPING), updated_at: Date.now(), updated_by: 'test' });
  });
  afterAll(async () => {
    await knex?.destroy();
  });

  it('a portal row Mixed.Case@Example.com signs in as mixed.case@example.com; the portal row is not rewritten', async () => {
    await portalInserts([
      { email: 'Mixed.Case@Example.com', password: 'mixed-pass' },
      { email: NFD, password: 'jose-accent-pass' },
      { email: 'jose@example.com', password: 'jose-plain-pass' },
    ]);
    expect(JSON.parse(ok(await statusAs('mixed.case@example.com', 'mixed-pass')).stdout)).toMatchObject({ email: 'Mixed.Case@Example.com' });
    expect(JSON.parse(ok(await statusAs('MIXED.CASE@EXAMPLE.COM', 'mixed-pass')).stdout)).toMatchObject({ email: 'Mixed.Case@Example.com' });
    // naming oneself in any case is acting on oneself (not on "another user" that needs an admin)
    expect(
      JSON.parse(
        ok(await cli(['status', '--as', 'mixed.case@example.com', '--user', 'MIXED.case@example.com', '--password-stdin', '--json'], 'mixed-pass\n')).stdout,
      ),
    ).toMatchObject({ email: 'Mixed.Case@Example.com' });
    // status shows the address as the portal stores it; the portal owns its rows: they are read, never folded in place
    expect(await emails()).toEqual(['Mixed.Case@Example.com', NFD, 'jose@example.com']);
  });

  it('an NFC- or NFD-typed email finds the NFD-stored user; jose never matches josé', async () => {
    expect(JSON.parse(ok(await statusAs(NFD, 'jose-accent-pass')).stdout)).toMatchObject({ email: NFD });
    expect(JSON.parse(ok(await statusAs(NFC, 'jose-accent-pass')).stdout)).toMatchObject({ email: NFD });
    expect(JSON.parse(ok(await statusAs(NFC.toUpperCase(), 'jose-accent-pass')).stdout)).toMatchObject({ email: NFD });
    // jose@ is another account: josé's password does not open it, jose's does
    expectOneLineError(await statusAs('jose@example.com', 'jose-accent-pass'), 1);
    expect(JSON.parse(ok(await statusAs('jose@example.com', 'jose-plain-pass')).stdout)).toMatchObject({ email: 'jose@example.com' });
    expectOneLineError(await statusAs(NFC, 'jose-plain-pass'), 1);
  });

  it('two portal accounts that fold together are refused by name (ambiguous_account), never merged', async () => {
    await portalInserts([
      { email: 'DUP@example.com', password: 'a' },
      { email: 'dup@example.com', password: 'b' },
      { email: 'Jose\u0301@Example.com', password: 'c' },
    ]);
    const dupIds = [await idOf('DUP@example.com'), await idOf('dup@example.com')];
    const joseIds = [await idOf(NFD), await idOf('Jose\u0301@Example.com')];
    for (const [typed, password, ids] of [
      ['dup@example.com', 'b', dupIds],
      ['DUP@EXAMPLE.COM', 'a', dupIds],
      [NFC, 'jose-accent-pass', joseIds],
    ] as const) {
      const r = await cli(['status', '--as', typed, '--password-stdin', '--json'], `${password}\n`);
      expectOneLineError(r, 6, new RegExp(`portal accounts \\(ids ${ids[0]}, ${ids[1]}\\)`));
      expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'ambiguous_account' } });
    }
    // nothing was merged or changed; the others still sign in
    expect(await emails()).toEqual(['Mixed.Case@Example.com', NFD, 'jose@example.com', 'DUP@example.com', 'dup@example.com', 'Jose\u0301@Example.com']);
    ok(await statusAs('jose@example.com', 'jose-plain-pass'));
    // the portal resolves the duplicates; each address then signs in again
    await knex('users').whereIn('id', [dupIds[0]!, joseIds[1]!]).delete();
    expect(JSON.parse(ok(await statusAs('DUP@example.com', 'b')).stdout)).toMatchObject({ email: 'dup@example.com' });
    expect(JSON.parse(ok(await statusAs(NFC, 'jose-accent-pass')).stdout)).toMatchObject({ email: NFD });
  });
  it('support naming itself in another case is still acting on itself: no access code or unlock for oneself', async () => {
    const now = Date.now();
    await knex('users').insert({ email: 'Sue.Support@Example.com', name: 'Sue', password_hash: hash('sue-pass'), role: 'support', created_at: now });
    for (const args of [
      ['access-code', 'issue', '--user', 'sue.support@example.com', '--ticket', 'SUP-1', '--dry-run'],
      ['unlock', '--user', 'SUE.SUPPORT@example.com', '--ticket', 'SUP-1', '--dry-run'],
    ]) {
      const r = await cli(['--as', 'sue.support@example.com', '--password-stdin', ...args], 'sue-pass\n');
      expectOneLineError(r, 5, /may not do this to their own account/);
    }
  });
});
