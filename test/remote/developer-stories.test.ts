/**
 * Issue 24 item 3: the developer's stories run twice with the same assertions — the CLI on the
 * database (local) and the CLI talking to `portal-mfa serve` on 127.0.0.1 over the same database
 * (remote: --server, no database URL, no key in its environment) — on SQLite and MariaDB. Exit
 * codes, what the user reads, the database state and this machine's stored tokens are the same.
 * Then what remote mode refuses: database commands, plain http to a non-loopback host, a server
 * that cannot be reached.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeRun, expectOneLineError, makeCliEnv, runCli, type CliResult } from '../support/cli.js';
import { describeEachDatabase } from '../support/databases.js';
import { DEVON, ERIN, nextCode, type Totp } from '../support/scenario.js';
import type { World } from '../support/world.js';
import { openServedWorld, type ServedWorld } from './servedWorld.js';

vi.setConfig({ testTimeout: 120_000 });

const MODES = ['local', 'remote'] as const;

describeEachDatabase('developer stories, local and remote', (getDb) => {
  let served: ServedWorld;
  let world: World;
  let serverUrl: string;
  let keyB64: string;

  beforeAll(async () => {
    served = await openServedWorld(getDb().url);
    ({ world, serverUrl, keyB64 } = served);
  });
  afterAll(async () => {
    await served?.close();
  });

  for (const mode of MODES) {
    describe(mode, () => {
      // a developer's machine: in remote mode it holds nothing but the server's address
      const machine = () =>
        mode === 'local' ? makeCliEnv({ PORTAL_MFA_KEY: keyB64, PORTAL_MFA_DB: getDb().url }).env : makeCliEnv({ PORTAL_MFA_SERVER: serverUrl }).env;
      let env: NodeJS.ProcessEnv;
      const totp: Totp = { secret: '', last: 0 };
      const cli = (args: string[], stdin?: string) => runCli(args, { env, stdin, timeoutMs: 90_000 });
      const withPassword = (args: string[]) => cli([...args, '--password-stdin'], `${DEVON.password}\n`);
      const ok = (r: CliResult) => {
        expect(r.code, describeRun(r)).toBe(0);
        return r.stdout.trim().startsWith('{') ? JSON.parse(r.stdout) : r.stdout;
      };
      const devonId = async () => world.userId(DEVON.email);
      const credentials = async () => world.knex('mfa_credentials').where('user_id', await devonId());
      const stored = (file: string) => JSON.parse(readFileSync(path.join(env.XDG_CONFIG_HOME!, 'portal-mfa', file), 'utf8')) as Record<string, unknown>;

      beforeAll(async () => {
        env = machine();
        // each mode starts from a user without MFA (the other mode's run is undone in the database)
        await world
          .knex('mfa_credentials')
          .where('user_id', await devonId())
          .delete();
        await world
          .knex('mfa_recovery_codes')
          .where('user_id', await devonId())
          .delete();
        await world
          .knex('mfa_trusted_devices')
          .where('user_id', await devonId())
          .delete();
      });

      it('login with the password alone (no MFA yet), then status', async () => {
        const login = ok(await withPassword(['login', '--as', DEVON.email, '--json']));
        expect(login).toMatchObject({ email: DEVON.email, secondFactor: 'none', restricted: false });
        expect(Object.values(stored('sessions.json'))).toEqual([expect.objectContaining({ email: DEVON.email })]);
        const s = ok(await cli(['status', '--json']));
        expect(s).toMatchObject({ email: DEVON.email, mfa: 'none', recoveryCodesLeft: 0, trustedDevices: 0 });
        const text = ok(await cli(['status']));
        expect(text).toMatch(/^user +devon@example\.com \(Devon Solo\)$/m);
        expect(text).toMatch(/^mfa +none$/m);
      });

      it('a member whom acme makes enrol first (rule 4) enrols with --as: status and enrolment allowed, other commands refused (exit 6)', async () => {
        const erinId = await world.userId(ERIN.email);
        for (const table of ['mfa_credentials', 'mfa_recovery_codes']) await world.knex(table).where('user_id', erinId).delete();
        const asErin = (args: string[]) => cli(['--as', ERIN.email, ...args, '--password-stdin'], `${ERIN.password}\n`);
        expect(ok(await asErin(['status', '--json']))).toMatchObject({ email: ERIN.email, mfa: 'none' });
        expectOneLineError(await asErin(['devices', 'list']), 6);
        const pending = ok(await asErin(['enroll', '--no-confirm', '--json']));
        expect(pending).toMatchObject({ status: 'pending', email: ERIN.email });
        const erin: Totp = { secret: pending.secret, last: 0 };
        const done = ok(await asErin(['enroll', '--confirm', await nextCode(erin), '--json']));
        expect(done).toMatchObject({ status: 'active', email: ERIN.email });
        expect(await world.knex('mfa_credentials').where('user_id', erinId).select('status')).toEqual([{ status: 'active' }]);
      });

      it('enroll: pending with the otpauth URI, then a wrong code (exit 1), then the right one: active with ten recovery codes', async () => {
        const pending = ok(await withPassword(['enroll', '--no-confirm', '--json']));
        expect(pending).toMatchObject({ status: 'pending', email: DEVON.email });
        expect(pending.otpauthUri).toMatch(/^otpauth:\/\/totp\/.+secret=[A-Z2-7]+/);
        totp.secret = pending.secret;
        totp.last = 0;
        expect(await credentials()).toEqual([expect.objectContaining({ status: 'pending' })]);
        // the QR is printed from the URI exactly as in local mode (text output, --qr utf8)
        const shown = await withPassword(['enroll', '--no-confirm', '--qr', 'utf8']);
        ok(shown);
        expect(shown.stdout).toContain('Key for manual entry');
        expect(shown.stdout).toMatch(/[▀▄█]/);
        totp.secret = /secret=([A-Z2-7]+)/.exec(shown.stdout)![1]!;
        const wrong = await withPassword(['enroll', '--confirm', '000000']);
        expectOneLineError(wrong, 1);
        const done = ok(await withPassword(['enroll', '--confirm', await nextCode(totp), '--json']));
        expect(done).toMatchObject({ status: 'active', email: DEVON.email });
        expect(done.recoveryCodes).toHaveLength(10);
        expect(ok(await cli(['status', '--json']))).toMatchObject({ mfa: 'active', recoveryCodesLeft: 10 });
        expect(await credentials()).toEqual([expect.objectContaining({ status: 'active' })]);
      });

      it('verify: a wrong code exits 1, a valid one 0, the same code again is a replay (exit 1)', async () => {
        expectOneLineError(await cli(['verify', '--code', '000000']), 1);
        const code = await nextCode(totp);
        expect(ok(await cli(['verify', '--code', code]))).toMatch(/^✓ code valid for devon@example\.com/m);
        const replay = await cli(['verify', '--code', code]);
        expectOneLineError(replay, 1);
        expect(replay.stderr).toContain('already been used');
      });

      it('logout; login with a code trusting the machine; the next login uses the device', async () => {
        expect(ok(await cli(['logout']))).toBe('✓ logged out devon@example.com\n');
        const login = ok(await withPassword(['login', '--as', DEVON.email, '--code', await nextCode(totp), '--trust-device', '--label', 'lap', '--json']));
        expect(login).toMatchObject({ secondFactor: 'code', trustedDevice: { id: expect.any(Number) } });
        expect(Object.values(stored('devices.json'))).toEqual([expect.objectContaining({ deviceId: login.trustedDevice.id })]);
        ok(await cli(['logout']));
        const again = ok(await withPassword(['login', '--as', DEVON.email, '--json']));
        expect(again).toMatchObject({ secondFactor: 'device' });
        const list = ok(await cli(['devices', 'list', '--json']));
        expect(list.devices).toEqual([expect.objectContaining({ label: 'lap', state: 'active', thisMachine: true })]);
      });

      it('recovery codes regenerate; a login with one of them; devices revoke --all', async () => {
        const rc = ok(await withPassword(['recovery-codes', 'regenerate', '--json']));
        expect(rc.recoveryCodes).toHaveLength(10);
        ok(await cli(['logout']));
        const login = ok(await withPassword(['login', '--as', DEVON.email, '--recovery-code', rc.recoveryCodes[0], '--json']));
        expect(login).toMatchObject({ secondFactor: 'recovery-code' });
        expect(ok(await cli(['status', '--json']))).toMatchObject({ recoveryCodesLeft: 9 });
        const revoked = ok(await withPassword(['devices', 'revoke', '--all', '--json']));
        expect(revoked).toMatchObject({ revoked: 1, users: [DEVON.email] });
        expect(
          await world
            .knex('mfa_trusted_devices')
            .where('user_id', await devonId())
            .whereNull('revoked_at'),
        ).toHaveLength(0);
      });

      it('replace: the old device proven, the new one pending, then confirmed', async () => {
        const pending = ok(await withPassword(['replace', '--code', await nextCode(totp), '--no-confirm', '--json']));
        expect(pending).toMatchObject({ status: 'pending', email: DEVON.email });
        const next: Totp = { secret: pending.secret, last: 0 };
        const done = ok(await withPassword(['replace', '--confirm', await nextCode(next), '--json']));
        expect(done).toMatchObject({ status: 'active', replaced: true });
        Object.assign(totp, next);
      });

      it('one command with --as (no session): status and verify on oneself, then a wrong password (exit 1)', async () => {
        ok(await cli(['logout']));
        const s = ok(await withPassword(['status', '--as', DEVON.email, '--code', await nextCode(totp), '--json']));
        expect(s).toMatchObject({ mfa: 'active', email: DEVON.email });
        expect(ok(await withPassword(['verify', '--as', DEVON.email, '--code', await nextCode(totp)]))).toMatch(/code valid for devon@example\.com/);
        const bad = await cli(['status', '--as', DEVON.email, '--password-stdin', '--json'], 'not-the-password\n');
        expect(bad.code).toBe(1);
        expect(JSON.parse(bad.stderr).error).toMatchObject({ code: 'wrong_password', exitCode: 1 });
      });
    });
  }

  describe('what remote mode refuses', () => {
    const remote = () => makeCliEnv({ PORTAL_MFA_SERVER: serverUrl }).env;
    it('database commands: one line, exit 2, nothing read', async () => {
      for (const args of [['db', 'status'], ['keys', 'check'], ['demo'], ['serve'], ['service-key', 'list']]) {
        const r = await runCli(args, { env: remote() });
        expectOneLineError(r, 2);
        expect(r.stderr).toContain('not available with a server');
      }
    });
    it('--db with a server: exit 2', async () => {
      expectOneLineError(await runCli(['--db', getDb().url, 'status'], { env: remote() }), 2);
    });
    it('plain http to a non-loopback host: exit 2, says why', async () => {
      const r = await runCli(['--server', 'http://192.0.2.10:8750', 'status'], { env: makeCliEnv().env });
      expectOneLineError(r, 2);
      expect(r.stderr).toContain('plain http is refused except to a loopback address');
    });
    it('a server that cannot be reached: exit 10, one line', async () => {
      const r = await runCli(['--server', 'http://127.0.0.1:9', 'login', '--as', DEVON.email, '--password-stdin'], { env: makeCliEnv().env, stdin: 'x\n' });
      expectOneLineError(r, 10);
      expect(r.stderr).toContain('cannot reach the portal-mfa service at http://127.0.0.1:9');
    });
  });
});
