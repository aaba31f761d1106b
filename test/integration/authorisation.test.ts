/**
 * SPEC §2, who may do what, in-process on SQLite and a real MariaDB (test/support/world.ts): the core
 * `authorise()` for the whole matrix, then every use case that acts on one user for each (actor ×
 * action) row against one target. What the CLI adds — flags, the terminal, exit codes — is
 * test/integration/authorisation-cli.test.ts.
 *
 * Target of the use-case matrix: frank (member of globex).
 *   self → frank · admin of the target's org → bob (globex) · admin of another org → alice (acme)
 *   plain member of the same org → heidi (member of globex and acme) · support → sam
 * acme requires MFA and rule 4 holds on every path, so everyone who acts is enrolled first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortalUser } from '../../src/core/domain.js';
import type { AuditAction } from '../../src/core/primitives/audit.js';
import type { Actor } from '../../src/core/rules/actor.js';
import { authorise, authoriseOrganisation, type Permission } from '../../src/core/rules/authorise.js';
import { findUserByEmail } from '../../src/core/rules/identity.js';
import { describeEachDatabase } from '../support/databases.js';
import { refusal } from '../support/refusal.js';
import { type Account, ALICE, BOB, DAVE, ERIN, FRANK, HEIDI, OLIVIA, SAM } from '../support/scenario.js';
import { openWorld, type World } from '../support/world.js';

/** The audit action of each use case, and the permission it asks authorise() for. */
const ACTIONS: { action: AuditAction; permission: Permission }[] = [
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
const REFUSED = ROWS.filter((r) => !r.allowed);
const ALLOWED = ROWS.filter((r) => r.allowed);

describeEachDatabase('authorisation (SPEC §2)', (getDb) => {
  let w: World;
  const users: Record<string, PortalUser> = {};
  const secrets: Record<string, string> = {};
  const actors: Record<string, Actor> = {};

  const audit = (where: Record<string, unknown>) => w.knex('mfa_audit_events').where(where).orderBy('id').select('*');
  const refusals = async (actor: Account, target: Account, action: string) =>
    (await audit({ actor_email: actor.email, target_email: target.email, action, outcome: 'refused' })).length;
  const credentials = async (user: Account) => (await w.knex('mfa_credentials').where('user_id', users[user.email]!.id).select('*')).length;
  const actorOf = (role: Role) => actors[ROWS.find((r) => r.role === role)!.who.email]!;

  /** A refused row: forbidden, and exactly one new 'refused' audit row for it. */
  async function expectRefused(role: Role, call: (actor: Actor) => Promise<unknown>, action: string, target: Account = FRANK) {
    const who = ROWS.find((r) => r.role === role)!.who;
    const before = await refusals(who, target, action);
    const e = await refusal(call(actors[who.email]!), 'forbidden');
    expect(await refusals(who, target, action), `one refused ${action} row for ${who.email}`).toBe(before + 1);
    return e;
  }

  /** Frank signs in again with the current code (the step is then used: the clock moves on). */
  async function frankSignsIn(): Promise<Actor> {
    const actor = await w.as(FRANK.email, secrets[FRANK.email]);
    w.advance(30_000);
    return actor;
  }

  beforeAll(async () => {
    w = await openWorld(getDb().url);
    for (const a of [ALICE, BOB, OLIVIA, DAVE, ERIN, FRANK, HEIDI, SAM]) users[a.email] = (await findUserByEmail(w.deps.db, a.email))!;
    // acme requires MFA, and rule 4 holds on every path: its members act only once enrolled
    for (const a of [ALICE, OLIVIA, DAVE, HEIDI, FRANK]) secrets[a.email] = await w.enrol(a.email);
    for (const a of [ALICE, BOB, OLIVIA, DAVE, ERIN, FRANK, HEIDI, SAM]) actors[a.email] = await w.as(a.email, secrets[a.email]);
    w.advance(30_000);
  });
  afterAll(async () => {
    await w?.close();
  });

  describe('core authorise()', () => {
    const auth = (actor: Account, target: Account, a: { action: AuditAction; permission: Permission }, extra: { orgSlug?: string; ticket?: string } = {}) =>
      authorise(w.deps, actors[actor.email]!, { targetEmail: target.email, action: a.action, permission: a.permission, ...extra });

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
          await refusal(auth(SAM, ERIN, a), 'usage', 'ticket_required');
          const rows = await audit({ actor_email: SAM.email, target_email: ERIN.email, action: a.action, outcome: 'refused' });
          expect(rows).toHaveLength(before + 1);
          expect(rows.at(-1)!.reason).toMatch(/ticket/);
        } else {
          expect(await auth(SAM, ERIN, a), a.action).toMatchObject({ via: 'support', ticket: null });
        }
        for (const refused of [BOB, DAVE]) {
          const before = await refusals(refused, ERIN, a.action);
          const e = await refusal(auth(refused, ERIN, a), 'forbidden');
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
        const e = await refusal(auth(who, nobody, ACTIONS[0]!), 'forbidden', 'forbidden');
        expect(e.message).toMatch(/may not act on nobody@acme\.example/);
      }
      const unknownRows = await audit({ target_email: nobody.email, outcome: 'refused' });
      expect(unknownRows.length).toBeGreaterThanOrEqual(3);
      for (const r of unknownRows) expect(r.target_user_id).toBeNull();
      await refusal(auth(SAM, nobody, ACTIONS[0]!), 'not_found', 'user_not_found');

      // protected accounts: an org admin may look at a fellow admin, not change their MFA
      expect(await auth(ALICE, OLIVIA, { action: 'mfa.status', permission: 'view' })).toMatchObject({ via: 'org-admin', organisation: acme });
      for (const [permission, action] of [
        ['disable', 'mfa.disable'],
        ['unlock', 'mfa.unlock'],
        ['access-code', 'access-code.issue'],
      ] as const) {
        await refusal(auth(ALICE, OLIVIA, { action, permission }), 'forbidden', 'protected_account');
        await refusal(auth(ALICE, SAM, { action, permission }), 'forbidden');
      }

      // the paths that are taken away: unlock and access codes never on oneself; support may not
      // change an organisation's policy
      await refusal(auth(ERIN, ERIN, { action: 'mfa.unlock', permission: 'unlock' }), 'forbidden');
      await refusal(auth(SAM, SAM, { action: 'access-code.issue', permission: 'access-code' }, { ticket: 'SUP-9' }), 'forbidden');
      await refusal(authoriseOrganisation(w.deps, actors[SAM.email]!, { orgSlug: 'acme', action: 'org.policy', supportAllowed: false }), 'forbidden');
      expect(await authoriseOrganisation(w.deps, actors[SAM.email]!, { orgSlug: 'acme', action: 'org.users', supportAllowed: true })).toMatchObject({
        via: 'support',
        organisation: { slug: 'acme' },
      });
      await refusal(authoriseOrganisation(w.deps, actors[DAVE.email]!, { orgSlug: 'acme', action: 'org.users', supportAllowed: true }), 'forbidden');
    });

    it("an admin of two of the target's organisations must name one; --org is checked", async () => {
      const disable = { action: 'mfa.disable' as const, permission: 'disable' as const };
      const olivia = actors[OLIVIA.email]!;
      const ambiguous = await refusal(auth(OLIVIA, HEIDI, disable), 'usage', 'ambiguous_organisation');
      expect(ambiguous.message).toMatch(/acme/);
      expect(ambiguous.message).toMatch(/globex/);
      expect(ambiguous.details?.organisations).toEqual(['acme', 'globex']);

      let offered: string[] = [];
      const picked = await authorise(w.deps, olivia, {
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
      await refusal(auth(OLIVIA, HEIDI, disable, { orgSlug: 'nosuch' }), 'forbidden', 'forbidden');
      await refusal(auth(SAM, HEIDI, disable, { orgSlug: 'nosuch', ticket: 'SUP-1' }), 'not_found', 'organisation_not_found');
      await refusal(auth(OLIVIA, HEIDI, disable, { orgSlug: 'not a slug!' }), 'usage');

      // alice names an organisation she does not administer: refused and audited (the organisation is
      // recorded only when the refusal belongs to it: alice is not a member of globex, so not its trail)
      const before = await refusals(ALICE, HEIDI, 'mfa.disable');
      await refusal(auth(ALICE, HEIDI, disable, { orgSlug: 'globex' }), 'forbidden');
      const rows = await audit({ actor_email: ALICE.email, target_email: HEIDI.email, action: 'mfa.disable', outcome: 'refused' });
      expect(rows).toHaveLength(before + 1);
      expect(rows.at(-1)).toMatchObject({ reason: 'may not act on this user', organisation_slug: null });
      expect(JSON.parse(String(rows.at(-1)!.detail)).supportReason).toMatch(/^not an admin of globex/);
      // a member naming their own organisation gains nothing
      await refusal(auth(DAVE, ERIN, { action: 'mfa.status', permission: 'view' }, { orgSlug: 'acme' }), 'forbidden');
    });
  });

  describe('every use case on one user, target frank (globex)', () => {
    it('status', async () => {
      for (const row of REFUSED) await expectRefused(row.role, (a) => w.mfa.status(a, { targetEmail: FRANK.email }), 'mfa.status');
      for (const row of ALLOWED)
        expect(await w.mfa.status(actorOf(row.role), { targetEmail: FRANK.email }), row.role).toMatchObject({ email: FRANK.email, state: 'active' });
    });

    it('devices list', async () => {
      const device = await w.mfa.trustThisDevice(await frankSignsIn(), { label: 'frank-laptop' });
      for (const row of REFUSED) await expectRefused(row.role, (a) => w.mfa.listDevices(a, { targetEmail: FRANK.email }), 'device.list');
      for (const row of ALLOWED) {
        const doc = await w.mfa.listDevices(actorOf(row.role), { targetEmail: FRANK.email });
        expect(doc.email, row.role).toBe(FRANK.email);
        expect(
          doc.devices.map((d) => d.id),
          row.role,
        ).toContain(device.id);
      }
    });

    it('devices revoke --all (support needs a ticket)', async () => {
      const frank = users[FRANK.email]!;
      // start from no active device, so each allowed row revokes exactly the one made for it
      await w.knex('mfa_trusted_devices').where('user_id', frank.id).whereNull('revoked_at').update({ revoked_at: w.now() });
      for (const row of ROWS) {
        const device = await w.mfa.trustThisDevice(await frankSignsIn(), { label: `for-${row.role}` });
        const revokedAt = async () => (await w.knex('mfa_trusted_devices').where('id', device.id).first('revoked_at'))!.revoked_at;
        const revoke = (a: Actor, ticket?: string) => w.mfa.revokeDevices(a, { targetEmail: FRANK.email, ticket, password: row.who.password });
        if (!row.allowed) {
          await expectRefused(row.role, (a) => revoke(a), 'device.revoke');
          expect(await revokedAt(), `${row.role} must not revoke`).toBeNull();
          // leave no active device behind for the next row
          await w.knex('mfa_trusted_devices').where('id', device.id).update({ revoked_at: w.now() });
          continue;
        }
        const before = (await audit({ action: 'device.revoke', outcome: 'success', target_email: FRANK.email })).length;
        if (row.role === 'support') {
          await refusal(revoke(actorOf(row.role)), 'usage', 'ticket_required');
          expect(await revokedAt(), 'support without a ticket must not revoke').toBeNull();
        }
        const done = await revoke(actorOf(row.role), row.role === 'support' ? 'SUP-77' : undefined);
        expect(done, row.role).toMatchObject({ kind: 'revoked', revoked: 1, users: [FRANK.email] });
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

    it('verify: a refused row never checks (nor uses up) the code; nobody trusts a device for someone else', async () => {
      const credential = async () => w.knex('mfa_credentials').where({ user_id: users[FRANK.email]!.id, status: 'active' }).first('*');
      const code = () => ({ kind: 'code' as const, code: w.code(secrets[FRANK.email]!) });
      for (const row of REFUSED) {
        const lastBefore = Number((await credential()).last_accepted_step);
        await expectRefused(row.role, (a) => w.mfa.verifyCode(a, { targetEmail: FRANK.email, proof: code() }), 'mfa.verify');
        expect(Number((await credential()).last_accepted_step)).toBe(lastBefore);
      }
      // rule 14: refused before the code is used
      for (const role of ['orgAdmin', 'support'] as const) {
        const who = ROWS.find((r) => r.role === role)!.who;
        const lastBefore = Number((await credential()).last_accepted_step);
        const devicesBefore = (await w.knex('mfa_trusted_devices').where('user_id', users[FRANK.email]!.id).select('id')).length;
        const trustRefusals = async () => (await audit({ actor_email: who.email, action: 'device.trust', outcome: 'refused' })).length;
        const refusedBefore = await trustRefusals();
        await refusal(w.mfa.verifyCode(actorOf(role), { targetEmail: FRANK.email, proof: code(), trustDevice: { label: 'theirs' } }), 'forbidden');
        expect(Number((await credential()).last_accepted_step), `${role}: the code must not be used up`).toBe(lastBefore);
        expect((await w.knex('mfa_trusted_devices').where('user_id', users[FRANK.email]!.id).select('id')).length).toBe(devicesBefore);
        expect(await trustRefusals()).toBe(refusedBefore + 1);
      }
      for (const row of ALLOWED) {
        const doc = await w.mfa.verifyCode(actorOf(row.role), { targetEmail: FRANK.email, proof: code() });
        expect(doc, row.role).toMatchObject({ email: FRANK.email, driftSteps: 0 });
        expect(Number((await credential()).last_accepted_step)).toBe(w.step());
        const last = (await audit({ action: 'mfa.verify', target_email: FRANK.email })).at(-1)!;
        expect(last).toMatchObject({ outcome: 'success', actor_email: row.who.email, organisation_slug: row.role === 'orgAdmin' ? 'globex' : null });
        w.advance(30_000);
      }
    });

    it('disable (support needs a ticket; audited as mfa.reset, org.disable-mfa or mfa.disable)', async () => {
      const disable = (row: (typeof ROWS)[number], ticket?: string) =>
        w.mfa.disableMfa(actorOf(row.role), { targetEmail: FRANK.email, ticket, password: row.who.password });
      for (const row of REFUSED) {
        await expectRefused(row.role, () => disable(row), 'mfa.disable');
        expect(await credentials(FRANK)).toBe(1);
      }
      const support = ROWS.find((r) => r.role === 'support')!;
      await refusal(disable(support), 'usage', 'ticket_required');
      expect(await credentials(FRANK)).toBe(1);
      expect(await audit({ action: 'mfa.reset', target_email: FRANK.email })).toHaveLength(0);
      expect(await disable(support, 'SUP-4242')).toMatchObject({ kind: 'disabled', email: FRANK.email, via: 'support', ticket: 'SUP-4242' });
      expect(await credentials(FRANK)).toBe(0);
      expect(await audit({ action: 'mfa.reset', target_email: FRANK.email })).toEqual([
        expect.objectContaining({ actor_email: SAM.email, outcome: 'success', ticket: 'SUP-4242', organisation_slug: null }),
      ]);

      secrets[FRANK.email] = await w.enrol(FRANK.email);
      expect(await disable(ROWS.find((r) => r.role === 'orgAdmin')!)).toMatchObject({ kind: 'disabled', via: 'org-admin', organisation: 'globex' });
      expect(await credentials(FRANK)).toBe(0);
      expect(await audit({ action: 'org.disable-mfa', target_email: FRANK.email })).toEqual([
        expect.objectContaining({ actor_email: BOB.email, outcome: 'success', organisation_slug: 'globex', ticket: null }),
      ]);

      secrets[FRANK.email] = await w.enrol(FRANK.email);
      actors[FRANK.email] = await frankSignsIn();
      expect(await disable(ROWS.find((r) => r.role === 'self')!)).toMatchObject({ kind: 'disabled', via: 'self' });
      expect(await credentials(FRANK)).toBe(0);
      expect(await audit({ action: 'mfa.disable', target_email: FRANK.email, outcome: 'success' })).toEqual([
        expect.objectContaining({ actor_email: FRANK.email, organisation_slug: null }),
      ]);
    });
  });
});
