/**
 * SPEC §2, who may do what: the core `authorise()` in-process for the whole matrix, and the built
 * binary for every (actor × action) row against one target, on SQLite and a real MariaDB.
 *
 * Target of the CLI matrix: frank (member of globex, which does not require MFA, so he can hold a
 * CLI session from before his enrolment — the "self" actor uses that session).
 *   self → frank · admin of the target's org → bob (globex) · admin of another org → alice (acme)
 *   plain member of the same org → heidi (member of globex and acme) · support → sam
 * Codes come from test/support/independentTotp.ts; each account's last accepted step is tracked so
 * a code is never replayed by accident.
 */
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorise } from '../../src/core/authorise.js';
import type { MfaDeps } from '../../src/core/deps.js';
import { confirmEnrolment, startEnrolment } from '../../src/core/enrolment.js';
import { isPortalMfaError, type PortalMfaError } from '../../src/core/errors.js';
import { generateKeyBase64 } from '../../src/core/secretBox.js';
import { trustDevice } from '../../src/core/trustedDevices.js';
import { party } from '../../src/core/verification.js';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { parseDatabaseUrl } from '../../src/db/url.js';
import { findUserByEmail, type UserRow } from '../../src/db/userRepository.js';
import { describeRun, expectOneLineError, makeCliEnv, runCli, type CliResult } from '../support/cli.js';
import { testNow } from '../support/clock.js';
import { describeEachDatabase } from '../support/databases.js';
import { currentStep, safeStep, totpAt } from '../support/independentTotp.js';
import { ALICE, type Account, BOB, DAVE, ERIN, FRANK, HEIDI, OLIVIA, SAM, type Totp, nextCode, makeDeps } from '../support/scenario.js';

const makeDepsFor = (knex: Knex, keyB64: string) => makeDeps(knex, keyB64, 'authorisation-test');

/** Enrol in-process, confirmed with a code from 10 minutes ago so every real-time step is still unused. */
async function enrol(deps: MfaDeps, user: UserRow): Promise<Totp> {
  const past = testNow() - 10 * 60_000;
  const d: MfaDeps = { ...deps, clock: () => past };
  const pending = await startEnrolment(d, user, { actor: party(user) });
  const step = currentStep(past);
  await confirmEnrolment(d, user, totpAt(pending.secret, step), { actor: party(user) });
  return { secret: pending.secret, last: step };
}

async function expectKind(p: Promise<unknown>, kind: PortalMfaError['kind']): Promise<PortalMfaError> {
  try {
    await p;
  } catch (e) {
    expect(isPortalMfaError(e), String(e)).toBe(true);
    expect((e as PortalMfaError).kind).toBe(kind);
    return e as PortalMfaError;
  }
  throw new Error(`expected a ${kind} error, but it resolved`);
}

const ACTIONS = ['mfa.status', 'mfa.disable', 'device.list', 'device.revoke', 'mfa.verify'] as const;

type Role = 'self' | 'orgAdmin' | 'otherOrgAdmin' | 'member' | 'support';
const ROWS: { role: Role; who: Account; allowed: boolean }[] = [
  { role: 'self', who: FRANK, allowed: true },
  { role: 'orgAdmin', who: BOB, allowed: true },
  { role: 'otherOrgAdmin', who: ALICE, allowed: false },
  { role: 'member', who: HEIDI, allowed: false },
  { role: 'support', who: SAM, allowed: true },
];

describeEachDatabase('authorisation (SPEC §2)', (getDb) => {
  let db: Database;
  let knex: Knex;
  let deps: MfaDeps;
  let keyB64: string;
  /** "this machine" for every --as actor */
  let env: NodeJS.ProcessEnv;
  /** frank's machine: holds his CLI session */
  let frankEnv: NodeJS.ProcessEnv;
  let url: string;
  const users: Record<string, UserRow> = {};
  let frankTotp: Totp;

  const cli = (e: NodeJS.ProcessEnv, args: string[], stdin?: string) => runCli(['--db', url, ...args], { env: e, stdin });
  const as = (who: Account, args: string[]) => cli(env, ['--as', who.email, '--password-stdin', ...args], `${who.password}\n`);
  /** Run as the row's actor: frank through his session (password on stdin for re-entry), others with --as. */
  const runAs = (role: Role, args: string[]): Promise<CliResult> => {
    if (role === 'self') return cli(frankEnv, ['--password-stdin', ...args], `${FRANK.password}\n`);
    return as(ROWS.find((r) => r.role === role)!.who, args);
  };
  const ok = (r: CliResult) => {
    expect(r.code, describeRun(r)).toBe(0);
    return r.stdout.trim() === '' ? null : JSON.parse(r.stdout);
  };
  const audit = (where: Record<string, unknown>) => knex('audit_events').where(where).orderBy('id').select('*');
  const refusals = async (actor: Account, target: Account, action: string) =>
    (await audit({ actor_email: actor.email, target_email: target.email, action, outcome: 'refused' })).length;
  const credentials = async (user: Account) => (await knex('mfa_credentials').where('user_id', users[user.email]!.id).select('*')).length;

  /** Assert a refused row: exit 5, one line, and exactly one new 'refused' audit row for it. */
  async function expectRefused(role: Role, args: string[], action: string, target: Account = FRANK) {
    const who = ROWS.find((r) => r.role === role)!.who;
    const before = await refusals(who, target, action);
    const r = await runAs(role, args);
    expectOneLineError(r, 5);
    expect(await refusals(who, target, action), `one refused ${action} row for ${who.email}`).toBe(before + 1);
    return r;
  }

  beforeAll(async () => {
    url = getDb().url;
    keyB64 = generateKeyBase64();
    env = makeCliEnv({ PORTAL_MFA_KEY: keyB64 }).env;
    frankEnv = makeCliEnv({ PORTAL_MFA_KEY: keyB64 }).env;
    const migrate = await cli(env, ['db', 'migrate']);
    expect(migrate.code, describeRun(migrate)).toBe(0);
    const demo = await cli(env, ['demo']);
    expect(demo.code, describeRun(demo)).toBe(0);
    db = await openDatabase(parseDatabaseUrl(url));
    knex = db.knex;
    deps = makeDepsFor(knex, keyB64);
    for (const a of [ALICE, BOB, OLIVIA, DAVE, ERIN, FRANK, HEIDI, SAM]) users[a.email] = (await findUserByEmail(knex, a.email))!;
    // frank logs in before he has MFA (globex does not require it): his session is the "self" actor
    const login = await cli(frankEnv, ['login', '--as', FRANK.email, '--password-stdin', '--json'], `${FRANK.password}\n`);
    expect(ok(login)).toMatchObject({ email: FRANK.email, secondFactor: 'none' });
    frankTotp = await enrol(deps, users[FRANK.email]!);
  });

  afterAll(async () => {
    await db?.close();
  });

  describe('core authorise()', () => {
    it('a member of acme: self, their admin, an admin of both orgs and support may; another org\'s admin and a member may not (refusals audited)', async () => {
      const erin = users[ERIN.email]!;
      for (const action of ACTIONS) {
        expect(await authorise(deps, erin, erin, action)).toEqual({ via: 'self', organisation: null });
        const acme = { id: expect.any(Number), slug: 'acme' };
        expect(await authorise(deps, users[ALICE.email]!, erin, action)).toEqual({ via: 'org-admin', organisation: acme });
        // olivia administers both organisations, but erin is only in acme: not ambiguous
        expect(await authorise(deps, users[OLIVIA.email]!, erin, action)).toEqual({ via: 'org-admin', organisation: acme });
        expect(await authorise(deps, users[SAM.email]!, erin, action)).toEqual({ via: 'support', organisation: null });
        for (const refused of [BOB, DAVE]) {
          const before = await refusals(refused, ERIN, action);
          await expectKind(authorise(deps, users[refused.email]!, erin, action), 'forbidden');
          const rows = await audit({ actor_email: refused.email, target_email: ERIN.email, action, outcome: 'refused' });
          expect(rows).toHaveLength(before + 1);
          expect(rows.at(-1)!.reason).toMatch(/may not/);
        }
      }
      // the options that take a path away
      await expectKind(authorise(deps, users[SAM.email]!, erin, 'org.users', { supportAllowed: false }), 'forbidden');
      await expectKind(authorise(deps, erin, erin, 'org.disable-mfa', { selfAllowed: false }), 'forbidden');
    });

    it('an admin of two of the target\'s organisations must name one; --org is checked', async () => {
      const olivia = users[OLIVIA.email]!;
      const heidi = users[HEIDI.email]!;
      const ambiguous = await expectKind(authorise(deps, olivia, heidi, 'mfa.disable'), 'usage');
      expect(ambiguous.message).toMatch(/acme/);
      expect(ambiguous.message).toMatch(/globex/);
      expect(ambiguous.details?.organisations).toEqual(['acme', 'globex']);

      let offered: string[] = [];
      const picked = await authorise(deps, olivia, heidi, 'mfa.disable', {
        pickOrganisation: async (choices) => {
          offered = choices.map((c) => c.slug);
          return 'globex';
        },
      });
      expect(offered).toEqual(['acme', 'globex']);
      expect(picked).toEqual({ via: 'org-admin', organisation: { id: expect.any(Number), slug: 'globex' } });

      expect(await authorise(deps, olivia, heidi, 'mfa.disable', { orgSlug: 'globex' })).toEqual({
        via: 'org-admin',
        organisation: { id: expect.any(Number), slug: 'globex' },
      });
      expect((await authorise(deps, olivia, heidi, 'mfa.disable', { orgSlug: 'ACME' })).organisation?.slug).toBe('acme');
      await expectKind(authorise(deps, olivia, heidi, 'mfa.disable', { orgSlug: 'nosuch' }), 'not_found');
      await expectKind(authorise(deps, olivia, heidi, 'mfa.disable', { orgSlug: 'not a slug!' }), 'usage');

      // alice names an organisation she does not administer: refused, and audited with that organisation
      const before = await refusals(ALICE, HEIDI, 'mfa.disable');
      await expectKind(authorise(deps, users[ALICE.email]!, heidi, 'mfa.disable', { orgSlug: 'globex' }), 'forbidden');
      const rows = await audit({ actor_email: ALICE.email, target_email: HEIDI.email, action: 'mfa.disable', outcome: 'refused' });
      expect(rows).toHaveLength(before + 1);
      expect(rows.at(-1)!.organisation_slug).toBe('globex');
      // a member naming their own organisation gains nothing
      await expectKind(authorise(deps, users[DAVE.email]!, users[ERIN.email]!, 'mfa.status', { orgSlug: 'acme' }), 'forbidden');
    });
  });

  describe('through the CLI, target frank (globex)', () => {
    it('status --user', async () => {
      for (const row of ROWS) {
        const args = ['status', '--user', FRANK.email, '--json'];
        if (!row.allowed) {
          await expectRefused(row.role, args, 'mfa.status');
          continue;
        }
        expect(ok(await runAs(row.role, args)), row.role).toMatchObject({ email: FRANK.email, state: 'active' });
      }
    });

    it('devices list --user', async () => {
      const device = await trustDevice(deps, users[FRANK.email]!, { label: 'frank-laptop', actor: party(users[FRANK.email]!), deviceTrustAllowed: true });
      for (const row of ROWS) {
        const args = ['devices', 'list', '--user', FRANK.email, '--json'];
        if (!row.allowed) {
          const r = await expectRefused(row.role, args, 'device.list');
          expect(r.stdout).not.toContain('frank-laptop');
          continue;
        }
        const doc = ok(await runAs(row.role, args));
        expect(doc.email, row.role).toBe(FRANK.email);
        expect(doc.devices.map((d: { id: number }) => d.id), row.role).toContain(device.id);
      }
    });

    it('devices revoke --all --user', async () => {
      const frank = users[FRANK.email]!;
      // start from no active device, so each allowed row revokes exactly the one made for it
      await knex('trusted_devices').where('user_id', frank.id).whereNull('revoked_at').update({ revoked_at: testNow() });
      for (const row of ROWS) {
        const device = await trustDevice(deps, frank, { label: `for-${row.role}`, actor: party(frank), deviceTrustAllowed: true });
        const args = ['devices', 'revoke', '--all', '--user', FRANK.email, '--yes', '--json'];
        const revokedAt = async () => (await knex('trusted_devices').where('id', device.id).first('revoked_at')).revoked_at;
        if (!row.allowed) {
          await expectRefused(row.role, args, 'device.revoke');
          expect(await revokedAt(), `${row.role} must not revoke`).toBeNull();
          // leave no active device behind for the next row
          await knex('trusted_devices').where('id', device.id).update({ revoked_at: testNow() });
          continue;
        }
        const before = (await audit({ action: 'device.revoke', outcome: 'success', target_email: FRANK.email })).length;
        const doc = ok(await runAs(row.role, args));
        expect(doc, row.role).toMatchObject({ revoked: 1, users: [FRANK.email] });
        expect(await revokedAt(), row.role).not.toBeNull();
        const rows = await audit({ action: 'device.revoke', outcome: 'success', target_email: FRANK.email });
        expect(rows).toHaveLength(before + 1);
        expect(rows.at(-1)).toMatchObject({ actor_email: row.who.email, organisation_slug: row.role === 'orgAdmin' ? 'globex' : null });
      }
    });

    it('verify --user', async () => {
      const credential = async () => knex('mfa_credentials').where({ user_id: users[FRANK.email]!.id, status: 'active' }).first('*');
      // refused rows first: a right code, which must not be checked (nor used up)
      for (const row of ROWS.filter((r) => !r.allowed)) {
        const lastBefore = Number((await credential()).last_accepted_step);
        const step = await safeStep(3_000);
        await expectRefused(row.role, ['verify', '--user', FRANK.email, '--code', totpAt(frankTotp.secret, Math.max(step, frankTotp.last + 1)), '--json'], 'mfa.verify');
        expect(Number((await credential()).last_accepted_step)).toBe(lastBefore);
      }
      for (const row of ROWS.filter((r) => r.allowed)) {
        const code = await nextCode(frankTotp);
        const doc = ok(await runAs(row.role, ['verify', '--user', FRANK.email, '--code', code, '--json']));
        expect(doc, row.role).toMatchObject({ valid: true, email: FRANK.email });
        expect(Number((await credential()).last_accepted_step)).toBe(frankTotp.last);
        const last = (await audit({ action: 'mfa.verify', target_email: FRANK.email })).at(-1)!;
        expect(last).toMatchObject({ outcome: 'success', actor_email: row.who.email, organisation_slug: row.role === 'orgAdmin' ? 'globex' : null });
      }
    });

    it('disable --user (support needs --ticket)', async () => {
      const frank = users[FRANK.email]!;
      for (const row of ROWS.filter((r) => !r.allowed)) {
        await expectRefused(row.role, ['disable', '--user', FRANK.email, '--yes'], 'mfa.disable');
        expect(await credentials(FRANK)).toBe(1);
      }

      // support without a ticket: usage error, nothing changed
      const noTicket = await runAs('support', ['disable', '--user', FRANK.email, '--yes']);
      expectOneLineError(noTicket, 2, /ticket/);
      expect(await credentials(FRANK)).toBe(1);
      expect(await audit({ action: 'mfa.reset', target_email: FRANK.email })).toHaveLength(0);

      const support = await runAs('support', ['disable', '--user', FRANK.email, '--ticket', 'SUP-4242', '--yes', '--json']);
      expect(ok(support)).toMatchObject({ email: FRANK.email, disabled: true, via: 'support', ticket: 'SUP-4242' });
      expect(await credentials(FRANK)).toBe(0);
      expect(await audit({ action: 'mfa.reset', target_email: FRANK.email })).toEqual([
        expect.objectContaining({ actor_email: SAM.email, outcome: 'success', ticket: 'SUP-4242', organisation_slug: null }),
      ]);

      frankTotp = await enrol(deps, frank);
      const admin = await runAs('orgAdmin', ['disable', '--user', FRANK.email, '--yes', '--json']);
      expect(ok(admin)).toMatchObject({ disabled: true, via: 'org-admin', organisation: 'globex' });
      expect(await credentials(FRANK)).toBe(0);
      expect(await audit({ action: 'org.disable-mfa', target_email: FRANK.email })).toEqual([
        expect.objectContaining({ actor_email: BOB.email, outcome: 'success', organisation_slug: 'globex', ticket: null }),
      ]);

      // the resets above ended frank's CLI session: he logs in again (now with a code) to disable his own
      expectOneLineError(await runAs('self', ['status', '--json']), 2, /session/);
      frankTotp = await enrol(deps, frank);
      const code = await nextCode(frankTotp);
      const relogin = await cli(frankEnv, ['login', '--as', FRANK.email, '--password-stdin', '--code', '-', '--json'], `${FRANK.password}\n${code}\n`);
      expect(ok(relogin)).toMatchObject({ email: FRANK.email, secondFactor: 'code' });
      const self = await runAs('self', ['disable', '--user', FRANK.email, '--yes', '--json']);
      expect(ok(self)).toMatchObject({ disabled: true, via: 'self' });
      expect(await credentials(FRANK)).toBe(0);
      expect(await audit({ action: 'mfa.disable', target_email: FRANK.email, outcome: 'success' })).toEqual([
        expect.objectContaining({ actor_email: FRANK.email, organisation_slug: null }),
      ]);
    });
  });

  describe('through the CLI: several organisations, --org and unknown names', () => {
    it('olivia (admin of both of heidi\'s organisations) without --org and no TTY: exit 2 listing both; with --org globex: done in globex', async () => {
      await enrol(deps, users[HEIDI.email]!);
      for (const args of [
        ['status', '--user', HEIDI.email, '--json'],
        ['devices', 'list', '--user', HEIDI.email],
        ['devices', 'revoke', '--all', '--user', HEIDI.email, '--yes'],
        ['disable', '--user', HEIDI.email, '--yes'],
      ]) {
        const r = await as(OLIVIA, args);
        expectOneLineError(r, 2, /acme/);
        expect(r.stderr, args.join(' ')).toMatch(/globex/);
      }
      expect(await credentials(HEIDI)).toBe(1);

      expect(ok(await as(OLIVIA, ['status', '--user', HEIDI.email, '--org', 'acme', '--json']))).toMatchObject({ email: HEIDI.email, state: 'active' });
      const disabled = await as(OLIVIA, ['disable', '--user', HEIDI.email, '--org', 'globex', '--yes', '--json']);
      expect(ok(disabled)).toMatchObject({ disabled: true, via: 'org-admin', organisation: 'globex' });
      expect(await credentials(HEIDI)).toBe(0);
      expect(await audit({ action: 'org.disable-mfa', target_email: HEIDI.email })).toEqual([
        expect.objectContaining({ actor_email: OLIVIA.email, outcome: 'success', organisation_slug: 'globex' }),
      ]);
    });

    it('--org the actor does not administer → 5 (audited); unknown --org → 3; unknown --user → 3', async () => {
      const before = (await audit({ actor_email: ALICE.email, target_email: ERIN.email, outcome: 'refused', organisation_slug: 'globex' })).length;
      expectOneLineError(await as(ALICE, ['status', '--user', ERIN.email, '--org', 'globex', '--json']), 5);
      expectOneLineError(await as(ALICE, ['devices', 'revoke', '--all', '--user', ERIN.email, '--org', 'globex', '--yes']), 5);
      expect((await audit({ actor_email: ALICE.email, target_email: ERIN.email, outcome: 'refused', organisation_slug: 'globex' })).length).toBe(before + 2);
      expectOneLineError(await as(BOB, ['status', '--user', ERIN.email, '--org', 'acme', '--json']), 5);
      expectOneLineError(await as(DAVE, ['status', '--user', ERIN.email, '--org', 'acme', '--json']), 5);
      // the same actor in her own organisation is fine
      expect(ok(await as(ALICE, ['status', '--user', ERIN.email, '--org', 'acme', '--json']))).toMatchObject({ email: ERIN.email });

      expectOneLineError(await as(ALICE, ['status', '--user', ERIN.email, '--org', 'nosuch', '--json']), 3, /nosuch/);
      expectOneLineError(await as(ALICE, ['disable', '--user', ERIN.email, '--org', 'nosuch', '--yes']), 3, /nosuch/);
      expectOneLineError(await as(ALICE, ['status', '--user', 'nobody@acme.example', '--json']), 3, /nobody@acme\.example/);
      expectOneLineError(await as(SAM, ['disable', '--user', 'nobody@acme.example', '--ticket', 'SUP-1', '--yes']), 3);
      expectOneLineError(await as(SAM, ['devices', 'list', '--user', 'nobody@acme.example']), 3);
      expectOneLineError(await as(SAM, ['verify', '--user', 'nobody@acme.example', '--code', '123456']), 3);
    });
  });
});
