import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { generateKeyBase64 } from '../../src/core/primitives/secretBox.js';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { parseDatabaseUrl } from '../../src/db/url.js';
import type { PortalUser } from '../../src/core/domain.js';
import { findUserByEmail } from '../../src/core/rules/identity.js';
import { describeRun, expectOneLineError, makeCliEnv, runCli, runCliProcess, type CliResult } from '../support/cli.js';
import { describeEachDatabase } from '../support/databases.js';
import { PtySession } from '../support/pty.js';
import { makeFixtures, type Enrolled, type Fixtures, type FullMfaOptions } from '../support/fixtures.js';
import { ALICE, type Account, BOB, DAVE, DEVON, ERIN, FRANK, SAM, member, nextCode, cheapDemoPasswords } from '../support/scenario.js';

// every test runs the built binary several times (bcrypt, a process start): slow on a busy 2-core machine
vi.setConfig({ testTimeout: 120_000 });

describeEachDatabase('disable and reset (SPEC rules 8–9)', (getDb) => {
  let db: Database;
  let knex: Knex;
  let fx: Fixtures;
  let aliceTotp: Enrolled;
  let env: NodeJS.ProcessEnv;
  let url: string;
  let dialect: 'sqlite' | 'mysql';

  const cli = (args: string[], stdin?: string, e: NodeJS.ProcessEnv = env) => runCli(['--db', url, ...args], { env: e, stdin, timeoutMs: 90_000 });
  const as = (who: Account, args: string[], e: NodeJS.ProcessEnv = env) => cli(['--as', who.email, '--password-stdin', ...args], `${who.password}\n`, e);
  const ok = (r: CliResult) => {
    expect(r.code, describeRun(r)).toBe(0);
    return r.stdout.trim() === '' ? null : JSON.parse(r.stdout);
  };
  const user = async (a: Account): Promise<PortalUser> => (await findUserByEmail(fx.deps.db, a.email))!;

  /** Active MFA with ten recovery codes, a trusted device and an open CLI session. */
  const giveFullMfa = (a: Account, opts: FullMfaOptions = {}) => fx.giveFullMfa(a, opts);

  /** Everything of a user's MFA as rows, for before/after comparisons. */
  async function snapshot(a: Account) {
    const u = await user(a);
    const rows = (table: string) => knex(table).where('user_id', u.id).orderBy('id').select('*');
    return {
      credentials: await rows('mfa_credentials'),
      recoveryCodes: await rows('mfa_recovery_codes'),
      trustedDevices: await rows('mfa_trusted_devices'),
      sessions: await rows('mfa_sessions'),
      audit: await knex('mfa_audit_events').where('target_user_id', u.id).orderBy('id').select('*'),
    };
  }

  async function expectAllGone(a: Account) {
    const s = await snapshot(a);
    expect(s.credentials, 'mfa_credentials').toEqual([]);
    expect(s.recoveryCodes, 'mfa_recovery_codes').toEqual([]);
    expect(s.trustedDevices, 'mfa_trusted_devices').toEqual([]);
    expect(s.sessions.length).toBeGreaterThan(0);
    expect(
      s.sessions.filter((r) => r.ended_at === null),
      'open cli_sessions',
    ).toEqual([]);
    return s;
  }

  beforeAll(async () => {
    const tdb = getDb();
    url = tdb.url;
    dialect = tdb.dialect;
    const keyB64 = generateKeyBase64();
    env = makeCliEnv({ PORTAL_MFA_KEY: keyB64 }).env;
    const migrate = await cli(['db', 'migrate']);
    expect(migrate.code, describeRun(migrate)).toBe(0);
    const demo = await cli(['demo', '--members', '6']);
    expect(demo.code, describeRun(demo)).toBe(0);
    db = await openDatabase(parseDatabaseUrl(url));
    knex = db.knex;
    await cheapDemoPasswords(knex);
    fx = makeFixtures(knex, keyB64, 'disable-test');
    aliceTotp = await fx.enrol(ALICE);
  }, 180_000);

  afterAll(async () => {
    await db?.close();
  });

  it('a support reset removes the secret, the pending enrolment, recovery codes, trusted devices and sessions, with one mfa.reset row', async () => {
    await giveFullMfa(ERIN, { pendingReplacement: true });
    await giveFullMfa(DAVE); // a bystander
    const before = await snapshot(ERIN);
    expect(before.credentials.map((c) => c.status).sort()).toEqual(['active', 'pending']);
    expect(before.recoveryCodes).toHaveLength(10);
    expect(before.trustedDevices).toHaveLength(1);
    expect(before.sessions.filter((s) => s.ended_at === null)).toHaveLength(1);
    const daveBefore = await snapshot(DAVE);

    const r = await as(SAM, ['disable', '--user', ERIN.email, '--ticket', 'SUP-1001', '--reason', 'lost phone', '--yes', '--json']);
    expect(ok(r)).toMatchObject({
      email: ERIN.email,
      disabled: true,
      via: 'support',
      ticket: 'SUP-1001',
      removed: { credentials: 2, recoveryCodes: 10, trustedDevices: 1, sessions: 1 },
    });

    const after = await expectAllGone(ERIN);
    const newAudit = after.audit.slice(before.audit.length);
    expect(newAudit).toHaveLength(1);
    expect(newAudit[0]).toMatchObject({
      action: 'mfa.reset',
      outcome: 'success',
      actor_email: SAM.email,
      target_email: ERIN.email,
      organisation_slug: null,
      ticket: 'SUP-1001',
      reason: 'lost phone',
    });
    expect(String(newAudit[0]!.host)).not.toBe('');
    expect(String(newAudit[0]!.os_user)).not.toBe('');
    expect(after.audit.slice(0, before.audit.length)).toEqual(before.audit);
    // nobody else's MFA was touched
    expect(await snapshot(DAVE)).toEqual(daveBefore);
    // erin starts again: password only, a new enrolment
    expect(ok(await as(ERIN, ['enroll', '--no-confirm', '--json']))).toMatchObject({ status: 'pending', email: ERIN.email });
  });

  it("an organisation admin's disable is org.disable-mfa in that organisation", async () => {
    const before = await snapshot(DAVE);
    expect(before.credentials).toHaveLength(1);
    const r = await as(ALICE, ['--code', await nextCode(aliceTotp), 'disable', '--user', DAVE.email, '--yes', '--json']);
    expect(ok(r)).toMatchObject({ email: DAVE.email, disabled: true, via: 'org-admin', organisation: 'acme', ticket: null });
    const after = await expectAllGone(DAVE);
    const newAudit = after.audit.slice(before.audit.length);
    expect(newAudit).toEqual([
      expect.objectContaining({ action: 'org.disable-mfa', outcome: 'success', actor_email: ALICE.email, organisation_slug: 'acme', ticket: null }),
    ]);
  });

  it("a self-disable is mfa.disable, and forgets this machine's trusted-device token", async () => {
    const totp = await giveFullMfa(DEVON);
    // trust this machine: the later disable then needs the password but no code
    const code = await nextCode(totp);
    const login = await cli(['login', '--as', DEVON.email, '--password-stdin', '--code', '-', '--trust-device', '--json'], `${DEVON.password}\n${code}\n`);
    expect(ok(login).trustedDevice).toBeDefined();
    const devicesFile = path.join(env.XDG_CONFIG_HOME!, 'portal-mfa', 'devices.json');
    expect(readFileSync(devicesFile, 'utf8')).toContain(DEVON.email);

    const before = await snapshot(DEVON);
    expect(before.trustedDevices).toHaveLength(2);
    const r = await as(DEVON, ['disable', '--yes', '--json']);
    expect(ok(r)).toMatchObject({ email: DEVON.email, disabled: true, via: 'self', removed: { credentials: 1, recoveryCodes: 10, trustedDevices: 2 } });
    const after = await expectAllGone(DEVON);
    expect(after.audit.slice(before.audit.length)).toEqual([
      expect.objectContaining({ action: 'mfa.disable', outcome: 'success', actor_email: DEVON.email, organisation_slug: null, ticket: null }),
    ]);
    expect(readFileSync(devicesFile, 'utf8')).not.toContain(DEVON.email);
  });

  it('a wrong password (with --as, or on re-entry in a session) is exit 1 and changes nothing', async () => {
    const target = member(1);
    await giveFullMfa(target);
    await giveFullMfa(FRANK);
    const before = await snapshot(target);
    const frankBefore = await snapshot(FRANK);

    const wrong = await cli(['--as', SAM.email, '--password-stdin', 'disable', '--user', target.email, '--ticket', 'SUP-1', '--yes'], 'not-sams-password\n');
    expectOneLineError(wrong, 1, /password/);
    expect(await snapshot(target)).toEqual(before);

    // bob has a CLI session; disabling still asks for his password, and a wrong one is refused
    const bobEnv = makeCliEnv({ PORTAL_MFA_KEY: env.PORTAL_MFA_KEY! }).env;
    ok(await as(BOB, ['login', '--json'], bobEnv));
    const noPassword = await cli(['disable', '--user', FRANK.email, '--yes'], undefined, bobEnv);
    expectOneLineError(noPassword, 2, /password/);
    const reentry = await cli(['disable', '--user', FRANK.email, '--password-stdin', '--yes'], 'not-bobs-password\n', bobEnv);
    expectOneLineError(reentry, 1, /password/);
    expect(await snapshot(FRANK)).toEqual(frankBefore);
    // the wrong re-entry is audited (and counted towards the wrong-password limit)
    const failures = await knex('mfa_audit_events').where({ actor_email: BOB.email, action: 'mfa.disable.reauth', outcome: 'failure' }).select('*');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ target_email: BOB.email, reason: 'wrong password' });
    expect(await knex('mfa_audit_events').where({ actor_email: SAM.email, outcome: 'failure' }).select('id')).toHaveLength(1);
  });

  it('no MFA is exit 6 (wrong state) and writes no reset', async () => {
    const target = member(2);
    const before = await snapshot(target);
    expect(before.credentials).toEqual([]);
    expectOneLineError(await as(SAM, ['disable', '--user', target.email, '--ticket', 'SUP-2', '--yes']), 6, /not enabled/);
    // a member of acme without MFA may only enrol (rule 4, --as included): also exit 6, naming enroll
    expectOneLineError(await as(target, ['disable', '--yes']), 6, /enroll/);
    // (the rule-4 refusal itself may be audited; nothing else changes)
    const withoutRefusals = (snap: typeof before) => ({ ...snap, audit: snap.audit.filter((r) => r.outcome !== 'refused') });
    expect(withoutRefusals(await snapshot(target))).toEqual(withoutRefusals(before));
    // devon (no organisation) disabled his MFA above: his own disable has nothing to do
    const devonBefore = await snapshot(DEVON);
    expectOneLineError(await as(DEVON, ['disable', '--yes']), 6, /not enabled/);
    expect(await snapshot(DEVON)).toEqual(devonBefore);
  });

  it('without --yes and no terminal: exit 2; declined on a terminal: exit 130 — nothing changed either way', async () => {
    const target = member(1);
    const before = await snapshot(target);
    expect(before.credentials).toHaveLength(1);
    const r = await as(SAM, ['disable', '--user', target.email, '--ticket', 'SUP-3']);
    expectOneLineError(r, 2, /--yes/);
    expect(await snapshot(target)).toEqual(before);
    // checked before the password is read: without one on stdin it is still the --yes error
    const noPassword = await cli(['--as', SAM.email, 'disable', '--user', target.email, '--ticket', 'SUP-3']);
    expectOneLineError(noPassword, 2, /--yes/);
    expect(await snapshot(target)).toEqual(before);

    const session = new PtySession(['--db', url, '--as', SAM.email, 'disable', '--user', target.email, '--ticket', 'SUP-3'], env, {
      cols: 100,
      rows: 30,
      term: 'xterm',
    });
    await session.waitFor(/Password for/, 'the password prompt');
    session.type(`${SAM.password}\r`);
    await session.waitFor(/Disable MFA for/, 'the confirmation');
    session.type('n\r');
    expect(await session.exited, session.text).toBe(130);
    expect(session.text).toMatch(/This removes/);
    expect(await snapshot(target)).toEqual(before);
  });

  it('all or nothing: a fault while deleting trusted devices leaves every table as it was (exit 10); without it the reset succeeds', async () => {
    const target = member(3);
    await giveFullMfa(target, { pendingReplacement: true });
    const before = await snapshot(target);
    expect(before.credentials).toHaveLength(2);
    expect(before.recoveryCodes).toHaveLength(10);
    expect(before.trustedDevices).toHaveLength(1);
    const auditCount = async () => Number((await knex('mfa_audit_events').count({ n: '*' }).first())!.n);
    const auditBefore = await auditCount();

    if (dialect === 'sqlite') {
      await knex.raw(`CREATE TRIGGER t BEFORE DELETE ON mfa_trusted_devices BEGIN SELECT RAISE(ABORT, 'injected fault'); END;`);
    } else {
      await knex.raw(`CREATE TRIGGER t BEFORE DELETE ON mfa_trusted_devices FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected fault'`);
    }
    try {
      const r = await as(SAM, ['disable', '--user', target.email, '--ticket', 'SUP-4', '--yes']);
      expect(r.code, describeRun(r)).not.toBe(0);
      expectOneLineError(r, 10, /injected fault/);
      expect(await snapshot(target)).toEqual(before);
      expect(await auditCount()).toBe(auditBefore);
    } finally {
      await knex.raw('DROP TRIGGER t');
    }

    const again = await as(SAM, ['disable', '--user', target.email, '--ticket', 'SUP-4', '--yes', '--json']);
    expect(ok(again)).toMatchObject({ disabled: true, removed: { credentials: 2, recoveryCodes: 10, trustedDevices: 1 } });
    await expectAllGone(target);
    expect(await knex('mfa_audit_events').where({ target_email: target.email, action: 'mfa.reset' }).select('*')).toHaveLength(1);
  });

  it('concurrent support resets of one user (6 processes on SQLite, 10 runs on MariaDB): one succeeds, the rest are exit 6, one mfa.reset row', async () => {
    const target = member(4);
    await giveFullMfa(target);
    // processes on SQLite: better-sqlite3 is synchronous, so in-process runs would block each other
    const reset = dialect === 'sqlite' ? runCliProcess : runCli;
    const results = await Promise.all(
      Array.from({ length: dialect === 'sqlite' ? 6 : 10 }, () =>
        reset(['--db', url, '--as', SAM.email, '--password-stdin', 'disable', '--user', target.email, '--ticket', 'SUP-5', '--yes'], {
          env,
          stdin: `${SAM.password}\n`,
          timeoutMs: 60_000,
        }),
      ),
    );
    const codes = results.map((r) => r.code).sort((a, b) => a - b);
    expect(codes, results.map(describeRun).join('\n')).toEqual([0, ...Array<number>(results.length - 1).fill(6)]);
    for (const r of results.filter((x) => x.code === 6)) expectOneLineError(r, 6, /not enabled/);
    await expectAllGone(target);
    const resets = await knex('mfa_audit_events').where({ target_email: target.email, action: 'mfa.reset' }).select('*');
    expect(resets).toHaveLength(1);
    expect(resets[0]).toMatchObject({ outcome: 'success', ticket: 'SUP-5', actor_email: SAM.email });
  });
});
