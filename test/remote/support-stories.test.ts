import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeRun, expectOneLineError, makeCliEnv, runCli, type CliResult } from '../support/cli.js';
import { testNow } from '../support/clock.js';
import { describeEachDatabase } from '../support/databases.js';
import { ALICE, DEVON, ERIN, SAM, nextCode, type Totp } from '../support/scenario.js';
import type { World } from '../support/world.js';
import { openServedWorld, type ServedWorld } from './servedWorld.js';

vi.setConfig({ testTimeout: 120_000 });

const MODES = ['local', 'remote'] as const;

describeEachDatabase('support and admin stories, local and remote', (getDb) => {
  let served: ServedWorld;
  let world: World;
  let serverUrl: string;
  let keyB64: string;
  const totps: Record<string, Totp> = {};
  const localEnv = () => makeCliEnv({ PORTAL_MFA_KEY: keyB64, PORTAL_MFA_DB: getDb().url }).env;

  beforeAll(async () => {
    served = await openServedWorld(getDb().url);
    ({ world, serverUrl, keyB64 } = served);
    // support and the admin enrol once, over the database, with the key the service holds too
    for (const who of [SAM, ALICE]) {
      const env = localEnv();
      const as = (args: string[]) => runCli(['--as', who.email, ...args, '--password-stdin', '--json'], { env, stdin: `${who.password}\n`, timeoutMs: 90_000 });
      const pending = await as(['enroll', '--no-confirm']);
      expect(pending.code, describeRun(pending)).toBe(0);
      const totp: Totp = { secret: JSON.parse(pending.stdout).secret, last: 0 };
      const done = await as(['enroll', '--confirm', await nextCode(totp)]);
      expect(done.code, describeRun(done)).toBe(0);
      totps[who.email] = totp;
    }
  });
  afterAll(async () => {
    await served?.close();
  });

  for (const mode of MODES) {
    describe(mode, () => {
      const machine = () => (mode === 'local' ? localEnv() : makeCliEnv({ PORTAL_MFA_SERVER: serverUrl }).env);
      const envs: Record<string, NodeJS.ProcessEnv> = {};
      const as = (who: typeof SAM, args: string[], stdin?: string) => runCli(args, { env: envs[who.email], stdin, timeoutMs: 90_000 });
      const withPassword = (who: typeof SAM, args: string[]) => as(who, [...args, '--password-stdin'], `${who.password}\n`);
      const ok = (r: CliResult) => {
        expect(r.code, describeRun(r)).toBe(0);
        return r.stdout;
      };
      const jsonLines = (r: CliResult) =>
        ok(r)
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      const devonCredentials = async () => world.knex('mfa_credentials').where('user_id', await world.userId(DEVON.email));

      beforeAll(async () => {
        for (const who of [SAM, ALICE]) {
          envs[who.email] = machine();
          ok(await withPassword(who, ['login', '--as', who.email, '--code', await nextCode(totps[who.email]!)]));
        }
        // devon has MFA, locked after five wrong codes, for unlock and disable to act on
        const devonId = await world.userId(DEVON.email);
        for (const table of ['mfa_credentials', 'mfa_recovery_codes', 'mfa_trusted_devices']) await world.knex(table).where('user_id', devonId).delete();
        const devon = localEnv();
        const pending = JSON.parse(
          ok(await runCli(['--as', DEVON.email, 'enroll', '--no-confirm', '--password-stdin', '--json'], { env: devon, stdin: `${DEVON.password}\n` })),
        );
        const t: Totp = { secret: pending.secret, last: 0 };
        ok(await runCli(['--as', DEVON.email, 'enroll', '--confirm', await nextCode(t), '--password-stdin'], { env: devon, stdin: `${DEVON.password}\n` }));
      });

      it('status --user: support sees anyone, an admin their members; an admin of none of them is refused as if unknown (exit 5)', async () => {
        expect(JSON.parse(ok(await as(SAM, ['status', '--user', DEVON.email, '--json'])))).toMatchObject({ email: DEVON.email, mfa: 'active' });
        expect(ok(await as(SAM, ['status', '--user', DEVON.email]))).toMatch(/^user +devon@example\.com \(Devon Solo\)$/m);
        expect(JSON.parse(ok(await as(ALICE, ['status', '--user', 'dave@acme.example', '--org', 'acme', '--json'])))).toMatchObject({
          email: 'dave@acme.example',
        });
        expectOneLineError(await as(ALICE, ['status', '--user', 'bob@globex.example']), 5);
      });

      it('audit: JSON lines and the table, filtered by user; --follow stays on the database', async () => {
        const events = jsonLines(await as(SAM, ['audit', '--user', ALICE.email, '--limit', '5', '--json']));
        expect(events.length).toBeGreaterThan(0);
        for (const e of events) expect(e).toMatchObject({ id: expect.any(Number), time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
        expect(events.some((e) => e.actor === ALICE.email || e.target === ALICE.email)).toBe(true);
        const table = ok(await as(SAM, ['audit', '--user', ALICE.email, '--action', 'mfa.*', '--limit', '3']));
        expect(table.trim().split('\n')).toHaveLength(3);
        expect(table).toContain('mfa.');
        const csv = ok(await as(SAM, ['audit', '--user', ALICE.email, '--limit', '2', '--csv']));
        expect(csv.split('\n')[0]!.trimEnd()).toBe('id,time,actor,target,organisation,action,outcome,ticket,reason,host,osUser,detail');
        // an admin sees nothing of another organisation's member: refused as locally
        expectOneLineError(await as(ALICE, ['audit', '--user', 'bob@globex.example']), 5);
        if (mode === 'remote') {
          const follow = await as(SAM, ['audit', '--follow']);
          expectOneLineError(follow, 2);
          expect(follow.stderr).toContain('audit --follow is not available with a server');
        }
      });

      it('org users --org and users list: the same records, streamed', async () => {
        const members = jsonLines(await as(ALICE, ['org', 'users', '--org', 'acme', '--json']));
        expect(members).toContainEqual(expect.objectContaining({ email: ALICE.email, role: 'admin', mfa: 'active' }));
        expect(members.map((m) => m.email)).toContain('dave@acme.example');
        const csv = ok(await as(ALICE, ['org', 'users', '--org', 'acme', '--mfa', 'on', '--csv']))
          .trim()
          .split(/\r?\n/);
        expect(csv[0]).toBe('email,name,role,mfa,enrolledAt,lastUsedAt,trustedDevices,deadline,active');
        expect(csv.slice(1).every((l) => l.includes(',active,'))).toBe(true);
        expectOneLineError(await as(ALICE, ['org', 'users', '--org', 'globex']), 5);
        // no --org: the one organisation the admin administers; support must name one (exit 2)
        const only = jsonLines(await as(ALICE, ['org', 'users', '--json'])).map((m) => m.email);
        expect(only.sort()).toEqual(members.map((m) => m.email).sort());
        expectOneLineError(await as(SAM, ['org', 'users']), 2);
        const users = jsonLines(await as(SAM, ['users', 'list', '--mfa', 'on', '--json']));
        expect(users.map((u) => u.email)).toEqual(expect.arrayContaining([SAM.email, ALICE.email, DEVON.email]));
        expect(users.find((u) => u.email === DEVON.email)).toMatchObject({ mfa: 'active', locked: null });
        expectOneLineError(await as(ALICE, ['users', 'list']), 5);
      });

      it('org list and org policy: the organisations with their counts, the policy and who lacks MFA', async () => {
        const mine = JSON.parse(ok(await as(ALICE, ['org', 'list', '--json']))) as Record<string, unknown>[];
        expect(mine).toContainEqual(expect.objectContaining({ slug: 'acme', role: 'admin', mfaRequired: true, members: expect.any(Number) }));
        expect(mine.map((o) => o.slug)).not.toContain('globex');
        const all = JSON.parse(ok(await as(SAM, ['org', 'list', '--json']))) as Record<string, unknown>[];
        expect(all.map((o) => o.slug)).toEqual(expect.arrayContaining(['acme', 'globex']));
        expect(ok(await as(ALICE, ['org', 'list']))).toMatch(/^acme\t.*\tadmin\tyes/m);
        const policy = JSON.parse(ok(await as(ALICE, ['org', 'policy', '--org', 'acme', '--json'])));
        expect(policy).toMatchObject({ organisation: 'acme', mfaRequired: true, membersWithoutMfa: expect.any(Number), lacking: expect.any(Array) });
        expect(policy.lacking.map((l: { email: string }) => l.email)).toContain('dave@acme.example');
        // no --org: the one organisation the admin administers
        expect(JSON.parse(ok(await as(ALICE, ['org', 'policy', '--json'])))).toEqual(policy);
        expect(ok(await as(SAM, ['org', 'policy', '--org', 'acme']))).toMatch(/^organisation +acme$/m);
        expectOneLineError(await as(ALICE, ['org', 'policy', '--org', 'globex']), 5);
        expectOneLineError(await as(SAM, ['org', 'policy', '--dry-run']), 2);
      });

      it('org policy changes: a dry run, a question nobody answers, the change and back (the row in the database); support may not', async () => {
        const graces = async () => (await world.knex('mfa_org_policies').select('grace_days')).map((r) => r.grace_days);
        const before = await graces();
        const dry = ok(await withPassword(ALICE, ['org', 'policy', '--org', 'acme', '--device-trust', 'off', '--grace-days', '7', '--dry-run']));
        expect(dry).toMatch(/^dry run: would set acme: MFA required \(7-day grace\); trusted devices off; \d+ member\(s\) lack MFA; nothing was changed$/m);
        expectOneLineError(await withPassword(ALICE, ['org', 'policy', '--org', 'acme', '--grace-days', '7']), 2);
        expect(await graces()).toEqual(before);
        const done = JSON.parse(ok(await withPassword(ALICE, ['org', 'policy', '--grace-days', '7', '--yes', '--json'])));
        expect(done).toMatchObject({ organisation: 'acme', mfaRequired: true, graceDays: 7, deviceTrust: true, dryRun: false, devicesRevoked: 0 });
        expect(done.noticesQueued).toBe(done.membersWithoutMfa);
        expect(await graces()).toContain(7);
        expect(ok(await withPassword(ALICE, ['org', 'policy', '--org', 'acme', '--grace-days', '0', '--yes']))).toContain(
          'acme: MFA required; trusted devices allowed',
        );
        expect(await graces()).not.toContain(7);
        expectOneLineError(await withPassword(SAM, ['org', 'policy', '--org', 'acme', '--device-trust', 'off', '--yes']), 5);
      });

      it('org remind: the members without MFA, a dry run that queues nothing, then one notice each', async () => {
        const notices = async () => Number(((await world.knex('mfa_notifications').count({ n: '*' }).first()) as { n: number | string }).n);
        const before = await notices();
        const dry = ok(await as(ALICE, ['org', 'remind', '--org', 'acme', '--dry-run']));
        const [head, ...rest] = dry.trim().split('\n');
        expect(head).toMatch(/^dry run: would remind (\d+) member\(s\) of acme without MFA; nothing was queued$/);
        const count = Number(/remind (\d+)/.exec(head!)![1]);
        expect(rest).toHaveLength(count);
        expect(rest).toContainEqual(expect.stringMatching(/^ {2}dave@acme\.example {2}enrol by /));
        expect(await notices()).toBe(before);
        const done = JSON.parse(ok(await as(ALICE, ['org', 'remind', '--json'])));
        expect(done).toMatchObject({ organisation: 'acme', dryRun: false });
        expect(done.reminded).toHaveLength(count);
        expect(await notices()).toBe(before + count);
        // support may not remind, nor an admin another organisation's members
        expectOneLineError(await as(SAM, ['org', 'remind', '--org', 'acme']), 5);
        expectOneLineError(await as(ALICE, ['org', 'remind', '--org', 'globex']), 5);
      });

      it('unlock --user --ticket: the lock and failures cleared in the database', async () => {
        const devonId = await world.userId(DEVON.email);
        await world
          .knex('mfa_credentials')
          .where('user_id', devonId)
          .update({ consecutive_failures: 5, locked_until: testNow() + 15 * 60_000 });
        const dry = ok(await withPassword(SAM, ['unlock', '--user', DEVON.email, '--ticket', 'SUP-1', '--dry-run']));
        expect(dry).toMatch(/^dry run: would clear devon@example\.com's lock until/);
        expect(await devonCredentials()).toEqual([expect.objectContaining({ consecutive_failures: 5 })]);
        const done = ok(await withPassword(SAM, ['unlock', '--user', DEVON.email, '--ticket', 'SUP-1', '--yes']));
        expect(done).toMatch(/unlocked devon@example\.com \(cleared lock until/);
        expect(await devonCredentials()).toEqual([expect.objectContaining({ consecutive_failures: 0, locked_until: null })]);
        expectOneLineError(await withPassword(SAM, ['unlock', '--user', DEVON.email, '--ticket', 'SUP-1', '--yes']), 6);
      });

      it('access-code issue and revoke --user --ticket: shown once, the row in the database, out-of-range terms refused', async () => {
        const devonId = await world.userId(DEVON.email);
        const codes = () => world.knex('mfa_access_codes').where('user_id', devonId);
        await codes().delete();
        const dry = ok(await withPassword(SAM, ['access-code', 'issue', '--user', DEVON.email, '--ticket', 'SUP-3', '--uses', '2', '--dry-run']));
        expect(dry).toMatch(/^dry run: would issue devon@example\.com an access code for 2 use\(s\) until .+; nothing was changed$/m);
        expect(await codes()).toHaveLength(0);
        const tooLong = await withPassword(SAM, ['access-code', 'issue', '--user', DEVON.email, '--ticket', 'SUP-3', '--minutes', '10081', '--yes']);
        expectOneLineError(tooLong, 2);
        expect(tooLong.stderr).toContain('an access code lives 1 to 10080 minutes');
        const human = ok(await withPassword(SAM, ['access-code', 'issue', '--user', DEVON.email, '--ticket', 'SUP-3', '--yes']));
        expect(human).toMatch(/temporary access code for devon@example\.com \(shown once; 1 use\(s\), until .+\):\n {2}\S+\n/);
        const issued = JSON.parse(
          ok(await withPassword(SAM, ['access-code', 'issue', '--user', DEVON.email, '--ticket', 'SUP-3', '--uses', '2', '--yes', '--json'])),
        );
        expect(issued).toEqual({ email: DEVON.email, accessCode: expect.any(String), expiresAt: expect.stringMatching(/^\d{4}-/), uses: 2 });
        expect(await codes()).toEqual([expect.objectContaining({ uses_left: 2, revoked_at: null })]);
        // the code itself is never stored
        expect(JSON.stringify(await codes())).not.toContain(issued.accessCode);
        const dryRevoke = JSON.parse(ok(await withPassword(SAM, ['access-code', 'revoke', '--user', DEVON.email, '--ticket', 'SUP-3', '--dry-run', '--json'])));
        expect(dryRevoke).toEqual({ email: DEVON.email, revoked: false, dryRun: true });
        expect(ok(await withPassword(SAM, ['access-code', 'revoke', '--user', DEVON.email, '--ticket', 'SUP-3', '--yes']))).toContain(
          "revoked devon@example.com's access code",
        );
        expect(await codes()).toEqual([expect.objectContaining({ revoked_at: expect.anything() })]);
        expectOneLineError(await withPassword(SAM, ['access-code', 'revoke', '--user', DEVON.email, '--ticket', 'SUP-3', '--yes']), 6);
        // an admin of another organisation: refused as if unknown
        expectOneLineError(await withPassword(ALICE, ['access-code', 'issue', '--user', 'bob@globex.example', '--yes']), 5);
      });

      it('org disable-mfa: one result line per user, the summary, the first failure exit code; a question nobody answers changes nothing', async () => {
        // erin (a member of acme) has MFA for the run to disable
        const erinId = await world.userId(ERIN.email);
        for (const table of ['mfa_credentials', 'mfa_recovery_codes', 'mfa_trusted_devices']) await world.knex(table).where('user_id', erinId).delete();
        const env = localEnv();
        const pending = JSON.parse(
          ok(await runCli(['--as', ERIN.email, 'enroll', '--no-confirm', '--password-stdin', '--json'], { env, stdin: `${ERIN.password}\n` })),
        );
        const t: Totp = { secret: pending.secret, last: 0 };
        ok(await runCli(['--as', ERIN.email, 'enroll', '--confirm', await nextCode(t), '--password-stdin'], { env, stdin: `${ERIN.password}\n` }));
        const erinCredentials = () => world.knex('mfa_credentials').where('user_id', erinId);
        const list = ['--user', ERIN.email, 'dave@acme.example', 'bob@globex.example', ALICE.email];
        const lines = (r: CliResult) => r.stdout.trim().split('\n');

        const dry = await withPassword(ALICE, ['org', 'disable-mfa', '--org', 'acme', ...list, '--dry-run']);
        expect(dry.code, describeRun(dry)).toBe(5);
        expect(lines(dry)).toEqual([
          expect.stringMatching(/^erin@acme\.example\twould-disable\t0\t/),
          expect.stringMatching(/^dave@acme\.example\talready-off\t0\t/),
          expect.stringMatching(/^bob@globex\.example\tforbidden\t5\t/),
          expect.stringMatching(/^alice@acme\.example\tskipped-self\t0\t/),
        ]);
        expect(dry.stderr).toContain('dry run: 4 user(s) of acme: 1 would-disable, 1 already-off, 1 forbidden, 1 skipped-self');
        expect(dry.stderr).toContain('your own MFA stays on (skipped-self)');
        expect(await erinCredentials()).toHaveLength(1);

        expectOneLineError(await withPassword(ALICE, ['org', 'disable-mfa', '--org', 'acme', ...list]), 2);
        expect(await erinCredentials()).toHaveLength(1);

        const done = await withPassword(ALICE, ['org', 'disable-mfa', ...list, '--yes', '--json']);
        expect(done.code, describeRun(done)).toBe(5);
        expect(lines(done).map((l) => JSON.parse(l))).toEqual([
          { email: ERIN.email, outcome: 'disabled', exitCode: 0, message: expect.any(String) },
          { email: 'dave@acme.example', outcome: 'already-off', exitCode: 0, message: expect.any(String) },
          { email: 'bob@globex.example', outcome: 'forbidden', exitCode: 5, message: expect.any(String) },
          { email: ALICE.email, outcome: 'skipped-self', exitCode: 0, message: expect.any(String) },
        ]);
        expect(done.stderr).toMatch(/1 of 4 user\(s\) not disabled \(first: bob@globex\.example: /);
        expect(await erinCredentials()).toHaveLength(0);
        // an admin of another organisation; support without a ticket
        expectOneLineError(await withPassword(ALICE, ['org', 'disable-mfa', '--org', 'globex', '--user', 'bob@globex.example', '--yes']), 5);
        expectOneLineError(await withPassword(SAM, ['org', 'disable-mfa', '--org', 'acme', '--user', 'dave@acme.example', '--yes']), 2);
        if (mode === 'remote') {
          const self = await withPassword(ALICE, ['org', 'disable-mfa', '--org', 'acme', '--user', ALICE.email, '--include-self', '--yes']);
          expectOneLineError(self, 2);
          expect(self.stderr).toContain('--include-self is not available with a server');
        }
      });

      it('disable --user: a dry run, a question nobody answers (nothing changes), then --yes', async () => {
        const dry = JSON.parse(ok(await withPassword(SAM, ['disable', '--user', DEVON.email, '--ticket', 'SUP-2', '--dry-run', '--json'])));
        expect(dry).toMatchObject({ email: DEVON.email, dryRun: true, via: 'support' });
        const unanswered = await withPassword(SAM, ['disable', '--user', DEVON.email, '--ticket', 'SUP-2']);
        expectOneLineError(unanswered, 2);
        expect(await devonCredentials()).toHaveLength(1);
        const done = JSON.parse(ok(await withPassword(SAM, ['disable', '--user', DEVON.email, '--ticket', 'SUP-2', '--yes', '--json'])));
        expect(done).toMatchObject({ email: DEVON.email, via: 'support' });
        expect(await devonCredentials()).toHaveLength(0);
      });
    });
  }
});
