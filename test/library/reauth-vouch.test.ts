/**
 * Issue 22, items 1 and 7: the re-authentication moment carried across requests (a serialisable,
 * tamper-proof, short-lived token), a backend that authenticated the user itself acting for a user
 * id (`actorFor`, recorded as vouched), and the origin of each web request in the audit trail
 * (`forRequest`). Attacked as the library's caller would be, on SQLite and MariaDB.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyBase64 } from '../../src/core/primitives/secretBox.js';
import { openPortalMfa } from '../../src/index.js';
import { describeEachDatabase } from '../support/databases.js';
import { refusal } from '../support/refusal.js';
import { openWorld, type World } from '../support/world.js';

const DAVE = 'dave@acme.example'; // member of acme (acme requires MFA)
const ERIN = 'erin@acme.example'; // member of acme
const FRANK = 'frank@globex.example'; // member of globex
const DEVON = 'devon@example.com'; // no organisation
const SAM = 'sam@support.example'; // support
const BOB = 'bob@globex.example'; // admin of globex

describeEachDatabase('re-authentication tokens, vouching and request origins (issue 22)', (getDb) => {
  let w: World;
  let key: string;
  let mfa: Awaited<ReturnType<typeof openPortalMfa>>;
  const secrets: Record<string, string> = {};
  const open = (keys: string[]) => openPortalMfa({ databaseUrl: getDb().url, keys, clock: () => w.now() });

  beforeAll(async () => {
    w = await openWorld(getDb().url);
    for (const u of [DAVE, ERIN, FRANK]) secrets[u] = await w.enrol(u);
    key = w.deps.keyring()[0]!.key.toString('base64');
    mfa = await open([key]);
  });
  afterAll(async () => {
    await mfa?.close();
    await w?.close();
  });

  describe('the re-authentication token', () => {
    it('carries "password confirmed" to a later request: enrolment spans requests with one password entry', async () => {
      // request 1: the settings page asks for the password
      const first = await mfa.actorFor({ userId: await w.userId(DEVON), vouchedBy: 'portal-session' });
      const grant = await mfa.reauthenticate(first, { password: w.password(DEVON) });
      expect(grant.reauthToken).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(grant.expiresAt - grant.confirmedAt).toBe(300_000);
      expect(grant.reauthToken).not.toContain(w.password(DEVON));
      // request 2 (another actor object, as in a new request): the token stands in for the password
      w.advance(60_000);
      const second = await mfa.actorFor({ userId: await w.userId(DEVON), vouchedBy: 'portal-session' });
      await refusal(mfa.startEnrolment(second, {}), 'missing_input');
      await mfa.reauthenticate(second, { reauthToken: grant.reauthToken });
      const pending = await mfa.startEnrolment(second, {});
      // request 3: confirm, still within the token's lifetime
      w.advance(60_000);
      const third = await mfa.actorFor({ userId: await w.userId(DEVON), vouchedBy: 'portal-session' });
      await mfa.reauthenticate(third, { reauthToken: grant.reauthToken });
      const { totpAt } = await import('../support/independentTotp.js');
      const done = await mfa.confirmEnrolment(third, { code: totpAt(pending.secret, w.step()) });
      expect(done.recoveryCodes).toHaveLength(10);
      secrets[DEVON] = pending.secret;
      w.advance(30_000);
    });

    it('tampered, expired, foreign and ill-typed tokens are refused with one code, audited, and prove nothing', async () => {
      const actor = await w.as(ERIN, secrets[ERIN]);
      w.advance(30_000);
      const { reauthToken } = await mfa.reauthenticate(actor, { password: w.password(ERIN) });
      const later = await mfa.actorFor({ userId: await w.userId(ERIN), vouchedBy: 'portal-session' });
      const [head, payload, mac] = reauthToken.split('.');
      // a payload changed to live longer, with the old MAC
      const body = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
      const longer = Buffer.from(JSON.stringify({ ...body, e: Number(body.e) + 86_400_000 })).toString('base64url');
      await refusal(mfa.reauthenticate(later, { reauthToken: `${head}.${longer}.${mac}` }), 'reauth_invalid');
      // a MAC made with a guessed key
      const forged = createHmac('sha256', Buffer.alloc(32)).update(`${head}.${longer}`).digest('base64url');
      await refusal(mfa.reauthenticate(later, { reauthToken: `${head}.${longer}.${forged}` }), 'reauth_invalid');
      // one flipped character of the MAC, garbage, an empty string
      const flipped = reauthToken.slice(0, -1) + (reauthToken.endsWith('A') ? 'B' : 'A');
      for (const t of [flipped, 'garbage', '', 'a.b.c', `${head}..${mac}`]) await refusal(mfa.reauthenticate(later, { reauthToken: t }), 'reauth_invalid');
      await refusal(mfa.reauthenticate(later, { reauthToken: 42 as unknown as string }), 'invalid_input');
      await refusal(mfa.reauthenticate(later, {} as never), 'invalid_input');
      // ERIN's token does not confirm FRANK
      const frank = await mfa.actorFor({ userId: await w.userId(FRANK), vouchedBy: 'portal-session' });
      await refusal(mfa.reauthenticate(frank, { reauthToken }), 'reauth_invalid');
      // none of these left the actor confirmed
      expect(mfa.needsReauthentication(later)).toBe(true);
      await refusal(mfa.regenerateRecoveryCodes(later, {}), 'missing_input');
      // the real one works, until it expires (reauthSeconds after the password)
      await mfa.reauthenticate(later, { reauthToken });
      expect(mfa.needsReauthentication(later)).toBe(false);
      w.advance(300_001);
      const expired = await mfa.actorFor({ userId: await w.userId(ERIN), vouchedBy: 'portal-session' });
      await refusal(mfa.reauthenticate(expired, { reauthToken }), 'reauth_invalid');
      const audited = await w.audit({ target_email: ERIN, action: 'portal.reauth', outcome: 'refused' });
      expect(audited.length).toBe(8);
    });

    it('a wrong password at re-authentication counts against the budget and gives no token', async () => {
      const actor = await mfa.actorFor({ userId: await w.userId(BOB), vouchedBy: 'portal-session' });
      const e = await refusal(mfa.reauthenticate(actor, { password: 'not-bobs' }), 'wrong_password');
      expect(e.message).toBe('wrong password');
      expect((await w.audit({ target_email: BOB, action: 'portal.reauth', outcome: 'failure' })).length).toBe(1);
    });

    it('survives key rotation: a token made under the old key verifies while the old key is still in the ring', async () => {
      const actor = await mfa.actorFor({ userId: await w.userId(BOB), vouchedBy: 'portal-session' });
      const { reauthToken } = await mfa.reauthenticate(actor, { password: w.password(BOB) });
      const rotated = await open([generateKeyBase64(), key]);
      const stranger = await open([generateKeyBase64()]);
      try {
        const a = await rotated.actorFor({ userId: await w.userId(BOB), vouchedBy: 'portal-session' });
        await rotated.reauthenticate(a, { reauthToken });
        expect(rotated.needsReauthentication(a)).toBe(false);
        const b = await stranger.actorFor({ userId: await w.userId(BOB), vouchedBy: 'portal-session' });
        await refusal(stranger.reauthenticate(b, { reauthToken }), 'reauth_invalid');
      } finally {
        await rotated.close();
        await stranger.close();
      }
    });
  });

  describe('vouching', () => {
    it('an actor the backend vouches for may take second-factor steps; a state change needs an explicit, fresh password check; the audit records who vouched', async () => {
      const id = await w.userId(FRANK);
      const actor = await mfa.actorFor({ userId: id, vouchedBy: 'portal-sso' });
      expect([actor.user.email, actor.via, actor.factor, actor.vouchedBy]).toEqual([FRANK, 'vouched', 'vouched', 'portal-sso']);
      expect((await mfa.status(actor)).state).toBe('active');
      w.advance(30_000);
      await mfa.verifyCode(actor, { proof: { kind: 'code', code: w.code(secrets[FRANK]!) } });
      // no device is trusted on a vouch alone
      await refusal(mfa.trustThisDevice(actor, { label: 'x' }), 'second_factor_required');
      // disable needs the password again: a vouch without passwordCheckedAt is not one
      await refusal(mfa.disableMfa(actor, {}), 'missing_input');
      // a stale vouch is not fresh
      const stale = await mfa.actorFor({ userId: id, vouchedBy: 'portal-sso', passwordCheckedAt: w.now() - 300_001 });
      await refusal(mfa.disableMfa(stale, {}), 'missing_input');
      // a vouch from the future is refused
      await refusal(mfa.actorFor({ userId: id, vouchedBy: 'portal-sso', passwordCheckedAt: w.now() + 3_600_000 }), 'invalid_input');
      const fresh = await mfa.actorFor({ userId: id, vouchedBy: 'portal-sso', passwordCheckedAt: w.now() - 10_000 });
      await mfa.disableMfa(fresh, {});
      const row = (await w.audit({ target_email: FRANK, action: 'mfa.disable', outcome: 'success' })).at(-1)!;
      const request = JSON.parse(String(row.request)) as Record<string, unknown>;
      expect(request).toMatchObject({ vouchedBy: 'portal-sso', passwordCheckedAt: new Date(w.now() - 10_000).toISOString() });
      // the code verified by the vouched actor is recorded as vouched too
      const verified = (await w.audit({ target_email: FRANK, action: 'mfa.verify', outcome: 'success' })).at(-1)!;
      expect(JSON.parse(String(verified.request))).toMatchObject({ vouchedBy: 'portal-sso' });
      // and readAuditTrail shows it
      const support = await w.as(SAM);
      const trail = await mfa.readAuditTrail(support, { userEmail: FRANK, action: 'mfa.disable', limit: 1 });
      expect(trail[0]?.request).toMatchObject({ vouchedBy: 'portal-sso' });
    });

    it('a vouched actor still passes admit: rule 4, an inactive account, a role change', async () => {
      // rule 4: acme requires MFA; a member without it may only enrol, verify, see their status
      const support = await w.as(SAM);
      await mfa.disableMfa(support, { targetEmail: DAVE, ticket: 'SUP-9', password: w.password(SAM) });
      const dave = await mfa.actorFor({ userId: await w.userId(DAVE), vouchedBy: 'portal-sso' });
      expect((await mfa.status(dave)).state).toBe('none');
      await refusal(mfa.listDevices(dave, {}), 'enrolment_required');
      // a role change since the actor was made
      const bob = await mfa.actorFor({ userId: await w.userId(BOB), vouchedBy: 'portal-sso' });
      await w.knex('users').where({ email: BOB }).update({ role: 'support' });
      try {
        expect((await refusal(mfa.listOrganisations(bob, {}), 'forbidden')).code).toBe('forbidden');
      } finally {
        await w.knex('users').where({ email: BOB }).update({ role: 'developer' });
      }
      // unknown ids, and ill-typed or empty vouches
      await refusal(mfa.actorFor({ userId: '999999', vouchedBy: 'portal-sso' }), 'user_not_found');
      for (const bad of [{ userId: await w.userId(BOB), vouchedBy: '' }, { userId: await w.userId(BOB) }, { userId: 7, vouchedBy: 'x' }, undefined]) {
        await refusal(mfa.actorFor(bad as never), 'invalid_input');
      }
      await refusal(mfa.actorFor({ userId: await w.userId(BOB), vouchedBy: 'a\u0000b' }), 'invalid_input');
    });
  });

  describe('the origin of each request', () => {
    it('forRequest records the client address, user agent and request id on each audit row of its calls', async () => {
      const req = mfa.forRequest({ ip: '203.0.113.9', userAgent: 'Mozilla/5.0 (X11)', requestId: 'req-42' });
      await refusal(req.beginSignIn({ email: ERIN, password: 'wrong' }), 'wrong_password');
      const row = (await w.audit({ target_email: ERIN, action: 'portal.login', outcome: 'failure' })).at(-1)!;
      expect(JSON.parse(String(row.request))).toEqual({ ip: '203.0.113.9', userAgent: 'Mozilla/5.0 (X11)', requestId: 'req-42' });
      // another request's calls are not mixed up with it, and the unbound API records none
      await refusal(mfa.forRequest({ ip: '2001:db8::1' }).beginSignIn({ email: ERIN, password: 'wrong-2' }), 'wrong_password');
      await refusal(mfa.beginSignIn({ email: ERIN, password: 'wrong-3' }), 'wrong_password');
      const [a, b] = (await w.audit({ target_email: ERIN, action: 'portal.login', outcome: 'failure' })).slice(-2);
      expect(JSON.parse(String(a!.request))).toEqual({ ip: '2001:db8::1' });
      expect(b!.request).toBeNull();
      // the host and OS user are still the process's
      expect([b!.host, row.host]).toEqual([b!.host, b!.host]);
    });

    it('refuses what is not an origin: a bad address, over-long or ill-typed fields', async () => {
      for (const bad of [{ ip: 'not-an-ip' }, { ip: 42 }, { userAgent: 'x'.repeat(1025) }, { requestId: 'r'.repeat(201) }, { requestId: 'a\nb' }, null]) {
        await refusal(
          Promise.resolve().then(() => mfa.forRequest(bad as never)),
          'invalid_input',
        );
      }
    });
  });
});
