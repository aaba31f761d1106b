/**
 * SPEC §1 rules 6, 7, 10 and recovery codes: trusted devices (expiry on an injected clock, tokens
 * stored only as hashes, login with and without a device, revocation, an organisation turning
 * device trust off), recovery codes, replacing a device, and reading the audit trail — on SQLite
 * and a real MariaDB. MFA state is set up through the public core API (test/support/fixtures.ts).
 * Codes come from test/support/independentTotp.ts; every account's last accepted step is tracked
 * so no code is replayed by accident. acme requires MFA and rule 4 holds for `--as` too, so its
 * admin alice is enrolled and acts with a code.
 */
import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MfaDeps } from '../../src/core/deps.js';
import { isPortalMfaError } from '../../src/core/errors.js';
import { generateKeyBase64 } from '../../src/core/primitives/secretBox.js';
import { checkTrustedDevice, listDevices } from '../../src/core/rules/trustedDevices.js';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { parseDatabaseUrl } from '../../src/db/url.js';
import type { PortalUser } from '../../src/core/domain.js';
import { findUserByEmail } from '../../src/core/rules/identity.js';
import { describeRun, expectOneLineError, makeCliEnv, runCli, runCliProcess, type CliResult } from '../support/cli.js';
import { testNow } from '../support/clock.js';
import { describeEachDatabase } from '../support/databases.js';
import { makeFixtures, type Enrolled, type Fixtures } from '../support/fixtures.js';
import { currentStep, safeStep, totpAt } from '../support/independentTotp.js';
import { ALICE, type Account, BOB, DAVE, DEVON, ERIN, FRANK, HEIDI, SAM, type Totp, nextCode, cheapDemoPasswords } from '../support/scenario.js';

const DAY_MS = 86_400_000;
const sha256hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** A 6-digit code that matches no step within ±5 of now. */
function wrongCode(secret: string): string {
  const cur = currentStep();
  const taken = new Set<string>();
  for (let d = -5; d <= 5; d++) taken.add(totpAt(secret, cur + d));
  for (let n = 0; ; n++) {
    const c = String((123_457 + n * 7_919) % 1_000_000).padStart(6, '0');
    if (!taken.has(c)) return c;
  }
}

const RECOVERY_CODE = /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

// every test runs the built binary several times (bcrypt, a process start): slow on a busy 2-core machine
vi.setConfig({ testTimeout: 120_000 });

describeEachDatabase('trusted devices, recovery codes, replace and audit', (getDb) => {
  let db: Database;
  let knex: Knex;
  let fx: Fixtures;
  let keyB64: string;
  let env: NodeJS.ProcessEnv;
  let url: string;
  const totps: Record<string, Totp> = {};
  const enrolled: Record<string, Enrolled> = {};

  const newMachine = () => makeCliEnv({ PORTAL_MFA_KEY: keyB64 }).env;
  const cli = (args: string[], stdin?: string, e: NodeJS.ProcessEnv = env) => runCli(['--db', url, ...args], { env: e, stdin, timeoutMs: 90_000 });
  const as = (who: Account, args: string[], e: NodeJS.ProcessEnv = env) => cli(['--as', who.email, '--password-stdin', ...args], `${who.password}\n`, e);
  /** --as with a fresh code of the actor's own (the actor has MFA). */
  const asWithCode = async (who: Account, args: string[], e: NodeJS.ProcessEnv = env) =>
    cli(['--as', who.email, '--password-stdin', '--code', await nextCode(totps[who.email]!), ...args], `${who.password}\n`, e);
  const ok = (r: CliResult) => {
    expect(r.code, describeRun(r)).toBe(0);
    return r.stdout.trim() === '' ? null : JSON.parse(r.stdout);
  };
  const user = async (a: Account): Promise<PortalUser> => (await findUserByEmail(fx.deps.db, a.email))!;
  const statusOf = async (a: Account) => ok(await as(SAM, ['status', '--user', a.email, '--json']));
  const devicesFile = (e: NodeJS.ProcessEnv) => path.join(e.XDG_CONFIG_HOME!, 'portal-mfa', 'devices.json');

  /** Enrol in-process, confirmed with a code from 10 minutes ago so every real-time step is still unused. */
  async function enrol(a: Account): Promise<Enrolled> {
    const e = await fx.enrol(a);
    enrolled[a.email] = e;
    totps[a.email] = e;
    return e;
  }

  /** A login without --code on a machine without a TTY: exit 2, a note naming why the token failed, then one error line. */
  function expectCodeNeeded(r: CliResult, note: RegExp) {
    expect(r.code, describeRun(r)).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, describeRun(r)).toHaveLength(2);
    expect(lines[0]).toMatch(note);
    expect(lines[1]).toMatch(/^error: .*code/);
  }

  beforeAll(async () => {
    url = getDb().url;
    keyB64 = generateKeyBase64();
    env = newMachine();
    const migrate = await cli(['db', 'migrate']);
    expect(migrate.code, describeRun(migrate)).toBe(0);
    const demo = await cli(['demo']);
    expect(demo.code, describeRun(demo)).toBe(0);
    db = await openDatabase(parseDatabaseUrl(url));
    knex = db.knex;
    await cheapDemoPasswords(knex);
    fx = makeFixtures(knex, keyB64, 'devices-test');
    // acme requires MFA: its admin acts only once enrolled (rule 4, --as included)
    await enrol(ALICE);
  }, 180_000);

  afterAll(async () => {
    await db?.close();
  });

  describe('trusted devices', () => {
    it('core: valid until 30 days on the injected clock, then expired; revoked; only the SHA-256 of the token is stored', async () => {
      // heidi is enrolled on the real clock (the CLI test below reuses it); the device is trusted on
      // an injected clock, signed in with a recovery code so no TOTP step of the future is spent
      const heidiMfa = await enrol(HEIDI);
      const heidi = await user(HEIDI);
      const bob = await user(BOB);
      const t0 = Date.parse('2027-03-01T12:00:00Z');
      let now = t0;
      const d: MfaDeps = { ...fx.deps, clock: () => now };
      const api = fx.at(() => now);
      const check = (u: typeof heidi, token: string, trustAllowed = true) => checkTrustedDevice(d, u, token, trustAllowed, 'test.device-check');
      /** the public path: sign in with the password and this machine's token only */
      const signInWithToken = (token: string) =>
        api.signIn({ email: HEIDI.email, password: HEIDI.password, action: 'portal.login', secondFactor: { deviceToken: token } });
      const expectCodeRequired = async (token: string) => {
        const e = await signInWithToken(token).then(
          () => null,
          (err: unknown) => err,
        );
        expect(isPortalMfaError(e) && e.code, String(e)).toBe('second_factor_required');
      };

      const { token, id, expiresAt } = await fx.trustDevice(HEIDI, heidiMfa, 'heidi-phone', api);
      expect(expiresAt).toBe(t0 + 30 * DAY_MS);
      expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(16);

      const row = await knex('mfa_trusted_devices').where('id', id).first('*');
      expect(row.token_hash).toBe(sha256hex(token));
      expect(Number(row.expires_at)).toBe(t0 + 30 * DAY_MS);
      expect(JSON.stringify(await knex('mfa_trusted_devices').select('*'))).not.toContain(token);
      expect(JSON.stringify(await knex('mfa_audit_events').select('*'))).not.toContain(token);

      now = t0 + 29 * DAY_MS;
      const valid = await check(heidi, token);
      expect(valid.valid).toBe(true);
      expect(Number((await knex('mfa_trusted_devices').where('id', id).first('last_used_at'))!.last_used_at)).toBe(now);
      expect((await listDevices(d, heidi, false)).map((x) => x.id)).toContain(id);
      expect((await signInWithToken(token)).factor).toBe('device');

      now = t0 + 30 * DAY_MS;
      expect(await check(heidi, token)).toEqual({ valid: false, reason: 'expired' });
      await expectCodeRequired(token);
      now = t0 + 31 * DAY_MS;
      expect(await check(heidi, token)).toEqual({ valid: false, reason: 'expired' });
      expect((await listDevices(d, heidi, false)).map((x) => x.id)).not.toContain(id);
      expect((await listDevices(d, heidi, true)).map((x) => x.id)).toContain(id);
      // the refusals are audited, without the token
      const refused = await knex('mfa_audit_events').where({ target_email: HEIDI.email, outcome: 'refused' }).where('reason', 'like', '%expired%').select('*');
      expect(refused.length).toBeGreaterThanOrEqual(3);
      expect(JSON.stringify(refused)).not.toContain(token);
      // still heidi's token: the expired answer came from the clock, not a change to the row
      now = t0 + 1 * DAY_MS;
      expect((await check(heidi, token)).valid).toBe(true);

      expect(await check(bob, token)).toEqual({ valid: false, reason: 'other-user' });
      expect(await check(heidi, randomBytes(32).toString('base64url'))).toEqual({ valid: false, reason: 'unknown' });
      expect(await check(heidi, token, false)).toEqual({ valid: false, reason: 'trust-off' });

      // heidi, signed in on this device, revokes it (the password of this sign-in is the re-entry)
      now = t0 + 2 * DAY_MS;
      const actor = await signInWithToken(token);
      expect(await api.revokeDevices(actor, { ids: [id] })).toMatchObject({ kind: 'revoked', revoked: 1, users: [HEIDI.email] });
      expect(await check(heidi, token)).toEqual({ valid: false, reason: 'revoked' });
      await expectCodeRequired(token);
      now = t0 + 3 * DAY_MS;
      expect(await check(heidi, token)).toEqual({ valid: false, reason: 'revoked' });
      expect(Number((await knex('mfa_trusted_devices').where('id', id).first('revoked_at'))!.revoked_at)).toBe(t0 + 2 * DAY_MS);
    });

    it('CLI: login --trust-device, then logins skip the code; revoked elsewhere → a code is needed again', async () => {
      const erin = await enrol(ERIN);
      const laptop = newMachine();
      const first = await cli(
        ['login', '--as', ERIN.email, '--password-stdin', '--code', '-', '--trust-device', '--label', 'erin laptop', '--json'],
        `${ERIN.password}\n${await nextCode(erin)}\n`,
        laptop,
      );
      const doc = ok(first);
      expect(doc).toMatchObject({ email: ERIN.email, secondFactor: 'code', trustedDevice: { id: expect.any(Number), expiresAt: expect.stringMatching(ISO) } });
      const deviceId: number = doc.trustedDevice.id;

      // the token file: mode 0600; only the token's hash is in the database
      const file = devicesFile(laptop);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const stored = Object.values(JSON.parse(readFileSync(file, 'utf8')) as Record<string, { token: string; deviceId: number }>);
      expect(stored).toHaveLength(1);
      expect(stored[0]!.deviceId).toBe(deviceId);
      const row = await knex('mfa_trusted_devices').where('id', deviceId).first('*');
      expect(row.token_hash).toBe(sha256hex(stored[0]!.token));
      expect(JSON.stringify(await knex('mfa_trusted_devices').select('*'))).not.toContain(stored[0]!.token);

      const second = await cli(['login', '--as', ERIN.email, '--password-stdin', '--json'], `${ERIN.password}\n`, laptop);
      expect(ok(second)).toMatchObject({ email: ERIN.email, secondFactor: 'device' });
      expect(second.stderr).toBe('');

      const listed = ok(await cli(['devices', 'list', '--json'], undefined, laptop));
      expect(listed.email).toBe(ERIN.email);
      expect(listed.devices).toHaveLength(1);
      const dev = listed.devices[0];
      expect(dev).toMatchObject({ id: deviceId, label: 'erin laptop', state: 'active', revokedAt: null });
      for (const k of ['createdAt', 'lastUsedAt', 'expiresAt']) expect(dev[k], k).toMatch(ISO);
      expect(Date.parse(dev.expiresAt) - Date.parse(dev.createdAt)).toBe(30 * DAY_MS);
      expect(Date.parse(dev.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(dev.createdAt));
      expect(Object.keys(dev)).not.toContain('token');
      expect(JSON.stringify(listed)).not.toContain(stored[0]!.token);

      // revoked from another machine (so the laptop still holds its token)
      const desk = newMachine();
      const revoke = await asWithCode(ERIN, ['devices', 'revoke', String(deviceId), '--yes', '--json'], desk);
      expect(ok(revoke)).toMatchObject({ revoked: 1 });

      const third = await cli(['login', '--as', ERIN.email, '--password-stdin'], `${ERIN.password}\n`, laptop);
      expectCodeNeeded(third, /revoked/);
      expect(readFileSync(file, 'utf8')).not.toContain(stored[0]!.token);

      const all = ok(await cli(['devices', 'list', '--all', '--json'], undefined, laptop));
      expect(all.devices).toEqual([expect.objectContaining({ id: deviceId, state: 'revoked', revokedAt: expect.stringMatching(ISO) })]);
      expect(ok(await cli(['devices', 'list', '--json'], undefined, laptop)).devices).toEqual([]);
    });

    it("CLI: expiry is the database's — a token past its expires_at is refused whatever the local file says", async () => {
      // enrolled by the core test above (enrolled here when this test runs alone)
      const heidi = enrolled[HEIDI.email] ?? (await enrol(HEIDI));
      const phone = newMachine();
      const login = await cli(
        ['login', '--as', HEIDI.email, '--password-stdin', '--code', '-', '--trust-device', '--json'],
        `${HEIDI.password}\n${await nextCode(heidi)}\n`,
        phone,
      );
      const id = ok(login).trustedDevice.id;
      expect(ok(await cli(['login', '--as', HEIDI.email, '--password-stdin', '--json'], `${HEIDI.password}\n`, phone)).secondFactor).toBe('device');
      await knex('mfa_trusted_devices')
        .where('id', id)
        .update({ expires_at: testNow() - 1_000 });
      // this machine's copy still says the device is good for 30 days
      const local = Object.values(JSON.parse(readFileSync(devicesFile(phone), 'utf8')) as Record<string, { deviceId: number; expiresAt: string }>);
      expect(local).toEqual([expect.objectContaining({ deviceId: id })]);
      expect(Date.parse(local[0]!.expiresAt)).toBeGreaterThan(testNow() + 29 * DAY_MS);
      expectCodeNeeded(await cli(['login', '--as', HEIDI.email, '--password-stdin'], `${HEIDI.password}\n`, phone), /expired/);
    });

    it("CLI: org policy --device-trust off revokes the members' trusted devices: a token no longer skips the code", async () => {
      const dave = await enrol(DAVE);
      const laptop = newMachine();
      const trusted = ok(
        await cli(
          ['login', '--as', DAVE.email, '--password-stdin', '--code', '-', '--trust-device', '--json'],
          `${DAVE.password}\n${await nextCode(dave)}\n`,
          laptop,
        ),
      );
      const deviceId: number = trusted.trustedDevice.id;
      expect(ok(await cli(['login', '--as', DAVE.email, '--password-stdin', '--json'], `${DAVE.password}\n`, laptop)).secondFactor).toBe('device');

      const off = await asWithCode(ALICE, ['org', 'policy', '--org', 'acme', '--device-trust', 'off', '--yes', '--json']);
      expect(ok(off)).toMatchObject({ organisation: 'acme', deviceTrust: false, devicesRevoked: expect.any(Number) });
      expect(JSON.parse(off.stdout).devicesRevoked).toBeGreaterThanOrEqual(1);
      const revokedAt = async () => (await knex('mfa_trusted_devices').where('id', deviceId).first('revoked_at'))!.revoked_at;
      expect(await revokedAt(), "the member's device is revoked with the policy change").not.toBeNull();
      try {
        expectCodeNeeded(await cli(['login', '--as', DAVE.email, '--password-stdin'], `${DAVE.password}\n`, laptop), /revoked|device trust is off/);
        // the same for any command run with --as
        const status = await cli(['status', '--as', DAVE.email, '--password-stdin', '--json'], `${DAVE.password}\n`, laptop);
        expect(status.code, describeRun(status)).toBe(2);
        expect(status.stderr).toMatch(/code/);
        // a code still works
        const withCode = await cli(
          ['login', '--as', DAVE.email, '--password-stdin', '--code', '-', '--json'],
          `${DAVE.password}\n${await nextCode(dave)}\n`,
          laptop,
        );
        expect(ok(withCode).secondFactor).toBe('code');
      } finally {
        expect((await asWithCode(ALICE, ['org', 'policy', '--org', 'acme', '--device-trust', 'on', '--yes'])).code).toBe(0);
      }
      // turning trust back on does not bring a revoked device back
      expect(await revokedAt()).not.toBeNull();
      const again = await cli(['login', '--as', DAVE.email, '--password-stdin'], `${DAVE.password}\n`, laptop);
      expect(again.code, describeRun(again)).toBe(2);
    });
  });

  describe('recovery codes', () => {
    let codes: string[] = [];

    it('enroll --confirm gives ten codes, stored only as hashes; one works once', async () => {
      const start = ok(await as(DEVON, ['enroll', '--no-confirm', '--json']));
      const step = await safeStep(3_000);
      // confirmed one step behind (drift -1), so the current and next steps stay free for later codes
      const confirm = ok(await as(DEVON, ['enroll', '--confirm', totpAt(start.secret, step - 1), '--json']));
      expect(confirm).toMatchObject({ status: 'active', driftSteps: -1 });
      totps[DEVON.email] = { secret: start.secret, last: step - 1 };
      codes = confirm.recoveryCodes;
      expect(codes).toHaveLength(10);
      expect(new Set(codes).size).toBe(10);
      for (const c of codes) expect(c).toMatch(RECOVERY_CODE);

      const devon = await user(DEVON);
      const rows = await knex('mfa_recovery_codes').where('user_id', devon.id).select('*');
      expect(rows).toHaveLength(10);
      const hashes = rows.map((r) => String(r.code_hash).toLowerCase()).join('\n');
      for (const c of codes) {
        expect(hashes).not.toContain(c);
        expect(hashes).not.toContain(c.replace(/-/g, ''));
      }

      const used = await as(DEVON, ['verify', '--recovery-code', codes[0]!, '--json']);
      expect(ok(used)).toMatchObject({ valid: true, email: DEVON.email, recoveryCodesLeft: 9 });
      expect((await statusOf(DEVON)).recoveryCodesLeft).toBe(9);
      // spaces, dashes and case do not matter — but it is used up
      expectOneLineError(await as(DEVON, ['verify', '--recovery-code', codes[0]!.toUpperCase().replace(/-/g, ' ')]), 1);
      expectOneLineError(await as(DEVON, ['verify', '--recovery-code', codes[0]!]), 1);
      expect((await statusOf(DEVON)).recoveryCodesLeft).toBe(9);
      expect(await knex('mfa_recovery_codes').where('user_id', devon.id).whereNotNull('used_at').select('id')).toHaveLength(1);
    });

    it('recovery-codes regenerate gives ten new codes; the old ones stop working', async () => {
      const regen = ok(await asWithCode(DEVON, ['recovery-codes', 'regenerate', '--yes', '--json']));
      const fresh: string[] = regen.recoveryCodes;
      expect(fresh).toHaveLength(10);
      for (const c of fresh) {
        expect(c).toMatch(RECOVERY_CODE);
        expect(codes).not.toContain(c);
      }
      expect((await statusOf(DEVON)).recoveryCodesLeft).toBe(10);
      // one code, four processes at once: accepted exactly once
      const race = await Promise.all(
        Array.from({ length: 4 }, () =>
          runCliProcess(['--db', url, '--as', DEVON.email, '--password-stdin', 'verify', '--recovery-code', fresh[9]!, '--json'], {
            env,
            stdin: `${DEVON.password}\n`,
            timeoutMs: 60_000,
          }),
        ),
      );
      expect(race.map((r) => r.code).sort(), race.map(describeRun).join('\n')).toEqual([0, 1, 1, 1]);
      expect((await statusOf(DEVON)).recoveryCodesLeft).toBe(9);
      // an old code never used: refused now
      expectOneLineError(await as(DEVON, ['verify', '--recovery-code', codes[1]!]), 1);
      expect(ok(await as(DEVON, ['verify', '--recovery-code', fresh[0]!, '--json']))).toMatchObject({ valid: true, recoveryCodesLeft: 8 });
      expect((await statusOf(DEVON)).recoveryCodesLeft).toBe(8);
      const hashes = (
        await knex('mfa_recovery_codes')
          .where('user_id', (await user(DEVON)).id)
          .select('code_hash')
      )
        .map((r) => String(r.code_hash).toLowerCase())
        .join('\n');
      for (const c of fresh) expect(hashes).not.toContain(c.replace(/-/g, ''));
      expect(JSON.stringify(await knex('mfa_audit_events').select('*'))).not.toContain(fresh[1]!);
    });

    it('a set shares one salt (a try costs one scrypt); codes stored by older versions, a salt each and N = 2^14, still work once; unreadable stored hashes match nothing', async () => {
      const devon = await user(DEVON);
      const salts = (await knex('mfa_recovery_codes').where('user_id', devon.id).pluck('code_hash')).map((h) => String(h).split('$')[4]);
      expect(salts).toHaveLength(10);
      expect(new Set(salts).size).toBe(1);
      // an older version's rows, hashed here with node:crypto, not with portal-mfa's code
      const legacy = ['aaaa-bbbb-cccc-dddd', 'k3mf-q2zx-7hna-c4de'];
      const legacyHash = (code: string, N: number) => {
        const salt = randomBytes(16);
        const key = scryptSync(code.replace(/-/g, ''), salt, 32, { N, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
        return `scrypt$${N}$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
      };
      await knex('mfa_recovery_codes').where('user_id', devon.id).delete();
      // and rows portal-mfa never writes (someone with write access to the table): an empty or cut
      // hash would make any code match, a huge p would cost seconds a try — they match nothing
      const salt = randomBytes(16).toString('base64');
      const hostile = [`scrypt$4096$8$1$${salt}$!!!!`, `scrypt$4096$8$1$${salt}$AAAA`, `scrypt$16$1$200000$${salt}$${randomBytes(32).toString('base64')}`];
      await knex('mfa_recovery_codes').insert([
        { user_id: devon.id, code_hash: legacyHash(legacy[0]!, 16_384), created_at: testNow(), used_at: null },
        { user_id: devon.id, code_hash: legacyHash(legacy[1]!, 4_096), created_at: testNow(), used_at: null },
        ...hostile.map((code_hash) => ({ user_id: devon.id, code_hash, created_at: testNow(), used_at: null })),
      ]);
      expectOneLineError(await as(DEVON, ['verify', '--recovery-code', 'zzzz-zzzz-zzzz-zzzz']), 1);
      expect(ok(await as(DEVON, ['verify', '--recovery-code', legacy[1]!, '--json']))).toMatchObject({ valid: true, recoveryCodesLeft: 4 });
      expect(ok(await as(DEVON, ['verify', '--recovery-code', legacy[0]!, '--json']))).toMatchObject({ valid: true, recoveryCodesLeft: 3 });
      expectOneLineError(await as(DEVON, ['verify', '--recovery-code', legacy[0]!]), 1);
    });
  });

  describe('replace a device', () => {
    it('the old secret works until the new one is confirmed; then it fails and trusted devices are revoked', async () => {
      const old = await enrol(FRANK);
      const frank = await user(FRANK);
      const device = await fx.trustDevice(FRANK, old, 'frank-pc');

      const started = ok(await asWithCode(FRANK, ['replace', '--no-confirm', '--json']));
      expect(started).toMatchObject({ status: 'pending', email: FRANK.email, secret: expect.stringMatching(/^[A-Z2-7]{32}$/) });
      const fresh: Totp = { secret: started.secret, last: 0 };
      expect(fresh.secret).not.toBe(old.secret);
      const pendingStatus = await statusOf(FRANK);
      expect(pendingStatus).toMatchObject({ mfa: 'active', trustedDevices: 1 });
      expect(pendingStatus.pendingSince).toMatch(ISO);

      // the old device still governs: its next code verifies
      expect(ok(await as(FRANK, ['verify', '--code', await nextCode(old), '--json']))).toMatchObject({ valid: true });
      // a wrong code from the "new" device does not switch
      expectOneLineError(await as(FRANK, ['replace', '--confirm', wrongCode(fresh.secret)]), 1);
      expect((await statusOf(FRANK)).mfa).toBe('active');

      const confirmed = ok(await as(FRANK, ['replace', '--confirm', await nextCode(fresh), '--json']));
      expect(confirmed).toMatchObject({ status: 'active', replaced: true, trustedDevicesRevoked: 1 });

      // now the old secret fails, the new one works
      expectOneLineError(await as(FRANK, ['verify', '--code', await nextCode(old)]), 1);
      expect(ok(await as(FRANK, ['verify', '--code', await nextCode(fresh), '--json']))).toMatchObject({ valid: true });
      totps[FRANK.email] = fresh;
      const after = await statusOf(FRANK);
      expect(after).toMatchObject({ mfa: 'active', pendingSince: null, trustedDevices: 0 });
      expect((await knex('mfa_trusted_devices').where('id', device.id).first('revoked_at'))!.revoked_at).not.toBeNull();
      expect(await knex('mfa_credentials').where('user_id', frank.id).select('status')).toEqual([{ status: 'active' }]);

      const actions = (await knex('mfa_audit_events').where({ target_email: FRANK.email, outcome: 'success' }).orderBy('id').select('action')).map(
        (r) => r.action,
      );
      expect(actions.filter((a) => a === 'mfa.replace.start')).toHaveLength(1);
      expect(actions.filter((a) => a === 'mfa.replace.confirm')).toHaveLength(1);
      expect(actions.indexOf('mfa.replace.start')).toBeLessThan(actions.indexOf('mfa.replace.confirm'));
      expect((await knex('mfa_audit_events').where({ target_email: FRANK.email, action: 'mfa.replace.confirm', outcome: 'failure' }).select('id')).length).toBe(
        1,
      );
    });
  });

  describe('audit', () => {
    const FIELDS = ['time', 'actor', 'target', 'organisation', 'action', 'outcome', 'ticket', 'reason', 'host', 'osUser'];
    let oldEventId: number;

    const lines = (r: CliResult) => {
      expect(r.code, describeRun(r)).toBe(0);
      return r.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown> & { id: number; time: string });
    };
    const ids = (rows: { id: unknown }[]) => rows.map((r) => Number(r.id)).sort((a, b) => a - b);

    beforeAll(async () => {
      // a globex-only event, a support reset, and an event from three hours ago
      ok(await as(BOB, ['devices', 'revoke', '--all', '--user', FRANK.email, '--yes', '--json']));
      ok(await as(SAM, ['disable', '--user', FRANK.email, '--ticket', 'SUP-77', '--reason', 'new phone lost too', '--yes', '--json']));
      await knex('mfa_audit_events').insert({
        occurred_at: testNow() - 3 * 3_600_000,
        actor_user_id: null,
        actor_email: null,
        target_user_id: null,
        target_email: null,
        organisation_id: null,
        organisation_slug: null,
        action: 'test.old-event',
        outcome: 'success',
        ticket: null,
        reason: null,
        detail: null,
        host: 'old-host',
        os_user: 'old-user',
      });
      oldEventId = Number((await knex('mfa_audit_events').where('action', 'test.old-event').first('id')).id);
    });

    it('support sees every event, as NDJSON, newest first, with the documented fields', async () => {
      const rows = lines(await as(SAM, ['audit', '--json', '--limit', '100000']));
      const all = await knex('mfa_audit_events').select('id');
      expect(ids(rows)).toEqual(ids(all));
      for (const r of rows) {
        for (const f of FIELDS) expect(r, `field ${f}`).toHaveProperty(f);
        expect(r.time).toMatch(ISO);
      }
      for (let i = 1; i < rows.length; i++) {
        const [a, b] = [rows[i - 1]!, rows[i]!];
        expect(Date.parse(a.time) > Date.parse(b.time) || (a.time === b.time && a.id > b.id), `row ${i} is not older than row ${i - 1}`).toBe(true);
      }
      const reset = rows.find((r) => r.action === 'mfa.reset' && r.target === FRANK.email)!;
      expect(reset).toMatchObject({
        actor: SAM.email,
        outcome: 'success',
        ticket: 'SUP-77',
        reason: 'new phone lost too',
        organisation: null,
        host: os.hostname(),
        osUser: os.userInfo().username,
      });
      expect(rows.find((r) => r.action === 'device.revoke' && r.actor === BOB.email)).toMatchObject({ organisation: 'globex', target: FRANK.email });
    });

    it("an organisation admin sees their organisation's events and their own, not another organisation's", async () => {
      const rows = lines(await asWithCode(ALICE, ['audit', '--json', '--limit', '100000']));
      const expected = await knex('mfa_audit_events')
        .where('organisation_slug', 'acme')
        .orWhere('actor_email', ALICE.email)
        .orWhere('target_email', ALICE.email)
        .select('id');
      expect(ids(rows)).toEqual(ids(expected));
      expect(rows.some((r) => r.action === 'org.policy' && r.organisation === 'acme')).toBe(true);
      expect(rows.some((r) => r.organisation === 'globex')).toBe(false);
      expect(rows.some((r) => r.action === 'mfa.reset' && r.target === FRANK.email)).toBe(false);
    });

    it('a user in no organisation sees only events by or about themself', async () => {
      const rows = lines(await asWithCode(DEVON, ['audit', '--json', '--limit', '100000']));
      const expected = await knex('mfa_audit_events').where('actor_email', DEVON.email).orWhere('target_email', DEVON.email).select('id');
      expect(rows.length).toBeGreaterThan(3);
      expect(ids(rows)).toEqual(ids(expected));
      for (const r of rows) expect(r.actor === DEVON.email || r.target === DEVON.email, JSON.stringify(r)).toBe(true);
    });

    it('--action, --since and --limit filter; a bad --since is a usage error', async () => {
      const resets = lines(await as(SAM, ['audit', '--json', '--action', 'mfa.reset']));
      expect(resets.length).toBeGreaterThanOrEqual(1);
      expect(ids(resets)).toEqual(ids(await knex('mfa_audit_events').where('action', 'mfa.reset').select('id')));

      const mfa = lines(await as(SAM, ['audit', '--json', '--limit', '100000', '--action', 'mfa.*']));
      expect(mfa.length).toBeGreaterThan(resets.length);
      for (const r of mfa) expect(String(r.action).startsWith('mfa.')).toBe(true);

      const startedAt = testNow();
      const recent = lines(await as(SAM, ['audit', '--json', '--limit', '100000', '--since', '1h']));
      expect(ids(recent)).not.toContain(oldEventId);
      for (const r of recent) expect(Date.parse(r.time)).toBeGreaterThanOrEqual(startedAt - 3_600_000);
      const lastHalfHour = await knex('mfa_audit_events')
        .where('occurred_at', '>=', startedAt - 1_800_000)
        .select('id');
      expect(ids(recent)).toEqual(expect.arrayContaining(ids(lastHalfHour)));
      expect(ids(lines(await as(SAM, ['audit', '--json', '--limit', '100000', '--since', '4h'])))).toContain(oldEventId);

      const everything = lines(await as(SAM, ['audit', '--json', '--limit', '100000']));
      const two = lines(await as(SAM, ['audit', '--json', '--limit', '2']));
      expect(two.map((r) => r.id)).toEqual(everything.slice(0, 2).map((r) => r.id));

      for (const bad of ['yesterday', '5x', '2026-13-45']) {
        expectOneLineError(await as(SAM, ['audit', '--json', '--since', bad]), 2, /--since/);
      }
    });
  });
});
