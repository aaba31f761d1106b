/**
 * Organisation administration (org list / users / policy / disable-mfa) and key rotation, black-box
 * through the built binary, against SQLite and a real MariaDB. Codes come from the independent
 * RFC 6238 implementation in test/support/independentTotp.ts.
 *
 * acme requires MFA and rule 4 holds on every path (`--as` included), so its admins alice and olivia
 * enrol first and trust the test machine (login --trust-device), as a real admin would.
 *
 * Both suites use PORTAL_MFA_KEY (for SQLite too, instead of the key file beside the database) so
 * that the key-rotation story is the same on both dialects.
 *
 * Demo data (src/core/usecases/demoData.ts): acme (requires MFA) = alice (admin), olivia (admin), dave, erin,
 * heidi; globex (MFA optional) = bob (admin), olivia (admin), frank, heidi; devon is in no
 * organisation. `demo --members N` adds member-000001… to acme (password member-demo-pass).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { rotateKeys } from '../../src/core/usecases/keyRotation.js';
import { keyFromBase64 } from '../../src/core/primitives/secretBox.js';
import { DEFAULT_SETTINGS } from '../../src/core/settings.js';
import { DEMO_MAPPING } from '../../src/db/identity/presets.js';
import { DEFAULT_TABLE_PREFIX, makeDb } from '../../src/db/store.js';
import { describeRun, expectOneLineError, makeCliEnv, runCli, runCliProcess, type CliResult } from '../support/cli.js';
import { type Account, ALICE, BOB, cheapDemoPasswords, DEVON, FRANK, member, OLIVIA, SAM } from '../support/scenario.js';
import { describeEachDatabase, type TestDatabase } from '../support/databases.js';
import { advanceClock, testNow } from '../support/clock.js';
import { currentStep, safeStep, totpAt } from '../support/independentTotp.js';

// deadline: when a member lacking MFA must have enrolled under a grace period (null: no grace, or MFA active)
const MEMBER_FIELDS = ['email', 'name', 'role', 'mfa', 'enrolledAt', 'lastUsedAt', 'trustedDevices', 'deadline', 'active'];
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

function connect(db: TestDatabase): Knex {
  if (db.dialect === 'sqlite') {
    return knexFactory({ client: 'better-sqlite3', connection: { filename: db.url.slice('sqlite:'.length) }, useNullAsDefault: true });
  }
  return knexFactory({ client: 'mysql2', connection: db.url, pool: { min: 0, max: 2 } });
}

const newKeyBase64 = () => randomBytes(32).toString('base64');

/** The CLI plumbing shared by both suites: runs against one database with one environment. */
function cliHarness(getUrl: () => string, getEnv: () => NodeJS.ProcessEnv) {
  const cli = (args: string[], stdin?: string, env: NodeJS.ProcessEnv = getEnv()): Promise<CliResult> => runCli(['--db', getUrl(), ...args], { env, stdin });
  /** The same in a process of its own, for races between processes. */
  const cliProcess = (args: string[], env: NodeJS.ProcessEnv = getEnv()): Promise<CliResult> => runCliProcess(['--db', getUrl(), ...args], { env });
  /** `args` acting as `who` (--as with the password on stdin). */
  const as = (who: Account, args: string[], env?: NodeJS.ProcessEnv) => cli([...args, '--as', who.email, '--password-stdin'], `${who.password}\n`, env);
  const ok = (r: CliResult): CliResult => {
    expect(r.code, describeRun(r)).toBe(0);
    return r;
  };
  const json = (r: CliResult) => JSON.parse(ok(r).stdout);
  const ndjson = (r: CliResult): Record<string, unknown>[] =>
    r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  const secrets = new Map<string, string>();
  const lastStep = new Map<string, number>();

  /** Scripted enrolment (enroll --no-confirm, then --confirm with the code of step S-1). */
  async function enrol(who: Account): Promise<string> {
    const pending = json(await as(who, ['enroll', '--no-confirm', '--json']));
    expect(pending.status).toBe('pending');
    const secret = String(pending.secret);
    const step = await safeStep(4_000);
    const done = json(await as(who, ['enroll', '--confirm', totpAt(secret, step - 1), '--json']));
    expect(done).toMatchObject({ status: 'active', email: who.email });
    secrets.set(who.email, secret);
    lastStep.set(who.email, step - 1);
    return secret;
  }

  /**
   * `verify` of the user's own code with a step never used before for them (never a replay),
   * and inside the accepted window (±1 step).
   */
  async function verifyOwnCode(who: Account, env?: NodeJS.ProcessEnv): Promise<CliResult> {
    const secret = secrets.get(who.email);
    if (!secret) throw new Error(`${who.email} has not been enrolled by this test`);
    const step = Math.max(currentStep(), (lastStep.get(who.email) ?? 0) + 1);
    while (step > currentStep() + 1) advanceClock(30_000 - (testNow() % 30_000) + 50); // to the next step, without waiting
    const r = await as(who, ['verify', '--code', totpAt(secret, step)], env);
    if (r.code === 0) lastStep.set(who.email, step);
    return r;
  }

  /** Enrol, then trust the machine of `env` (login --trust-device with a fresh code): later --as runs need no code. */
  async function enrolAndTrust(who: Account, env?: NodeJS.ProcessEnv): Promise<void> {
    const secret = await enrol(who);
    const step = Math.max(currentStep(), (lastStep.get(who.email) ?? 0) + 1);
    while (step > currentStep() + 1) advanceClock(30_000 - (testNow() % 30_000) + 50); // to the next step, without waiting
    const r = await cli(
      ['login', '--as', who.email, '--password-stdin', '--code', '-', '--trust-device', '--json'],
      `${who.password}\n${totpAt(secret, step)}\n`,
      env,
    );
    expect(JSON.parse(ok(r).stdout)).toMatchObject({ email: who.email, secondFactor: 'code', trustedDevice: { id: expect.any(Number) } });
    lastStep.set(who.email, step);
  }

  return { cli, cliProcess, as, ok, json, ndjson, enrol, enrolAndTrust, verifyOwnCode };
}

// =================================================================================================

describeEachDatabase('org administration through the CLI', (getDb) => {
  let knex: Knex;
  let env: NodeJS.ProcessEnv;
  let url = '';
  let tmp = '';
  const { cli, as, ok, json, ndjson, enrol, enrolAndTrust } = cliHarness(
    () => url,
    () => env,
  );

  const orgId = async (slug: string) => Number((await knex('organisations').where({ slug }).first('id'))!.id);
  const memberEmails = async (slug: string, where: (q: Knex.QueryBuilder) => void = () => {}) => {
    const q = knex('organisation_members as m')
      .join('users as u', 'u.id', 'm.user_id')
      .where('m.organisation_id', await orgId(slug));
    where(q);
    return (await q.pluck('u.email')).map(String).sort();
  };
  const activeEmails = async () =>
    (await knex('mfa_credentials as c').join('users as u', 'u.id', 'c.user_id').where('c.status', 'active').pluck('u.email')).map(String).sort();
  /** Per user: credential rows, recovery codes, trusted devices — to prove what changed and what did not. */
  const mfaSnapshot = async () => {
    const count = async (table: string) => {
      const rows = await knex(`${table} as t`).join('users as u', 'u.id', 't.user_id').groupBy('u.email').select('u.email', knex.raw('COUNT(*) as n'));
      return Object.fromEntries(rows.map((r: { email: string; n: unknown }) => [r.email, Number(r.n)]));
    };
    return { credentials: await count('mfa_credentials'), recoveryCodes: await count('mfa_recovery_codes'), devices: await count('mfa_trusted_devices') };
  };
  const emailsOf = (records: Record<string, unknown>[]) => records.map((r) => String(r.email)).sort();
  const orgUsers = async (who: Account, ...extra: string[]) => {
    const r = ok(await as(who, ['org', 'users', '--org', 'acme', '--json', ...extra]));
    return ndjson(r);
  };

  beforeAll(async () => {
    const db = getDb();
    url = db.url;
    env = makeCliEnv({ PORTAL_MFA_KEY: newKeyBase64() }).env;
    tmp = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-org-test-'));
    knex = connect(db);
    ok(await cli(['db', 'migrate']));
    ok(await cli(['demo', '--members', '8']));
    await cheapDemoPasswords(knex);
    // acme requires MFA: its admins act only once enrolled (rule 4 holds for --as too)
    await enrolAndTrust(ALICE);
    await enrolAndTrust(OLIVIA);
  }, 120_000);

  afterAll(async () => {
    await knex?.destroy();
  });

  it('org list: olivia sees acme and globex as admin, with member and MFA counts that follow enrolment', async () => {
    const listOrgs = async () => {
      const doc = json(await as(OLIVIA, ['org', 'list', '--json']));
      expect(Array.isArray(doc)).toBe(true);
      return Object.fromEntries((doc as Array<Record<string, unknown>>).map((o) => [o.slug, o]));
    };
    const before = await listOrgs();
    expect(Object.keys(before).sort()).toEqual(['acme', 'globex']);
    const acmeMembers = (await memberEmails('acme')).length;
    const globexMembers = (await memberEmails('globex')).length;
    // alice and olivia (acme admins; olivia also of globex) were enrolled in beforeAll
    expect(before.acme).toMatchObject({ slug: 'acme', name: 'Acme Energy', role: 'admin', mfaRequired: true, members: acmeMembers, mfaActive: 2 });
    expect(before.globex).toMatchObject({ slug: 'globex', role: 'admin', mfaRequired: false, members: globexMembers, mfaActive: 1 });
    expect(acmeMembers).toBe(5 + 8);

    await enrol(member(1));
    const after = await listOrgs();
    expect(after.acme).toMatchObject({ members: acmeMembers, mfaActive: 3 });
    expect(after.globex).toMatchObject({ members: globexMembers, mfaActive: 1 });

    // an admin of one organisation sees only that one
    const bobs = json(await as(BOB, ['org', 'list', '--json'])) as Array<Record<string, unknown>>;
    expect(bobs.map((o) => o.slug)).toEqual(['globex']);
  }, 60_000);

  it('org users: NDJSON with stable fields, --mfa and --role filters give exactly the expected members', async () => {
    if (!(await activeEmails()).includes(member(1).email)) await enrol(member(1));
    // member 2: enrolment started, not confirmed (pending)
    json(await as(member(2), ['enroll', '--no-confirm', '--json']));

    const r = ok(await as(ALICE, ['org', 'users', '--org', 'acme', '--json']));
    const lines = r.stdout.split('\n');
    expect(lines.pop()).toBe(''); // ends with a newline
    const all = lines.map((l) => JSON.parse(l) as Record<string, unknown>); // every line parses
    expect(emailsOf(all)).toEqual(await memberEmails('acme'));
    for (const rec of all) {
      expect(Object.keys(rec)).toEqual(MEMBER_FIELDS);
      expect(['admin', 'member']).toContain(rec.role);
      expect(['active', 'pending', 'none']).toContain(rec.mfa);
      expect(typeof rec.trustedDevices).toBe('number');
      if (rec.mfa === 'active') expect(rec.enrolledAt).toMatch(ISO_UTC);
      else expect(rec.enrolledAt).toBeNull();
      expect(rec.deadline, 'acme requires MFA without a grace period').toBeNull();
    }
    const m1 = all.find((x) => x.email === member(1).email)!;
    expect(m1).toMatchObject({ mfa: 'active', role: 'member', name: 'Member 1' });
    expect(m1.lastUsedAt).toMatch(ISO_UTC);
    expect(all.find((x) => x.email === member(2).email)).toMatchObject({ mfa: 'pending', enrolledAt: null });
    expect(r.stdout).not.toMatch(/secret|otpauth/i);

    const everyone = await memberEmails('acme');
    const admins = ['alice@acme.example', 'olivia@partners.example'].sort();
    const on = [ALICE.email, OLIVIA.email, member(1).email].sort();
    const pending = [member(2).email];
    const off = everyone.filter((e) => !on.includes(e) && !pending.includes(e));
    expect(emailsOf(await orgUsers(ALICE, '--mfa', 'on'))).toEqual(on);
    expect(emailsOf(await orgUsers(ALICE, '--mfa', 'pending'))).toEqual(pending);
    expect(emailsOf(await orgUsers(ALICE, '--mfa', 'off'))).toEqual(off);
    expect(emailsOf(await orgUsers(ALICE, '--role', 'admin'))).toEqual(admins);
    expect(emailsOf(await orgUsers(ALICE, '--role', 'member'))).toEqual(everyone.filter((e) => !admins.includes(e)));
    expect(emailsOf(await orgUsers(ALICE, '--role', 'admin', '--mfa', 'on'))).toEqual(admins);
    expect(emailsOf(await orgUsers(ALICE, '--role', 'admin', '--mfa', 'off'))).toEqual([]);

    // --org may be left out by an admin of exactly one organisation; an admin of two must name one
    const implicit = ok(await as(ALICE, ['org', 'users', '--json']));
    expect(emailsOf(ndjson(implicit))).toEqual(everyone);
    expectOneLineError(await as(OLIVIA, ['org', 'users', '--json']), 2, /acme.*globex|globex.*acme/);

    expectOneLineError(await as(ALICE, ['org', 'users', '--org', 'acme', '--json', '--mfa', 'bogus']), 2, /--mfa/);
    expectOneLineError(await as(ALICE, ['org', 'users', '--org', 'acme', '--role', 'owner']), 2, /--role/);
    // an unknown organisation: refused like one she does not administer (issue 20: no enumeration); only support learns it does not exist
    expectOneLineError(await as(ALICE, ['org', 'users', '--org', 'no-such-org', '--json']), 5, /not an admin of 'no-such-org'/);
    expectOneLineError(await as(SAM, ['org', 'users', '--org', 'no-such-org', '--json']), 3, /no-such-org/);
  }, 90_000);

  it('org users: an admin of another organisation is refused (exit 5) and the refusal is audited', async () => {
    const r = await as(BOB, ['org', 'users', '--org', 'acme', '--json']);
    expectOneLineError(r, 5, /acme/);
    expect(r.stdout).toBe('');
    // a refusal is not filed in an organisation the actor does not administer: its reason names it
    const audit = await knex('mfa_audit_events')
      .where({ actor_email: BOB.email, action: 'org.users', outcome: 'refused' })
      .select('reason', 'organisation_slug');
    expect(audit).toContainEqual({ reason: 'not an admin of acme', organisation_slug: null });
    // a plain member is refused too
    expectOneLineError(await as(FRANK, ['org', 'users', '--org', 'globex']), 5);
  }, 60_000);

  it('org users --csv: RFC 4180 with CRLF, a header row, and awkward names round-trip exactly', async () => {
    const awkward: Record<string, string> = {
      'csv-comma@acme.example': 'Smith, John',
      'csv-quote@acme.example': 'O"Brien',
      'csv-newline@acme.example': 'First line\nsecond line',
      'csv-unicode@acme.example': 'Zoë Ünïcödé 日本',
      'csv-padded@acme.example': '  padded,  name  ',
    };
    const acme = await orgId('acme');
    const now = testNow();
    for (const [email, name] of Object.entries(awkward)) {
      await knex('users').insert({ email, name, password_hash: `$2b$10$${'x'.repeat(53)}`, role: 'developer', created_at: now });
      const { id } = (await knex('users').where({ email }).first('id'))!;
      await knex('organisation_members').insert({ organisation_id: acme, user_id: Number(id), role: 'member', created_at: now });
    }

    const r = ok(await as(ALICE, ['org', 'users', '--org', 'acme', '--csv']));
    expect(r.stdout.startsWith(`${MEMBER_FIELDS.join(',')}\r\n`)).toBe(true);
    expect(r.stdout.endsWith('\r\n')).toBe(true);
    // Only CRLF separates records: parsed with CRLF as the sole record delimiter, the count is exact
    // (a bare LF outside quotes would glue two records together).
    const records = parseCsv(r.stdout, { record_delimiter: '\r\n' }) as string[][];
    expect(records[0]).toEqual(MEMBER_FIELDS);
    const everyone = await memberEmails('acme');
    expect(records).toHaveLength(everyone.length + 1);
    expect(records.every((rec) => rec.length === MEMBER_FIELDS.length)).toBe(true);
    expect(parseCsv(r.stdout)).toEqual(records); // and a default (auto-delimiter) parser agrees
    const byEmail = new Map(records.slice(1).map((rec) => [rec[0]!, rec]));
    expect([...byEmail.keys()].sort()).toEqual(everyone);
    for (const [email, name] of Object.entries(awkward)) {
      expect(byEmail.get(email)?.[1], email).toBe(name);
      expect(byEmail.get(email)?.slice(2)).toEqual(['member', 'none', '', '', '0', '', 'true']);
    }

    // the same names survive NDJSON: still one record per line
    const lines = ok(await as(ALICE, ['org', 'users', '--org', 'acme', '--json']))
      .stdout.trimEnd()
      .split('\n');
    expect(lines).toHaveLength(everyone.length);
    const names = new Map(lines.map((l) => JSON.parse(l) as { email: string; name: string }).map((x) => [x.email, x.name]));
    for (const [email, name] of Object.entries(awkward)) expect(names.get(email)).toBe(name);

    expectOneLineError(await as(ALICE, ['org', 'users', '--org', 'acme', '--csv', '--json']), 2);
  }, 60_000);

  it('org policy: --require with a grace period reports who lacks MFA; members get a warning, then are made to enrol', async () => {
    const globexAll = await memberEmails('globex');
    const globexAdmins = await memberEmails('globex', (q) => q.where('m.role', 'admin'));
    const active = await activeEmails();
    const lacking = globexAll.filter((e) => !active.includes(e));
    const lackingAdmins = globexAdmins.filter((e) => !active.includes(e));
    expect(lackingAdmins).toContain(BOB.email); // admins count too

    const req = await as(BOB, ['org', 'policy', '--org', 'globex', '--require', '--grace-days', '7', '--yes', '--json']);
    const doc = json(req);
    expect(doc).toMatchObject({
      organisation: 'globex',
      mfaRequired: true,
      graceDays: 7,
      membersWithoutMfa: lacking.length,
      adminsWithoutMfa: lackingAdmins.length,
    });
    expect(req.stderr).toMatch(new RegExp(`${lacking.length} member\\(s\\)[^\\n]*${lackingAdmins.length} admin`));

    const listed = (json(await as(BOB, ['org', 'list', '--json'])) as Array<Record<string, unknown>>).find((o) => o.slug === 'globex');
    expect(listed).toMatchObject({ mfaRequired: true, graceDays: 7 });

    // inside the grace period frank (no MFA) still logs in, with a warning naming globex
    const frankEnv = makeCliEnv({ PORTAL_MFA_KEY: env.PORTAL_MFA_KEY }).env;
    const inGrace = await as(FRANK, ['login'], frankEnv);
    expect(inGrace.code, describeRun(inGrace)).toBe(0);
    expect(inGrace.stderr).toMatch(/warning/i);
    expect(inGrace.stderr).toMatch(/globex/);
    ok(await cli(['logout'], undefined, frankEnv));

    // a plain member may not change the policy, nor an admin of another organisation
    expectOneLineError(await as(FRANK, ['org', 'policy', '--org', 'globex', '--no-require', '--yes']), 5);
    expectOneLineError(await as(BOB, ['org', 'policy', '--org', 'acme', '--no-require', '--yes']), 5);

    // no grace: a login without MFA (and without a terminal to enrol on) is refused
    expect(json(await as(BOB, ['org', 'policy', '--org', 'globex', '--grace-days', '0', '--yes', '--json']))).toMatchObject({
      mfaRequired: true,
      graceDays: null,
    });
    const refused = await as(FRANK, ['login'], frankEnv);
    expectOneLineError(refused, 6, /globex/);
    // rule 4 on every path: a member — or an admin — who must enrol may do nothing else until enrolled
    expectOneLineError(await as(FRANK, ['org', 'policy', '--org', 'globex', '--no-require', '--yes']), 6, /enrol/);
    expectOneLineError(await as(BOB, ['org', 'policy', '--org', 'globex', '--no-require', '--yes']), 6, /enrol/);
    // nothing changed
    expect(json(await as(OLIVIA, ['org', 'list', '--json'])).find((o: { slug: string }) => o.slug === 'globex')).toMatchObject({
      mfaRequired: true,
      graceDays: null,
    });

    const audit = await knex('mfa_audit_events').where({ action: 'org.policy', organisation_slug: 'globex' }).orderBy('id').select('actor_email', 'outcome');
    expect(audit.filter((a: { outcome: string }) => a.outcome === 'success').map((a: { actor_email: string }) => a.actor_email)).toEqual([
      BOB.email,
      BOB.email,
    ]);
    // frank's attempt was stopped by the rule-4 gate before anything else, and audited there
    expect(
      await knex('mfa_audit_events')
        .where({ actor_email: FRANK.email, outcome: 'refused', reason: 'has not set up MFA, which globex requires' })
        .count({ n: '*' })
        .first(),
    ).not.toEqual({ n: 0 });

    // back to optional (olivia, the other globex admin, has MFA), so the other tests' logins are unaffected
    expect(json(await as(OLIVIA, ['org', 'policy', '--org', 'globex', '--no-require', '--yes', '--json']))).toMatchObject({ mfaRequired: false });
    ok(await as(FRANK, ['login'], frankEnv));
  }, 90_000);

  it('org disable-mfa --users-from FILE: one result per line, dry run first, only members with MFA change', async () => {
    const withMfa = [member(3), member(4), member(5)];
    for (const m of withMfa) await enrol(m);
    const noMfa = member(6);
    // an admin gets `forbidden` for an unknown email and for a non-member alike (no enumeration), and for
    // a protected account (olivia: an admin); a user without MFA is `already-off` (not a failure); a
    // duplicate (after lower-casing) is reported once
    const input = [
      withMfa[0]!.email,
      withMfa[1]!.email,
      withMfa[2]!.email,
      'nobody@acme.example',
      DEVON.email,
      'not-an-email',
      noMfa.email,
      withMfa[0]!.email.toUpperCase(),
      OLIVIA.email,
    ];
    const file = path.join(tmp, 'users.txt');
    writeFileSync(file, `${input.join('\n')}\n`);
    const expected = ['disabled', 'disabled', 'disabled', 'forbidden', 'forbidden', 'invalid', 'already-off', 'forbidden'];
    const expectedExit = [0, 0, 0, 5, 5, 2, 0, 5];

    const before = await mfaSnapshot();
    for (const m of withMfa) {
      expect(before.credentials[m.email]).toBe(1);
      expect(before.recoveryCodes[m.email]).toBeGreaterThan(0);
    }

    // destructive without --yes and without a terminal: refused, nothing changed
    expectOneLineError(await as(ALICE, ['org', 'disable-mfa', '--org', 'acme', '--users-from', file, '--json']), 2, /--yes/);
    // checked before the password is read: with no password on stdin it is the same error
    expectOneLineError(await cli(['org', 'disable-mfa', '--org', 'acme', '--users-from', file, '--as', ALICE.email]), 2, /--yes/);
    expect(await mfaSnapshot()).toEqual(before);

    const dry = await as(ALICE, ['org', 'disable-mfa', '--org', 'acme', '--users-from', file, '--dry-run', '--json']);
    expect(dry.code, describeRun(dry)).not.toBe(0);
    expect(dry.code).toBe(5); // the first failure (nobody: forbidden)
    const dryResults = ndjson(dry);
    expect(dryResults.map((x) => x.outcome)).toEqual(expected.map((o) => (o === 'disabled' ? 'would-disable' : o)));
    expect(dryResults.map((x) => x.exitCode)).toEqual(expectedExit);
    expect(await mfaSnapshot()).toEqual(before);

    const real = await as(ALICE, ['org', 'disable-mfa', '--org', 'acme', '--users-from', file, '--yes', '--json']);
    expect(real.code, describeRun(real)).toBe(5);
    const results = ndjson(real);
    expect(results).toHaveLength(input.length - 1);
    expect(results.map((x) => x.outcome)).toEqual(expected);
    for (const x of results) expect(Object.keys(x).sort()).toEqual(['email', 'exitCode', 'message', 'outcome']);
    expect(results.map((x) => x.exitCode)).toEqual(expectedExit);
    expect(results.slice(0, 3).map((x) => x.email)).toEqual(withMfa.map((m) => m.email));
    // the same words for an unknown email and a non-member
    expect(results[3]!.message).toBe('may not act on nobody@acme.example');
    expect(results[4]!.message).toBe(`may not act on ${DEVON.email}`);
    // the refusals are audited (the unknown email by text only)
    const refusals = await knex('mfa_audit_events')
      .where({ action: 'org.disable-mfa', outcome: 'refused', actor_email: ALICE.email })
      .select('target_email', 'target_user_id', 'reason');
    expect(refusals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ target_email: 'nobody@acme.example', target_user_id: null }),
        expect.objectContaining({ target_email: DEVON.email }),
        expect.objectContaining({ target_email: OLIVIA.email, reason: 'protected account' }),
      ]),
    );
    expect(before.credentials[OLIVIA.email]).toBe(1);

    const after = await mfaSnapshot();
    for (const m of withMfa) {
      expect(after.credentials[m.email]).toBeUndefined();
      expect(after.recoveryCodes[m.email]).toBeUndefined();
    }
    // everyone else is exactly as before
    const others = (snap: typeof before) => {
      const drop = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).filter(([e]) => !withMfa.some((m) => m.email === e)));
      return { credentials: drop(snap.credentials), recoveryCodes: drop(snap.recoveryCodes), devices: drop(snap.devices) };
    };
    expect(others(after)).toEqual(others(before));

    const audit = await knex('mfa_audit_events')
      .where({ action: 'org.disable-mfa', outcome: 'success', organisation_slug: 'acme' })
      .select('actor_email', 'target_email');
    expect(audit.map((a: { target_email: string }) => a.target_email).sort()).toEqual(withMfa.map((m) => m.email).sort());
    expect(new Set(audit.map((a: { actor_email: string }) => a.actor_email))).toEqual(new Set([ALICE.email]));

    // they can be listed as having no MFA now
    const off = emailsOf(await orgUsers(ALICE, '--mfa', 'off'));
    for (const m of withMfa) expect(off).toContain(m.email);
  }, 120_000);

  it('org disable-mfa --users-from a CSV file with an email column', async () => {
    await enrol(member(7));
    const file = path.join(tmp, 'users.csv');
    writeFileSync(file, `name,email\r\n"Seven, Member",${member(7).email}\r\n"Eight",${member(8).email}\r\n`);
    const r = await as(ALICE, ['org', 'disable-mfa', '--org', 'acme', '--users-from', file, '--yes', '--json']);
    // member 8 has no MFA: already off, which does not fail the run
    expect(r.code, describeRun(r)).toBe(0);
    expect(ndjson(r).map((x) => [x.email, x.outcome, x.exitCode])).toEqual([
      [member(7).email, 'disabled', 0],
      [member(8).email, 'already-off', 0],
    ]);
    expect(await activeEmails()).not.toContain(member(7).email);

    // all of them fine → exit 0
    await enrol(member(7));
    writeFileSync(file, `email\n${member(7).email}\n`);
    const allOk = await as(ALICE, ['org', 'disable-mfa', '--org', 'acme', '--users-from', file, '--yes', '--json']);
    expect(allOk.code, describeRun(allOk)).toBe(0);
    expect(ndjson(allOk)).toEqual([{ email: member(7).email, outcome: 'disabled', exitCode: 0, message: expect.any(String) }]);

    // a CSV without an email column is a usage error, and changes nothing
    writeFileSync(file, 'name,mail\nx,y@acme.example\n');
    expectOneLineError(await as(ALICE, ['org', 'disable-mfa', '--org', 'acme', '--users-from', file, '--yes', '--json']), 2, /email/);
  }, 90_000);

  it('org disable-mfa --users-from -: with --password-stdin line 1 is the password and the list follows; a session without a terminal is refused', async () => {
    // a CLI session (bob, globex admin): the list comes from stdin, but the sensitive action's
    // password re-entry has no terminal to prompt on → exit 2, nothing changed
    await enrol(member(3));
    const before = await mfaSnapshot();
    const bobEnv = makeCliEnv({ PORTAL_MFA_KEY: env.PORTAL_MFA_KEY }).env;
    ok(await as(BOB, ['login'], bobEnv));
    const viaSession = await cli(['org', 'disable-mfa', '--org', 'globex', '--users-from', '-', '--yes', '--json'], `${FRANK.email}\n`, bobEnv);
    expectOneLineError(viaSession, 2, /password/i);
    expect(viaSession.stdout).toBe('');
    expect(await mfaSnapshot()).toEqual(before);
    ok(await cli(['logout'], undefined, bobEnv));

    // --password-stdin: password first, then the list (one email a line)
    const both = await cli(
      ['org', 'disable-mfa', '--org', 'acme', '--users-from', '-', '--yes', '--json', '--as', ALICE.email, '--password-stdin'],
      `${ALICE.password}\n${member(3).email}\n`,
    );
    expect(both.code).toBe(0);
    const results = both.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(results).toEqual([{ email: member(3).email, outcome: 'disabled', exitCode: 0, message: 'MFA disabled' }]);
    expect(await mfaSnapshot()).not.toEqual(before);
  }, 60_000);

  it('org disable-mfa by support: --ticket required (exit 2); audited as mfa.reset; not-found and not-member are reported to support', async () => {
    await enrol(member(5));
    const file = path.join(tmp, 'support-users.txt');
    writeFileSync(file, [member(5).email, 'nobody@acme.example', DEVON.email, member(6).email].join('\n') + '\n');
    const before = await mfaSnapshot();

    const noTicket = await as(SAM, ['org', 'disable-mfa', '--org', 'acme', '--users-from', file, '--yes', '--json']);
    expectOneLineError(noTicket, 2, /ticket/);
    expect(noTicket.stdout).toBe('');
    expect(await mfaSnapshot()).toEqual(before);

    const r = await as(SAM, ['org', 'disable-mfa', '--org', 'acme', '--users-from', file, '--ticket', 'SUP-31', '--yes', '--json']);
    expect(r.code, describeRun(r)).toBe(3);
    expect(ndjson(r).map((x) => [x.email, x.outcome, x.exitCode])).toEqual([
      [member(5).email, 'disabled', 0],
      ['nobody@acme.example', 'not-found', 3],
      [DEVON.email, 'not-member', 3],
      [member(6).email, 'already-off', 0],
    ]);
    expect(await activeEmails()).not.toContain(member(5).email);
    const rows = await knex('mfa_audit_events')
      .where({ actor_email: SAM.email, target_email: member(5).email, outcome: 'success' })
      .select('action', 'ticket', 'organisation_slug');
    expect(rows).toEqual([{ action: 'mfa.reset', ticket: 'SUP-31', organisation_slug: 'acme' }]);
    expect(await knex('mfa_audit_events').where({ actor_email: SAM.email, action: 'org.disable-mfa', outcome: 'success' }).select('id')).toEqual([]);
  }, 90_000);

  it("org disable-mfa with the organisation's own CSV: the acting admin is warned and skipped (skipped-self, audited) unless --include-self", async () => {
    // the export an admin would start from lists her too
    const csv = path.join(tmp, 'acme-members.csv');
    writeFileSync(csv, ok(await as(ALICE, ['org', 'users', '--org', 'acme', '--csv'])).stdout);
    const warning = `warning: the list names you (${ALICE.email}): your own MFA stays on (skipped-self); add --include-self to disable it too`;
    const dry = await as(ALICE, ['org', 'disable-mfa', '--org', 'acme', '--users-from', csv, '--dry-run', '--json']);
    expect(ndjson(dry).find((x) => x.email === ALICE.email)).toEqual({
      email: ALICE.email,
      outcome: 'skipped-self',
      exitCode: 0,
      message: 'your own account: skipped',
    });
    expect(dry.stderr.split('\n')[0]).toBe(warning);
    expect(await activeEmails()).toContain(ALICE.email);

    // a real run: the others are done, she is not; the refusal is on the record
    await enrol(member(8));
    const list = path.join(tmp, 'with-self.txt');
    writeFileSync(list, `${ALICE.email}\n${member(8).email}\n`);
    const run = await as(ALICE, ['org', 'disable-mfa', '--org', 'acme', '--users-from', list, '--yes', '--json']);
    expect(run.code, describeRun(run)).toBe(0);
    expect(ndjson(run).map((x) => [x.email, x.outcome, x.exitCode])).toEqual([
      [ALICE.email, 'skipped-self', 0],
      [member(8).email, 'disabled', 0],
    ]);
    expect(run.stderr).toContain(warning);
    expect(await activeEmails()).toContain(ALICE.email);
    expect(await activeEmails()).not.toContain(member(8).email);
    expect(
      await knex('mfa_audit_events')
        .where({ actor_email: ALICE.email, target_email: ALICE.email, action: 'org.disable-mfa', outcome: 'refused' })
        .pluck('reason'),
    ).toEqual(['their own account, not included in their own bulk run', 'their own account, not included in their own bulk run']);

    // --include-self: said, and done (as her own disable)
    const included = await as(ALICE, ['org', 'disable-mfa', '--org', 'acme', '--users-from', list, '--include-self', '--yes', '--json']);
    expect(included.code, describeRun(included)).toBe(0);
    expect(ndjson(included).map((x) => [x.email, x.outcome])).toEqual([
      [ALICE.email, 'disabled'],
      [member(8).email, 'already-off'],
    ]);
    expect(included.stderr).toContain(`the list names you (${ALICE.email}) and --include-self is given: your own MFA is disabled too`);
    expect(await activeEmails()).not.toContain(ALICE.email);
    expect(await knex('mfa_audit_events').where({ target_email: ALICE.email, action: 'mfa.disable', outcome: 'success' }).pluck('actor_email')).toEqual([
      ALICE.email,
    ]);
  }, 90_000);
});

// =================================================================================================

describeEachDatabase('keys rotate: interrupted, resumed, locked', (getDb) => {
  let knex: Knex;
  let baseEnv: NodeJS.ProcessEnv;
  let url = '';
  let tmp = '';
  const OLD = newKeyBase64();
  const NEW = newKeyBase64();
  const oldKey = keyFromBase64(OLD);
  const newKey = keyFromBase64(NEW);
  const users = [1, 2, 3, 4, 5, 6].map(member);
  const withKey = (k: string): NodeJS.ProcessEnv => ({ ...baseEnv, PORTAL_MFA_KEY: k });
  const { cli, cliProcess, ok, json, enrol, verifyOwnCode } = cliHarness(
    () => url,
    () => withKey(OLD),
  );
  const keyIds = async () => (await knex('mfa_credentials').orderBy('id').pluck('key_id')).map(String);
  const keyFile = (b64: string) => {
    const f = path.join(tmp, `key-${randomBytes(4).toString('hex')}`);
    writeFileSync(f, `${b64}\n`, { mode: 0o600 });
    return f;
  };

  beforeAll(async () => {
    const db = getDb();
    url = db.url;
    baseEnv = makeCliEnv().env;
    tmp = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-keys-test-'));
    knex = connect(db);
    ok(await cli(['db', 'migrate']));
    ok(await cli(['demo', '--members', String(users.length)]));
    await cheapDemoPasswords(knex);
    for (const u of users) await enrol(u);
  }, 120_000);

  afterAll(async () => {
    await knex?.destroy();
  });

  it('an interrupted rotation leaves both keys in use; everyone still verifies with NEW,OLD; the CLI finishes it', async () => {
    expect(await keyIds()).toEqual(users.map(() => oldKey.id));

    // interrupted after one batch of two
    const deps = {
      db: makeDb(knex, DEFAULT_TABLE_PREFIX, DEMO_MAPPING),
      clock: testNow,
      random: (n: number) => randomBytes(n),
      settings: DEFAULT_SETTINGS,
      origin: { host: os.hostname(), osUser: 'org-test' },
      keyring: () => [oldKey, newKey],
    };
    const partial = await rotateKeys(deps, newKey, { batchSize: 2, stopAfterBatches: 1 });
    expect(partial).toMatchObject({ newKeyId: newKey.id, rotated: 2, alreadyDone: false });
    const mixed = await keyIds();
    expect(mixed.filter((k) => k === newKey.id)).toHaveLength(2);
    expect(mixed.filter((k) => k === oldKey.id)).toHaveLength(users.length - 2);
    expect(Number((await knex('mfa_maintenance_locks').count({ n: '*' }).first())?.n)).toBe(0); // lock released

    // half-way: every user still verifies while both keys are configured
    for (const u of users) {
      const r = await verifyOwnCode(u, withKey(`${NEW},${OLD}`));
      expect(r.code, `${u.email}: ${describeRun(r)}`).toBe(0);
    }

    // the CLI finishes the job
    const newFile = keyFile(NEW);
    const done = json(await cli(['keys', 'rotate', '--yes', '--new-key-file', newFile, '--json'], undefined, withKey(`${NEW},${OLD}`)));
    expect(done).toMatchObject({ newKeyId: newKey.id, rotated: users.length - 2 });
    expect(await keyIds()).toEqual(users.map(() => newKey.id));
    // a rerun has nothing to do
    expect(json(await cli(['keys', 'rotate', '--yes', '--new-key-file', newFile, '--json'], undefined, withKey(`${NEW},${OLD}`)))).toMatchObject({
      rotated: 0,
    });

    // the new key alone is enough now…
    for (const u of users) {
      const r = await verifyOwnCode(u, withKey(NEW));
      expect(r.code, `${u.email}: ${describeRun(r)}`).toBe(0);
    }
    // …and the old key alone can no longer read the secrets: a configuration error, not a wrong code
    const oldOnly = await verifyOwnCode(users[0]!, withKey(OLD));
    expectOneLineError(oldOnly, 10);
    const failures = await knex('mfa_credentials').sum({ n: 'consecutive_failures' }).first();
    expect(Number(failures?.n ?? 0)).toBe(0);

    const audit = await knex('mfa_audit_events').where({ action: 'keys.rotate' }).orderBy('id').pluck('outcome');
    expect(audit).toContain('started');
    expect(audit).toContain('success');
  }, 120_000);

  it('only one rotation at a time: concurrent runs, and a held lock refuses with exit 6', async () => {
    const NEWER = newKeyBase64();
    const newerKey = keyFromBase64(NEWER);
    const newerFile = keyFile(NEWER);
    const rotateEnv = withKey(`${NEWER},${NEW}`);
    const [a, b] = await Promise.all([
      cliProcess(['keys', 'rotate', '--yes', '--new-key-file', newerFile, '--json'], rotateEnv),
      cliProcess(['keys', 'rotate', '--yes', '--new-key-file', newerFile, '--json'], rotateEnv),
    ]);
    const codes = [a.code, b.code].sort();
    if (codes[1] === 6) {
      expect(codes, `${describeRun(a)}\n${describeRun(b)}`).toEqual([0, 6]);
      expectOneLineError(a.code === 6 ? a : b, 6, /another key rotation/);
    } else {
      // the second started after the first had finished: nothing left to do
      expect(codes, `${describeRun(a)}\n${describeRun(b)}`).toEqual([0, 0]);
      expect([JSON.parse(a.stdout).rotated, JSON.parse(b.stdout).rotated].sort()).toEqual([0, users.length]);
    }
    expect(await keyIds()).toEqual(users.map(() => newerKey.id));
    expect((await verifyOwnCode(users[1]!, withKey(NEWER))).code).toBe(0);

    // make the overlap certain: someone holds the lock
    const now = testNow();
    await knex('mfa_maintenance_locks').insert({ name: 'keys.rotate', holder: 'ops@bastion pid 4242', acquired_at: now, expires_at: now + 10 * 60_000 });
    try {
      const NEWEST = newKeyBase64();
      const held = await cli(['keys', 'rotate', '--yes', '--new-key-file', keyFile(NEWEST), '--json'], undefined, withKey(`${NEWEST},${NEWER}`));
      expectOneLineError(held, 6, /another key rotation.*ops@bastion/);
      expect(held.stdout).toBe('');
      expect(await keyIds()).toEqual(users.map(() => newerKey.id));
      expect(await knex('mfa_maintenance_locks').where({ name: 'keys.rotate' }).first('holder')).toEqual({ holder: 'ops@bastion pid 4242' });
    } finally {
      await knex('mfa_maintenance_locks').where({ name: 'keys.rotate' }).delete();
    }
  }, 90_000);
});
