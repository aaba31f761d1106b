/**
 * SPEC §2, who may do what: the core `authorise()` in-process for the whole matrix, and the built
 * binary for every (actor × action) row against one target, on SQLite and a real MariaDB.
 *
 * Target of the CLI matrix: frank (member of globex, which does not require MFA, so he can hold a
 * CLI session from before his enrolment — the "self" actor uses that session).
 *   self → frank · admin of the target's org → bob (globex) · admin of another org → alice (acme)
 *   plain member of the same org → heidi (member of globex and acme) · support → sam
 * acme requires MFA and rule 4 holds on every path, so its members (alice, olivia, dave, heidi)
 * are enrolled first and trust the --as machine once. MFA state is set up through the public core
 * API (test/support/fixtures.ts). Codes come from test/support/independentTotp.ts; each account's
 * last accepted step is tracked so a code is never replayed by accident.
 */
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/core/rules/actor.js';
import { authorise, authoriseOrganisation, type Permission } from '../../src/core/rules/authorise.js';
import { isPortalMfaError, type PortalMfaError } from '../../src/core/errors.js';
import { generateKeyBase64 } from '../../src/core/primitives/secretBox.js';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { parseDatabaseUrl } from '../../src/db/url.js';
import type { PortalUser } from '../../src/core/domain.js';
import { findUserByEmail } from '../../src/core/rules/identity.js';
import { describeRun, expectOneLineError, makeCliEnv, runCli, type CliResult } from '../support/cli.js';
import { testNow } from '../support/clock.js';
import { describeEachDatabase } from '../support/databases.js';
import { makeFixtures, type Enrolled, type Fixtures } from '../support/fixtures.js';
import { safeStep, totpAt } from '../support/independentTotp.js';
import { ALICE, type Account, BOB, DAVE, ERIN, FRANK, HEIDI, OLIVIA, SAM, nextCode, cheapDemoPasswords } from '../support/scenario.js';

async function expectKind(p: Promise<unknown>, kind: PortalMfaError['kind'], code?: PortalMfaError['code']): Promise<PortalMfaError> {
  try {
    await p;
  } catch (e) {
    expect(isPortalMfaError(e), String(e)).toBe(true);
    expect((e as PortalMfaError).kind).toBe(kind);
    if (code) expect((e as PortalMfaError).code).toBe(code);
    return e as PortalMfaError;
  }
  throw new Error(`expected a ${kind} error, but it resolved`);
}

/** The audit action of each use case, and the permission it asks authorise() for. */
const ACTIONS: { action: string; permission: Permission }[] = [
  { action: 'mfa.status', permission: 'view' },
  { action: 'mfa.disable', permission: 'disable' },
  { action: 'device.list', permission: 'view' },
  { action: 'device.revoke', permission: 'revoke-devices' },
  { action: 'mfa.verify', permission: 'verify' },
];
const STATE_CHANGES: ReadonlySet<Permission> = new Set(['disable', 'unlock', 'access-code', 'revoke-devices']);

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
  let fx: Fixtures;
  let keyB64: string;
  /** "this machine" for every --as actor */
  let env: NodeJS.ProcessEnv;
  /** frank's machine: holds his CLI session */
  let frankEnv: NodeJS.ProcessEnv;
  let url: string;
  const users: Record<string, PortalUser> = {};
  /** in-process actors, signed in with their passwords before anyone had MFA */
  const actors: Record<string, Actor> = {};
  let frankTotp: Enrolled;

  const cli = (e: NodeJS.ProcessEnv, args: string[], stdin?: string) => runCli(['--db', url, ...args], { env: e, stdin, timeoutMs: 90_000 });
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
  const audit = (where: Record<string, unknown>) => knex('mfa_audit_events').where(where).orderBy('id').select('*');
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
    await cheapDemoPasswords(knex);
    fx = makeFixtures(knex, keyB64, 'authorisation-test');
    for (const a of [ALICE, BOB, OLIVIA, DAVE, ERIN, FRANK, HEIDI, SAM]) {
      users[a.email] = (await findUserByEmail(fx.deps.db, a.email))!;
      actors[a.email] = await fx.signIn(a);
    }
    // frank logs in before he has MFA (globex does not require it): his session is the "self" actor
    const login = await cli(frankEnv, ['login', '--as', FRANK.email, '--password-stdin', '--json'], `${FRANK.password}\n`);
    expect(ok(login)).toMatchObject({ email: FRANK.email, secondFactor: 'none' });
    frankTotp = await fx.enrol(FRANK);
    // acme requires MFA, and rule 4 holds on every path: its members act only once enrolled. They
    // trust "this machine" once (login --trust-device with a code), so later --as runs need no code.
    for (const a of [ALICE, OLIVIA, DAVE, HEIDI]) {
      const t = await fx.enrol(a);
      const trusted = await cli(
        env,
        ['login', '--as', a.email, '--password-stdin', '--code', '-', '--trust-device', '--json'],
        `${a.password}\n${await nextCode(t)}\n`,
      );
      expect(ok(trusted)).toMatchObject({ email: a.email, secondFactor: 'code', trustedDevice: { id: expect.any(Number) } });
    }
  }, 300_000);

  afterAll(async () => {
    await db?.close();
  });

  describe('core authorise()', () => {
    const auth = (actor: Account, target: Account, a: { action: string; permission: Permission }, extra: { orgSlug?: string; ticket?: string } = {}) =>
      authorise(fx.deps, actors[actor.email]!, { targetEmail: target.email, action: a.action, permission: a.permission, ...extra });

    it("a member of acme: self, their admin, an admin of both orgs and support (with a ticket for changes) may; another org's admin and a member may not (refusals audited)", async () => {
      const erin = users[ERIN.email]!;
      const acme = { id: expect.any(String), slug: 'acme' };
      for (const a of ACTIONS) {
        expect(await auth(ERIN, ERIN, a), a.action).toMatchObject({ target: { id: erin.id }, via: 'self', organisation: null, ticket: null });
        expect(await auth(ALICE, ERIN, a), a.action).toMatchObject({ target: { id: erin.id }, via: 'org-admin', organisation: acme });
        // olivia administers both organisations, but erin is only in acme: not ambiguous
        expect(await auth(OLIVIA, ERIN, a), a.action).toMatchObject({ target: { id: erin.id }, via: 'org-admin', organisation: acme });
        expect(await auth(SAM, ERIN, a, { ticket: 'SUP-9' }), a.action).toMatchObject({
          target: { id: erin.id },
          via: 'support',
          organisation: null,
          ticket: 'SUP-9',
        });
        if (STATE_CHANGES.has(a.permission)) {
          // support changing another user's state needs a ticket reference; the refusal is audited
          const before = await refusals(SAM, ERIN, a.action);
          await expectKind(auth(SAM, ERIN, a), 'usage', 'ticket_required');
          const rows = await audit({ actor_email: SAM.email, target_email: ERIN.email, action: a.action, outcome: 'refused' });
          expect(rows).toHaveLength(before + 1);
          expect(rows.at(-1)!.reason).toMatch(/ticket/);
        } else {
          expect(await auth(SAM, ERIN, a), a.action).toMatchObject({ via: 'support', ticket: null });
        }
        for (const refused of [BOB, DAVE]) {
          const before = await refusals(refused, ERIN, a.action);
          const e = await expectKind(auth(refused, ERIN, a), 'forbidden');
          expect(e.message).toMatch(/may not act on erin@acme\.example/);
          const rows = await audit({ actor_email: refused.email, target_email: ERIN.email, action: a.action, outcome: 'refused' });
          expect(rows).toHaveLength(before + 1);
          // what the actor reads is the same as for an unknown user; why is for support (issue 20)
          expect(rows.at(-1)!.reason).toBe('may not act on this user');
          expect(JSON.parse(String(rows.at(-1)!.detail)).supportReason).toMatch(/not a member/);
        }
      }
      // no enumeration: a non-support actor gets the same refusal for an unknown email (audited by text
      // only), support learns that it does not exist
      const nobody = { email: 'nobody@acme.example', password: '' };
      for (const who of [ALICE, BOB, DAVE]) {
        const e = await expectKind(auth(who, nobody, ACTIONS[0]!), 'forbidden', 'forbidden');
        expect(e.message).toMatch(/may not act on nobody@acme\.example/);
      }
      const unknownRows = await audit({ target_email: nobody.email, outcome: 'refused' });
      expect(unknownRows.length).toBeGreaterThanOrEqual(3);
      for (const r of unknownRows) expect(r.target_user_id).toBeNull();
      await expectKind(auth(SAM, nobody, ACTIONS[0]!), 'not_found', 'user_not_found');

      // protected accounts: an org admin may look at a fellow admin, not change their MFA
      expect(await auth(ALICE, OLIVIA, { action: 'mfa.status', permission: 'view' })).toMatchObject({ via: 'org-admin', organisation: acme });
      for (const permission of ['disable', 'unlock', 'access-code'] as const) {
        await expectKind(auth(ALICE, OLIVIA, { action: `test.${permission}`, permission }), 'forbidden', 'protected_account');
        await expectKind(auth(ALICE, SAM, { action: `test.${permission}`, permission }), 'forbidden');
      }

      // the paths that are taken away: unlock and access codes never on oneself; support may not
      // change an organisation's policy
      await expectKind(auth(ERIN, ERIN, { action: 'mfa.unlock', permission: 'unlock' }), 'forbidden');
      await expectKind(auth(SAM, SAM, { action: 'access-code.issue', permission: 'access-code' }, { ticket: 'SUP-9' }), 'forbidden');
      await expectKind(authoriseOrganisation(fx.deps, actors[SAM.email]!, { orgSlug: 'acme', action: 'org.policy', supportAllowed: false }), 'forbidden');
      expect(await authoriseOrganisation(fx.deps, actors[SAM.email]!, { orgSlug: 'acme', action: 'org.users', supportAllowed: true })).toMatchObject({
        via: 'support',
        organisation: { slug: 'acme' },
      });
      await expectKind(authoriseOrganisation(fx.deps, actors[DAVE.email]!, { orgSlug: 'acme', action: 'org.users', supportAllowed: true }), 'forbidden');
    });

    it("an admin of two of the target's organisations must name one; --org is checked", async () => {
      const disable = { action: 'mfa.disable', permission: 'disable' as const };
      const olivia = actors[OLIVIA.email]!;
      const ambiguous = await expectKind(auth(OLIVIA, HEIDI, disable), 'usage', 'ambiguous_organisation');
      expect(ambiguous.message).toMatch(/acme/);
      expect(ambiguous.message).toMatch(/globex/);
      expect(ambiguous.details?.organisations).toEqual(['acme', 'globex']);

      let offered: string[] = [];
      const picked = await authorise(fx.deps, olivia, {
        targetEmail: HEIDI.email,
        ...disable,
        pickOrganisation: async (choices) => {
          offered = choices.map((c) => c.slug);
          return 'globex';
        },
      });
      expect(offered).toEqual(['acme', 'globex']);
      expect(picked).toMatchObject({ via: 'org-admin', organisation: { id: expect.any(String), slug: 'globex' } });

      expect(await auth(OLIVIA, HEIDI, disable, { orgSlug: 'globex' })).toMatchObject({
        via: 'org-admin',
        organisation: { id: expect.any(String), slug: 'globex' },
      });
      expect((await auth(OLIVIA, HEIDI, disable, { orgSlug: 'ACME' })).organisation?.slug).toBe('acme');
      // only support learns that an organisation does not exist; anyone else is refused as for one they do not administer (issue 20)
      await expectKind(auth(OLIVIA, HEIDI, disable, { orgSlug: 'nosuch' }), 'forbidden', 'forbidden');
      await expectKind(auth(SAM, HEIDI, disable, { orgSlug: 'nosuch', ticket: 'SUP-1' }), 'not_found', 'organisation_not_found');
      await expectKind(auth(OLIVIA, HEIDI, disable, { orgSlug: 'not a slug!' }), 'usage');

      // alice names an organisation she does not administer: refused and audited (the organisation is
      // recorded only when the refusal belongs to it: alice is not a member of globex, so not its trail)
      const before = await refusals(ALICE, HEIDI, 'mfa.disable');
      await expectKind(auth(ALICE, HEIDI, disable, { orgSlug: 'globex' }), 'forbidden');
      const rows = await audit({ actor_email: ALICE.email, target_email: HEIDI.email, action: 'mfa.disable', outcome: 'refused' });
      expect(rows).toHaveLength(before + 1);
      expect(rows.at(-1)).toMatchObject({ reason: 'may not act on this user', organisation_slug: null });
      expect(JSON.parse(String(rows.at(-1)!.detail)).supportReason).toMatch(/^not an admin of globex/);
      // a member naming their own organisation gains nothing
      await expectKind(auth(DAVE, ERIN, { action: 'mfa.status', permission: 'view' }, { orgSlug: 'acme' }), 'forbidden');
    });
  });

  // each row spawns the built binary (bcrypt, a process start): minutes on a busy 2-core machine
  describe('through the CLI, target frank (globex)', { timeout: 180_000 }, () => {
    it('status --user', async () => {
      for (const row of ROWS) {
        const args = ['status', '--user', FRANK.email, '--json'];
        if (!row.allowed) {
          await expectRefused(row.role, args, 'mfa.status');
          continue;
        }
        expect(ok(await runAs(row.role, args)), row.role).toMatchObject({ email: FRANK.email, mfa: 'active' });
      }
    });

    it('devices list --user', async () => {
      const device = await fx.trustDevice(FRANK, frankTotp, 'frank-laptop');
      for (const row of ROWS) {
        const args = ['devices', 'list', '--user', FRANK.email, '--json'];
        if (!row.allowed) {
          const r = await expectRefused(row.role, args, 'device.list');
          expect(r.stdout).not.toContain('frank-laptop');
          continue;
        }
        const doc = ok(await runAs(row.role, args));
        expect(doc.email, row.role).toBe(FRANK.email);
        expect(
          doc.devices.map((d: { id: number }) => d.id),
          row.role,
        ).toContain(device.id);
      }
    });

    it('devices revoke --all --user', async () => {
      const frank = users[FRANK.email]!;
      // start from no active device, so each allowed row revokes exactly the one made for it
      await knex('mfa_trusted_devices').where('user_id', frank.id).whereNull('revoked_at').update({ revoked_at: testNow() });
      for (const row of ROWS) {
        const device = await fx.trustDevice(FRANK, frankTotp, `for-${row.role}`);
        const args = ['devices', 'revoke', '--all', '--user', FRANK.email, '--yes', '--json'];
        const revokedAt = async () => (await knex('mfa_trusted_devices').where('id', device.id).first('revoked_at'))!.revoked_at;
        if (!row.allowed) {
          await expectRefused(row.role, args, 'device.revoke');
          expect(await revokedAt(), `${row.role} must not revoke`).toBeNull();
          // leave no active device behind for the next row
          await knex('mfa_trusted_devices').where('id', device.id).update({ revoked_at: testNow() });
          continue;
        }
        const before = (await audit({ action: 'device.revoke', outcome: 'success', target_email: FRANK.email })).length;
        if (row.role === 'support') {
          // support changing another user's state needs a ticket reference: nothing revoked without one
          expectOneLineError(await runAs(row.role, args), 2, /ticket/);
          expect(await revokedAt(), 'support without --ticket must not revoke').toBeNull();
        }
        const ticket = row.role === 'support' ? ['--ticket', 'SUP-77'] : [];
        const doc = ok(await runAs(row.role, [...args, ...ticket]));
        expect(doc, row.role).toMatchObject({ revoked: 1, users: [FRANK.email] });
        expect(await revokedAt(), row.role).not.toBeNull();
        const rows = await audit({ action: 'device.revoke', outcome: 'success', target_email: FRANK.email });
        expect(rows).toHaveLength(before + 1);
        expect(rows.at(-1)).toMatchObject({
          actor_email: row.who.email,
          organisation_slug: row.role === 'orgAdmin' ? 'globex' : null,
          ticket: row.role === 'support' ? 'SUP-77' : null,
        });
      }
    });

    it('verify --user', async () => {
      const credential = async () => knex('mfa_credentials').where({ user_id: users[FRANK.email]!.id, status: 'active' }).first('*');
      // refused rows first: a right code, which must not be checked (nor used up)
      for (const row of ROWS.filter((r) => !r.allowed)) {
        const lastBefore = Number((await credential()).last_accepted_step);
        const step = await safeStep(3_000);
        await expectRefused(
          row.role,
          ['verify', '--user', FRANK.email, '--code', totpAt(frankTotp.secret, Math.max(step, frankTotp.last + 1)), '--json'],
          'mfa.verify',
        );
        expect(Number((await credential()).last_accepted_step)).toBe(lastBefore);
      }
      // rule 14: nobody mints a trusted-device token for someone else — refused before the code is used
      for (const role of ['orgAdmin', 'support'] as const) {
        const who = ROWS.find((r) => r.role === role)!.who;
        const lastBefore = Number((await credential()).last_accepted_step);
        const devicesBefore = (await knex('mfa_trusted_devices').where('user_id', users[FRANK.email]!.id).select('id')).length;
        const trustRefusals = async () => (await audit({ actor_email: who.email, action: 'device.trust', outcome: 'refused' })).length;
        const refusedBefore = await trustRefusals();
        const step = await safeStep(3_000);
        const r = await runAs(role, [
          'verify',
          '--user',
          FRANK.email,
          '--code',
          totpAt(frankTotp.secret, Math.max(step, frankTotp.last + 1)),
          '--trust-device',
          '--json',
        ]);
        expectOneLineError(r, 5);
        expect(r.stdout).toBe('');
        expect(Number((await credential()).last_accepted_step), `${role}: the code must not be used up`).toBe(lastBefore);
        expect((await knex('mfa_trusted_devices').where('user_id', users[FRANK.email]!.id).select('id')).length).toBe(devicesBefore);
        expect(await trustRefusals()).toBe(refusedBefore + 1);
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

      frankTotp = await fx.enrol(FRANK);
      const admin = await runAs('orgAdmin', ['disable', '--user', FRANK.email, '--yes', '--json']);
      expect(ok(admin)).toMatchObject({ disabled: true, via: 'org-admin', organisation: 'globex' });
      expect(await credentials(FRANK)).toBe(0);
      expect(await audit({ action: 'org.disable-mfa', target_email: FRANK.email })).toEqual([
        expect.objectContaining({ actor_email: BOB.email, outcome: 'success', organisation_slug: 'globex', ticket: null }),
      ]);

      // the resets above ended frank's CLI session: he logs in again (now with a code) to disable his own
      expectOneLineError(await runAs('self', ['status', '--json']), 2, /session/);
      frankTotp = await fx.enrol(FRANK);
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

  // each row spawns the built binary (bcrypt, a process start): minutes on a busy 2-core machine
  describe('through the CLI: several organisations, --org and unknown names', { timeout: 180_000 }, () => {
    it("olivia (admin of both of heidi's organisations) without --org and no TTY: exit 2 listing both; with --org globex: done in globex", async () => {
      // heidi was enrolled (and trusted this machine) in beforeAll
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
      const r = await as(OLIVIA, ['status', '--user', HEIDI.email, '--json']);
      expect(ok(r)).toMatchObject({ email: HEIDI.email });
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
});
