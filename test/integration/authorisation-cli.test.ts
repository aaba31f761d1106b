/**
 * SPEC §2 as the CLI presents it: `--org` and `--user` as typed, the terminal that is not there to
 * ask which organisation, and the exit codes (2 ambiguous, 3 unknown to support, 5 refused). The
 * rules themselves are test/integration/authorisation.test.ts, in-process. SQLite and MariaDB.
 *
 * acme's requirement is lifted for this file, so its admins act with their passwords alone.
 */
import type { Knex } from 'knex';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKeyBase64 } from '../../src/core/primitives/secretBox.js';
import { type Database, openDatabase } from '../../src/db/connect.js';
import { parseDatabaseUrl } from '../../src/db/url.js';
import { describeRun, expectOneLineError, makeCliEnv, runCli, type CliResult } from '../support/cli.js';
import { describeEachDatabase } from '../support/databases.js';
import { makeFixtures } from '../support/fixtures.js';
import { type Account, ALICE, BOB, cheapDemoPasswords, DAVE, ERIN, FRANK, HEIDI, OLIVIA, SAM } from '../support/scenario.js';

describeEachDatabase('authorisation through the CLI: several organisations, --org and unknown names', (getDb) => {
  let db: Database;
  let knex: Knex;
  let env: NodeJS.ProcessEnv;
  let url: string;

  const as = (who: Account, args: string[]) => runCli(['--db', url, '--as', who.email, '--password-stdin', ...args], { env, stdin: `${who.password}\n` });
  const ok = (r: CliResult) => {
    expect(r.code, describeRun(r)).toBe(0);
    return r.stdout.trim() === '' ? null : JSON.parse(r.stdout);
  };
  const audit = (where: Record<string, unknown>) => knex('mfa_audit_events').where(where).orderBy('id').select('*');
  const credentials = async (user: Account) => {
    const id = (await knex('users').where('email', user.email).first('id')).id;
    return (await knex('mfa_credentials').where('user_id', String(id)).select('id')).length;
  };

  beforeAll(async () => {
    url = getDb().url;
    const key = generateKeyBase64();
    env = makeCliEnv({ PORTAL_MFA_KEY: key }).env;
    for (const args of [['db', 'migrate'], ['demo']]) {
      const r = await runCli(['--db', url, ...args], { env });
      expect(r.code, describeRun(r)).toBe(0);
    }
    db = await openDatabase(parseDatabaseUrl(url));
    knex = db.knex;
    await cheapDemoPasswords(knex);
    await knex('mfa_org_policies').update({ mfa_required: false });
    await makeFixtures(knex, key, 'authorisation-cli-test').enrol(HEIDI);
  });
  afterAll(async () => {
    await db?.close();
  });

  it("olivia (admin of both of heidi's organisations) without --org and no TTY: exit 2 listing both; with --org globex: done in globex", async () => {
    for (const args of [
      ['devices', 'list', '--user', HEIDI.email],
      ['devices', 'revoke', '--all', '--user', HEIDI.email, '--yes'],
      ['disable', '--user', HEIDI.email, '--yes'],
    ]) {
      const r = await as(OLIVIA, args);
      expectOneLineError(r, 2, /acme/);
      expect(r.stderr, args.join(' ')).toMatch(/globex/);
    }
    expect(await credentials(HEIDI)).toBe(1);

    expect(ok(await as(OLIVIA, ['status', '--user', HEIDI.email, '--org', 'acme', '--json']))).toMatchObject({ email: HEIDI.email, mfa: 'active' });
    const disabled = await as(OLIVIA, ['disable', '--user', HEIDI.email, '--org', 'globex', '--yes', '--json']);
    expect(ok(disabled)).toMatchObject({ disabled: true, via: 'org-admin', organisation: 'globex' });
    expect(await credentials(HEIDI)).toBe(0);
    expect(await audit({ action: 'org.disable-mfa', target_email: HEIDI.email })).toEqual([
      expect.objectContaining({ actor_email: OLIVIA.email, outcome: 'success', organisation_slug: 'globex' }),
    ]);
  });

  it('olivia: read-only status --user heidi needs no --org (issue 13: which organisation does not matter for reading)', async () => {
    expect(ok(await as(OLIVIA, ['status', '--user', HEIDI.email, '--json']))).toMatchObject({ email: HEIDI.email });
  });

  it('--org the actor does not administer → 5 (audited); unknown --org → 5, 3 for support; unknown --user → 5 for an admin, 3 for support', async () => {
    const before = (await audit({ actor_email: ALICE.email, target_email: ERIN.email, outcome: 'refused' })).length;
    expectOneLineError(await as(ALICE, ['status', '--user', ERIN.email, '--org', 'globex', '--json']), 5);
    expectOneLineError(await as(ALICE, ['devices', 'revoke', '--all', '--user', ERIN.email, '--org', 'globex', '--yes']), 5);
    expect((await audit({ actor_email: ALICE.email, target_email: ERIN.email, outcome: 'refused' })).length).toBe(before + 2);
    expectOneLineError(await as(BOB, ['status', '--user', ERIN.email, '--org', 'acme', '--json']), 5);
    expectOneLineError(await as(DAVE, ['status', '--user', ERIN.email, '--org', 'acme', '--json']), 5);
    // the same actor in her own organisation is fine
    expect(ok(await as(ALICE, ['status', '--user', ERIN.email, '--org', 'acme', '--json']))).toMatchObject({ email: ERIN.email });

    // an organisation that does not exist is refused like one the actor does not administer (issue 20: no enumeration); only support learns it
    expectOneLineError(await as(ALICE, ['status', '--user', ERIN.email, '--org', 'nosuch', '--json']), 5, /may not act on erin@acme\.example/);
    expectOneLineError(await as(ALICE, ['disable', '--user', ERIN.email, '--org', 'nosuch', '--yes']), 5, /may not act on erin@acme\.example/);
    expectOneLineError(await as(SAM, ['status', '--user', ERIN.email, '--org', 'nosuch', '--json']), 3, /nosuch/);
    // an admin asking about a user they may not see: exit 5 whether or not the user exists (no enumeration)
    expectOneLineError(await as(ALICE, ['status', '--user', 'nobody@acme.example', '--json']), 5, /may not act on nobody@acme\.example/);
    expectOneLineError(await as(ALICE, ['status', '--user', FRANK.email, '--json']), 5, /may not act on frank@globex\.example/);
    expectOneLineError(await as(BOB, ['disable', '--user', 'nobody@acme.example', '--yes']), 5, /may not act on nobody@acme\.example/);
    // only support learns that it does not exist
    expectOneLineError(await as(SAM, ['status', '--user', 'nobody@acme.example', '--json']), 3, /nobody@acme\.example/);
    expectOneLineError(await as(SAM, ['disable', '--user', 'nobody@acme.example', '--ticket', 'SUP-1', '--yes']), 3);
    expectOneLineError(await as(SAM, ['devices', 'list', '--user', 'nobody@acme.example']), 3);
    expectOneLineError(await as(SAM, ['verify', '--user', 'nobody@acme.example', '--code', '123456']), 3);
  });
});
