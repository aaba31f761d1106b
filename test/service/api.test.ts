/**
 * `portal-mfa serve`'s JSON API through fastify.inject, on SQLite and MariaDB: every endpoint with
 * its success, a refusal, bad input, and the rate limits (the core's per-user budgets, the
 * service's per-address budget); the two-step sign-in, re-authentication tokens, service keys and
 * vouching, no enumeration, and logs without secrets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServiceKey, revokeServiceKey } from '../../src/core/usecases/serviceKeys.js';
import { describeEachDatabase } from '../support/databases.js';
import { openServiceWorld, type ServiceWorld } from './harness.js';

const DEVON = 'devon@example.com';
const FRANK = 'frank@globex.example';
const BOB = 'bob@globex.example';
const SAM = 'sam@support.example';
const DAVE = 'dave@acme.example';
const ERIN = 'erin@acme.example';
const HEIDI = 'heidi@partners.example';
const ALICE = 'alice@acme.example';

describeEachDatabase('service API', (getDb) => {
  let w: ServiceWorld;
  let sam: string;
  let devonSecret: string;
  beforeAll(async () => {
    w = await openServiceWorld(getDb().url, { addressLimit: { attempts: 10_000, windowMs: 60_000 } });
    sam = await w.signIn(SAM);
    devonSecret = await w.enrol(DEVON);
  });
  afterAll(() => w?.close());

  // alice (admin of acme, which requires MFA) enrols once, for the tests that act as her
  let aliceSecret: string | undefined;
  const aliceSession = async () => {
    aliceSecret ??= await w.enrol(ALICE);
    return w.signIn(ALICE, aliceSecret);
  };
  const errorOf = (r: { json(): unknown }) => (r.json() as { error: { code: string } }).error.code;

  describe('operations', () => {
    it('answers /healthz, /readyz, /metrics and /openapi.json without credentials', async () => {
      expect((await w.call('GET', '/healthz')).json()).toEqual({ status: 'ok' });
      expect((await w.call('GET', '/readyz')).json()).toEqual({ status: 'ready' });
      const metrics = await w.call('GET', '/metrics');
      expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
      expect(metrics.body).toMatch(/portal_mfa_http_requests_total\{method="GET",route="\/healthz",status="200"\} 1/);
      expect(metrics.body).toMatch(/portal_mfa_outbox_pending \d+/);
      expect(metrics.body).toMatch(/portal_mfa_locked_users \d+/);
      const doc = (await w.call('GET', '/openapi.json')).json() as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/sign-in', '/v1/sign-in/complete', '/v1/status', '/v1/audit']));
    });

    it('sends no-store and nosniff, keeps CORS closed, and answers unknown routes with the error shape', async () => {
      const r = await w.call('OPTIONS', '/v1/status', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
      const s = await w.call('GET', '/v1/status', { token: sam });
      expect(s.headers['cache-control']).toBe('no-store');
      expect(s.headers['x-content-type-options']).toBe('nosniff');
      expect(s.headers['x-request-id']).toBeTruthy();
      const nf = await w.call('GET', '/v1/nothing-here');
      expect(nf.statusCode).toBe(404);
      expect(errorOf(nf)).toBe('route_not_found');
    });

    it('refuses a body over the limit (413) and a body that is not JSON (400/415)', async () => {
      const big = await w.call('POST', '/v1/sign-in', { body: { email: DEVON, password: 'x'.repeat(70_000) } });
      expect(big.statusCode).toBe(413);
      expect(errorOf(big)).toBe('body_too_large');
      const bad = await w.app.inject({ method: 'POST', url: '/v1/sign-in', headers: { 'content-type': 'application/json' }, payload: '{"email":' });
      expect(bad.statusCode).toBe(400);
      const form = await w.app.inject({
        method: 'POST',
        url: '/v1/sign-in',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'email=x',
      });
      expect(form.statusCode).toBe(415);
    });
  });

  describe('sign-in', () => {
    it('signs a user without MFA in with the password alone (201, a session)', async () => {
      const r = await w.call('POST', '/v1/sign-in', { body: { email: FRANK, password: w.password(FRANK) } });
      expect(r.statusCode).toBe(201);
      expect(r.json()).toMatchObject({ status: 'signed-in', user: { email: FRANK }, secondFactor: 'none', restricted: false, device: null });
      const status = await w.call('GET', '/v1/status', { token: r.json().token });
      expect(status.json()).toMatchObject({ email: FRANK, mfa: 'none' });
    });

    it('gives an unknown email and a wrong password the same status and body', async () => {
      const unknown = await w.call('POST', '/v1/sign-in', { body: { email: 'nobody@example.com', password: 'whatever-pass' } });
      const wrong = await w.call('POST', '/v1/sign-in', { body: { email: FRANK, password: 'whatever-pass' } });
      expect(unknown.statusCode).toBe(401);
      expect([wrong.statusCode, wrong.body]).toEqual([unknown.statusCode, unknown.body]);
      expect(errorOf(wrong)).toBe('wrong_password');
    });

    it('refuses bad input before any password check (400)', async () => {
      for (const body of [{ email: DEVON }, { password: 'x' }, { email: DEVON, password: 'x', extra: 1 }, { email: 42, password: 'x' }]) {
        const r = await w.call('POST', '/v1/sign-in', { body });
        expect(r.statusCode, JSON.stringify(body)).toBe(400);
        expect(errorOf(r)).toBe('invalid_input');
      }
    });

    it('two steps with MFA: a challenge, a wrong code (401, counted), the right code with a trusted device, the device next time', async () => {
      const begin = await w.call('POST', '/v1/sign-in', { body: { email: DEVON, password: w.password(DEVON) } });
      expect(begin.statusCode).toBe(200);
      expect(begin.json()).toMatchObject({ status: 'second-factor', factors: expect.arrayContaining(['code', 'recovery-code', 'device']) });
      const { challenge } = begin.json();
      const wrong = await w.call('POST', '/v1/sign-in/complete', { body: { challenge, proof: { kind: 'code', code: '000000' } } });
      expect([wrong.statusCode, errorOf(wrong)]).toEqual([401, 'wrong_code']);
      const done = await w.call('POST', '/v1/sign-in/complete', {
        body: { challenge, proof: { kind: 'code', code: w.code(devonSecret) }, trustDevice: { label: 'laptop' } },
      });
      expect(done.statusCode).toBe(201);
      expect(done.json()).toMatchObject({
        secondFactor: 'code',
        proven: { kind: 'code', driftSteps: 0 },
        device: { id: expect.any(Number), token: expect.any(String) },
      });
      const again = await w.call('POST', '/v1/sign-in/complete', { body: { challenge, proof: { kind: 'code', code: w.code(devonSecret) } } });
      expect([again.statusCode, errorOf(again)]).toEqual([401, 'challenge_invalid']);
      w.advance(30_000);
      const next = (await w.call('POST', '/v1/sign-in', { body: { email: DEVON, password: w.password(DEVON) } })).json();
      const byDevice = await w.call('POST', '/v1/sign-in/complete', {
        body: { challenge: next.challenge, proof: { kind: 'device', token: done.json().device.token } },
      });
      expect(byDevice.json()).toMatchObject({ status: 'signed-in', secondFactor: 'device' });
    });

    it('a user whom rule 4 makes enrol gets a session that can only enrol (status and enrolment yes, anything else 409), then enrols', async () => {
      const plain = await w.call('POST', '/v1/sign-in', { body: { email: HEIDI, password: w.password(HEIDI) } });
      expect(plain.statusCode).toBe(201);
      const token = plain.json().token as string;
      expect((await w.call('GET', '/v1/status', { token })).json()).toMatchObject({ email: HEIDI, mfa: 'none' });
      const devices = await w.call('GET', '/v1/devices', { token });
      expect([devices.statusCode, errorOf(devices)]).toEqual([409, 'enrolment_required']);
      const started = await w.call('POST', '/v1/enrolment', { token, body: { password: w.password(HEIDI) } });
      expect(started.statusCode).toBe(201);
      const confirmed = await w.call('POST', '/v1/enrolment/confirm', { token, body: { code: w.code(started.json().secret), password: w.password(HEIDI) } });
      expect(confirmed.statusCode, confirmed.body.slice(0, 200)).toBeLessThan(300);
      expect((await w.call('GET', '/v1/devices', { token })).statusCode).toBe(200);
    });

    it('lets a user whom rule 4 makes enrol do it within sign-in (202 with the QR, then the code opens the session)', async () => {
      const start = await w.call('POST', '/v1/sign-in', { body: { email: ERIN, password: w.password(ERIN), enrol: true } });
      expect(start.statusCode).toBe(202);
      const { enrolment } = start.json();
      expect(enrolment.qrSvg).toMatch(/^<svg/);
      expect(enrolment.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
      const confirm = await w.call('POST', '/v1/sign-in', { body: { email: ERIN, password: w.password(ERIN), enrolmentCode: w.code(enrolment.secret) } });
      expect(confirm.statusCode).toBe(201);
      expect(confirm.json().recoveryCodes).toHaveLength(10);
    });

    it('signs out (204), after which the token is refused (401)', async () => {
      const token = await w.signIn(FRANK);
      expect((await w.call('DELETE', '/v1/sessions/current', { token })).statusCode).toBe(204);
      const after = await w.call('GET', '/v1/status', { token });
      expect([after.statusCode, errorOf(after)]).toEqual([401, 'unauthenticated']);
    });
  });

  describe("a user's own MFA", () => {
    it('status: own (200), someone else as a developer (403), as support (200), a malformed email (400)', async () => {
      const frank = await w.signIn(FRANK);
      expect((await w.call('GET', '/v1/status', { token: frank })).json()).toMatchObject({ email: FRANK, mfa: 'none', locked: false });
      const other = await w.call('GET', `/v1/status?user=${DEVON}`, { token: frank });
      expect([other.statusCode, errorOf(other)]).toEqual([403, 'forbidden']);
      expect((await w.call('GET', `/v1/status?user=${DEVON}`, { token: sam })).json()).toMatchObject({ email: DEVON, mfa: 'active' });
      expect((await w.call('GET', '/v1/status?user=not-an-email', { token: sam })).statusCode).toBe(400);
    });

    it('enrolment: the password again (400 without it), a secret and QR (201), confirm (200), already active (409)', async () => {
      const token = await w.signIn(BOB);
      const without = await w.call('POST', '/v1/enrolment', { token, body: {} });
      expect([without.statusCode, errorOf(without)]).toEqual([400, 'missing_input']);
      const start = await w.call('POST', '/v1/enrolment', { token, body: { password: w.password(BOB) } });
      expect(start.statusCode).toBe(201);
      const { secret } = start.json();
      const bad = await w.call('POST', '/v1/enrolment/confirm', { token, body: { code: 'abc', password: w.password(BOB) } });
      expect(bad.statusCode).toBe(400);
      // a re-authentication token stands for the password
      const reauth = await w.call('POST', '/v1/reauth', { token, body: { password: w.password(BOB) } });
      expect(reauth.statusCode).toBe(200);
      const confirm = await w.call('POST', '/v1/enrolment/confirm', { token, body: { code: w.code(secret), reauthToken: reauth.json().reauthToken } });
      expect(confirm.statusCode).toBe(200);
      expect(confirm.json()).toMatchObject({ email: BOB, replaced: false, recoveryCodes: expect.any(Array) });
      const again = await w.call('POST', '/v1/enrolment', { token, body: { password: w.password(BOB) } });
      expect([again.statusCode, errorOf(again)]).toEqual([409, 'mfa_already_active']);
      const forged = await w.call('POST', '/v1/recovery-codes', { token, body: { reauthToken: `${reauth.json().reauthToken}x` } });
      expect([forged.statusCode, errorOf(forged)]).toEqual([401, 'reauth_invalid']);
    });

    it('verify: valid (200), replayed (401), malformed (400), locked after five failures (429)', async () => {
      const token = await w.signIn(DEVON, devonSecret);
      const code = w.code(devonSecret);
      expect((await w.call('POST', '/v1/verify', { token, body: { code } })).json()).toMatchObject({ valid: true, email: DEVON, driftSteps: 0 });
      const replay = await w.call('POST', '/v1/verify', { token, body: { code } });
      expect([replay.statusCode, errorOf(replay)]).toEqual([401, 'replayed_code']);
      expect((await w.call('POST', '/v1/verify', { token, body: { code: '12ab56' } })).statusCode).toBe(400);
      expect((await w.call('POST', '/v1/verify', { token, body: {} })).statusCode).toBe(400);
      const frank = await w.signIn(FRANK);
      const noMfa = await w.call('POST', '/v1/verify', { token: frank, body: { code: '123456' } });
      expect([noMfa.statusCode, errorOf(noMfa)]).toEqual([409, 'mfa_not_enabled']);
      // DAVE enrols, then five wrong codes lock him
      const daveSecret = await w.enrol(DAVE);
      const dave = await w.signIn(DAVE, daveSecret);
      for (let i = 0; i < 5; i++) await w.call('POST', '/v1/verify', { token: dave, body: { code: '000000' } });
      const locked = await w.call('POST', '/v1/verify', { token: dave, body: { code: w.code(daveSecret) } });
      expect([locked.statusCode, errorOf(locked)]).toEqual([429, 'locked']);
      expect((await w.call('GET', '/metrics')).body).toMatch(/portal_mfa_refusals_total\{code="locked"\} [1-9]/);
      // support unlocks him: a ticket is needed (400), a developer may not (403), then 200
      const noTicket = await w.call('POST', '/v1/unlock', { token: sam, body: { user: DAVE, password: w.password(SAM) } });
      expect([noTicket.statusCode, errorOf(noTicket)]).toEqual([400, 'ticket_required']);
      const byFrank = await w.call('POST', '/v1/unlock', { token: frank, body: { user: DAVE, password: w.password(FRANK) } });
      expect(byFrank.statusCode).toBe(403);
      const unlocked = await w.call('POST', '/v1/unlock', { token: sam, body: { user: DAVE, ticket: 'T-1', password: w.password(SAM) } });
      expect(unlocked.json()).toMatchObject({ kind: 'unlocked', email: DAVE, lockedUntil: expect.any(String) });
      const notLocked = await w.call('POST', '/v1/unlock', { token: sam, body: { user: DAVE, ticket: 'T-1', password: w.password(SAM) } });
      expect([notLocked.statusCode, errorOf(notLocked)]).toEqual([409, 'not_locked']);
    });

    it('diagnose: the drift (200), malformed (400), at most the budget per hour (429)', async () => {
      w.advance(60_000);
      const token = await w.signIn(DEVON, devonSecret);
      const d = await w.call('POST', '/v1/diagnose', { token, body: { code: w.code(devonSecret, -2) } });
      expect(d.json()).toMatchObject({ email: DEVON, matched: true, driftSteps: -2, withinWindow: false });
      expect((await w.call('POST', '/v1/diagnose', { token, body: {} })).statusCode).toBe(400);
      let last = d;
      for (let i = 0; i < 10; i++) {
        w.advance(30_000);
        last = await w.call('POST', '/v1/diagnose', { token, body: { code: w.code(devonSecret) } });
      }
      expect([last.statusCode, errorOf(last)]).toEqual([429, 'rate_limited']);
    });

    it('trusted devices: trust after a code (200), list (200, this machine marked), revoke with the password (200), without it (400)', async () => {
      w.advance(30_000);
      const token = await w.signIn(DEVON, devonSecret);
      const trusted = await w.call('POST', '/v1/devices/trust', { token, body: { code: w.code(devonSecret), label: 'desk' } });
      expect(trusted.statusCode).toBe(200);
      const device = trusted.json().device;
      expect(device).toMatchObject({ id: expect.any(Number), token: expect.any(String) });
      const list = await w.call('GET', '/v1/devices', { token, headers: { 'x-device-token': device.token } });
      expect(list.json().devices).toEqual(
        expect.arrayContaining([expect.objectContaining({ id: device.id, label: 'desk', state: 'active', thisMachine: true })]),
      );
      const noPassword = await w.call('POST', '/v1/devices/revoke', { token, body: { ids: [device.id] } });
      expect([noPassword.statusCode, errorOf(noPassword)]).toEqual([400, 'missing_input']);
      const both = await w.call('POST', '/v1/devices/revoke', { token, body: { ids: [device.id], all: true, password: w.password(DEVON) } });
      expect(both.statusCode).toBe(400);
      const unknown = await w.call('POST', '/v1/devices/revoke', { token, body: { ids: [999999], password: w.password(DEVON) } });
      expect(unknown.statusCode).toBe(404);
      const revoked = await w.call('POST', '/v1/devices/revoke', { token, body: { ids: [device.id], password: w.password(DEVON) } });
      expect(revoked.json()).toMatchObject({ kind: 'revoked', revoked: 1 });
      const frank = await w.signIn(FRANK);
      const trustOther = await w.call('POST', '/v1/verify', { token: frank, body: { user: DEVON, code: '123456', trustDevice: { label: 'x' } } });
      expect(trustOther.statusCode).toBe(403);
    });

    it('recovery codes: ten new ones with the password (201), a wrong password (401)', async () => {
      w.advance(30_000);
      const token = await w.signIn(DEVON, devonSecret);
      const wrong = await w.call('POST', '/v1/recovery-codes', { token, body: { password: 'not-the-password' } });
      expect([wrong.statusCode, errorOf(wrong)]).toEqual([401, 'wrong_password']);
      const r = await w.call('POST', '/v1/recovery-codes', { token, body: { password: w.password(DEVON) } });
      expect(r.statusCode).toBe(201);
      expect(r.json().codes).toHaveLength(10);
    });

    it('replacement: the old device proven (a code), a pending secret (201); without MFA (409)', async () => {
      w.advance(30_000);
      const token = await w.signIn(DEVON, devonSecret);
      const r = await w.call('POST', '/v1/replacement', { token, body: { password: w.password(DEVON), oldDeviceCode: w.code(devonSecret, 1) } });
      expect(r.statusCode).toBe(201);
      expect(r.json()).toMatchObject({ replacing: true, qrSvg: expect.stringMatching(/^<svg/) });
      const frank = await w.signIn(FRANK);
      const none = await w.call('POST', '/v1/replacement', { token: frank, body: { password: w.password(FRANK) } });
      expect([none.statusCode, errorOf(none)]).toEqual([409, 'mfa_not_enabled']);
    });
  });

  describe('support and administration', () => {
    it('access codes: issue (201, shown once), revoke (200), a developer refused (403), out-of-range minutes (400)', async () => {
      const issued = await w.call('POST', '/v1/access-codes', { token: sam, body: { user: FRANK, ticket: 'T-2', password: w.password(SAM) } });
      expect(issued.statusCode).toBe(201);
      expect(issued.json()).toMatchObject({ kind: 'issued', email: FRANK, code: expect.any(String), uses: 1 });
      expect(
        (await w.call('POST', '/v1/access-codes', { token: sam, body: { user: FRANK, ticket: 'T-2', minutes: 0, password: w.password(SAM) } })).statusCode,
      ).toBe(400);
      const frank = await w.signIn(FRANK);
      expect((await w.call('POST', '/v1/access-codes', { token: frank, body: { user: DEVON, password: w.password(FRANK) } })).statusCode).toBe(403);
      const revoked = await w.call('POST', '/v1/access-codes/revoke', { token: sam, body: { user: FRANK, ticket: 'T-2', password: w.password(SAM) } });
      expect(revoked.json()).toEqual({ kind: 'revoked', email: FRANK });
    });

    it('disable: a support reset with a ticket (200), a dry run (200), nothing to disable (409)', async () => {
      const dry = await w.call('POST', '/v1/disable', { token: sam, body: { user: DAVE, ticket: 'T-3', dryRun: true } });
      expect(dry.json()).toMatchObject({ kind: 'dry-run', email: DAVE, wouldRemove: { mfa: 'active' } });
      const done = await w.call('POST', '/v1/disable', { token: sam, body: { user: DAVE, ticket: 'T-3', password: w.password(SAM) } });
      expect(done.json()).toMatchObject({ kind: 'disabled', email: DAVE, via: 'support', removed: { credentials: 1 } });
      const again = await w.call('POST', '/v1/disable', { token: sam, body: { user: DAVE, ticket: 'T-3', password: w.password(SAM) } });
      expect([again.statusCode, errorOf(again)]).toEqual([409, 'mfa_not_enabled']);
    });

    it('bulk disable: one result per user (200); an organisation the caller does not administer (403)', async () => {
      const bulk = await w.call('POST', '/v1/organisations/acme/disable-mfa', {
        token: sam,
        body: { users: [ERIN, 'nobody@example.com', 'not an email'], ticket: 'T-4', password: w.password(SAM) },
      });
      expect(bulk.statusCode).toBe(200);
      expect(bulk.json().results.map((r: { outcome: string }) => r.outcome)).toEqual(['disabled', 'not-found', 'invalid']);
      const frank = await w.signIn(FRANK);
      const refused = await w.call('POST', '/v1/organisations/acme/disable-mfa', { token: frank, body: { users: [ERIN], password: w.password(FRANK) } });
      expect(refused.statusCode).toBe(403);
      expect((await w.call('POST', '/v1/organisations/acme/disable-mfa', { token: sam, body: { users: [] } })).statusCode).toBe(400);
    });

    it("remind: the organisation's admin queues a reminder per member without MFA (200, dry run queues none); support, strangers and an unknown organisation 403 alike", async () => {
      const alice = await aliceSession();
      const outbox = () => w.knex('mfa_notifications').count({ n: '*' }).first();
      const before = await outbox();
      const dry = await w.call('POST', '/v1/organisations/acme/remind', { token: alice, body: { dryRun: true } });
      expect(dry.statusCode).toBe(200);
      expect(dry.json()).toMatchObject({ kind: 'dry-run', organisation: 'acme', members: expect.arrayContaining([expect.objectContaining({ email: DAVE })]) });
      expect(await outbox()).toEqual(before);
      const done = await w.call('POST', '/v1/organisations/acme/remind', { token: alice, body: {} });
      expect(done.json()).toMatchObject({ kind: 'queued', organisation: 'acme' });
      expect(Number((await outbox())!.n)).toBe(Number(before!.n) + done.json().members.length);
      expect((await w.call('POST', '/v1/organisations/acme/remind', { token: sam, body: {} })).statusCode).toBe(403);
      expect((await w.call('POST', '/v1/organisations/acme/remind', { token: await w.signIn(FRANK), body: {} })).statusCode).toBe(403);
      expect((await w.call('POST', '/v1/organisations/no-such-org/remind', { token: alice, body: {} })).statusCode).toBe(403);
      expect((await w.call('POST', '/v1/organisations/acme/remind', { token: alice, body: { dryRun: 'yes' } })).statusCode).toBe(400);
    });

    it("policy change: the organisation's admin (dry run changes nothing; 200 with the counts); support and strangers 403; nothing to change or a bad value 400", async () => {
      const alice = await aliceSession();
      const url = '/v1/organisations/acme/policy';
      const dry = await w.call('PUT', url, { token: alice, body: { graceDays: 7, dryRun: true } });
      expect([dry.statusCode, dry.json()]).toEqual([
        200,
        expect.objectContaining({ kind: 'dry-run', organisation: 'acme', after: expect.objectContaining({ graceDays: 7 }) }),
      ]);
      expect((await w.call('GET', url, { token: alice })).json()).toMatchObject({ graceDays: null });
      const done = await w.call('PUT', url, { token: alice, body: { graceDays: 7, password: w.password(ALICE) } });
      expect(done.json()).toMatchObject({
        kind: 'changed',
        before: { graceDays: null },
        after: { mfaRequired: true, graceDays: 7 },
        noticesQueued: expect.any(Number),
      });
      expect((await w.call('GET', url, { token: alice })).json()).toMatchObject({ graceDays: 7 });
      const back = await w.call('PUT', url, { token: alice, body: { graceDays: null, password: w.password(ALICE) } });
      expect(back.json()).toMatchObject({ kind: 'changed', after: { graceDays: null } });
      expect((await w.call('PUT', url, { token: sam, body: { deviceTrust: false, dryRun: true } })).statusCode).toBe(403);
      expect((await w.call('PUT', url, { token: await w.signIn(FRANK), body: { deviceTrust: false, dryRun: true } })).statusCode).toBe(403);
      expect((await w.call('PUT', url, { token: alice, body: { dryRun: true } })).statusCode).toBe(400);
      expect((await w.call('PUT', url, { token: alice, body: { graceDays: 0, dryRun: true } })).statusCode).toBe(400);
    });

    it("policies: an organisation's (200; 403 for a stranger; 404 unknown) and the portal's (support 200, others 403)", async () => {
      expect((await w.call('GET', '/v1/organisations/acme/policy', { token: sam })).json()).toMatchObject({ organisation: 'acme', mfaRequired: true });
      const frank = await w.signIn(FRANK);
      expect((await w.call('GET', '/v1/organisations/acme/policy', { token: frank })).statusCode).toBe(403);
      expect((await w.call('GET', '/v1/organisations/no-such-org/policy', { token: sam })).statusCode).toBe(404);
      expect((await w.call('GET', '/v1/policy', { token: sam })).json()).toMatchObject({ mfaRequired: false, limits: { maxFailures: 5 } });
      expect((await w.call('GET', '/v1/policy', { token: frank })).statusCode).toBe(403);
    });
  });

  describe('reports', () => {
    it('organisations (200), members as NDJSON and CSV (streamed), users (support only), bad filters (400)', async () => {
      expect((await w.call('GET', '/v1/organisations', { token: sam })).json().organisations.map((o: { slug: string }) => o.slug)).toEqual(['acme', 'globex']);
      const nd = await w.call('GET', '/v1/organisations/acme/users', { token: sam });
      expect(nd.headers['content-type']).toMatch(/application\/x-ndjson/);
      const members = nd.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(members.map((m: { email: string }) => m.email)).toEqual(expect.arrayContaining([DAVE, ERIN]));
      const csv = await w.call('GET', '/v1/organisations/acme/users?format=csv&mfa=off', { token: sam });
      expect(csv.body.split('\r\n')[0]).toBe('email,name,role,mfa,enrolledAt,lastUsedAt,trustedDevices,deadline,active');
      expect((await w.call('GET', '/v1/organisations/acme/users?mfa=maybe', { token: sam })).statusCode).toBe(400);
      const users = await w.call('GET', '/v1/users?format=ndjson', { token: sam });
      expect(
        users.body
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).email),
      ).toEqual(expect.arrayContaining([DEVON, SAM, FRANK]));
      const frank = await w.signIn(FRANK);
      expect((await w.call('GET', '/v1/users', { token: frank })).statusCode).toBe(403);
      expect((await w.call('GET', '/v1/organisations/acme/users', { token: frank })).statusCode).toBe(403);
    });

    it('audit: JSON with request origins, CSV, a developer sees only their own, a bad action (400)', async () => {
      const r = await w.call('GET', '/v1/audit?limit=500', { token: sam, headers: { 'user-agent': 'api-test/1' } });
      const events = r.json().events as { action: string; actor: string | null; request: Record<string, unknown> | null }[];
      expect(events.find((e) => e.action === 'mfa.unlock')?.request).toMatchObject({ ip: '127.0.0.1', requestId: expect.any(String) });
      const csv = await w.call('GET', '/v1/audit?format=csv&limit=5', { token: sam });
      expect(csv.body.split('\r\n')[0]).toMatch(/^id,time,actor/);
      const frank = await w.signIn(FRANK);
      const own = (await w.call('GET', '/v1/audit?limit=500', { token: frank })).json().events as { actor: string | null; target: string | null }[];
      expect(own.every((e) => e.actor === FRANK || e.target === FRANK)).toBe(true);
      expect((await w.call('GET', '/v1/audit?action=DROP%20TABLE', { token: sam })).statusCode).toBe(400);
    });
  });

  describe('service keys', () => {
    it('a key with the scope acts for a user it vouches for (audited as vouched); without the scope 403; revoked 401', async () => {
      const { key } = await createServiceKey({ ...w.deps }, null, { name: 'laravel', scopes: ['vouch'] });
      const devonId = await w.userId(DEVON);
      const status = await w.call('GET', '/v1/status', { token: key, headers: { 'x-portal-mfa-act-for': devonId, 'x-portal-mfa-client-ip': '203.0.113.9' } });
      expect(status.json()).toMatchObject({ email: DEVON, mfa: 'active' });
      const noActFor = await w.call('GET', '/v1/status', { token: key });
      expect(noActFor.statusCode).toBe(400);
      const reports = await w.call('GET', '/v1/users', { token: key, headers: { 'x-portal-mfa-act-for': await w.userId(SAM) } });
      expect([reports.statusCode, errorOf(reports)]).toEqual([403, 'scope_missing']);
      // the backend checked the password itself: it takes the first step, the user the second
      const begin = await w.call('POST', '/v1/sign-in', { token: key, body: { userId: devonId }, headers: { 'x-portal-mfa-client-ip': '203.0.113.9' } });
      expect(begin.json()).toMatchObject({ status: 'second-factor' });
      const row = (await w.knex('mfa_audit_events').where({ action: 'portal.login', outcome: 'challenge' }).orderBy('id', 'desc').first()) as {
        request: string;
      };
      expect(JSON.parse(row.request)).toMatchObject({ vouchedBy: 'service:laravel', ip: '203.0.113.9' });
      // a wrong code for the vouched user is audited as vouched too
      const dev = await w.call('POST', '/v1/verify', { token: key, body: { code: '000000' }, headers: { 'x-portal-mfa-act-for': devonId } });
      expect(dev.statusCode).toBe(401);
      const failed = (await w.knex('mfa_audit_events').where({ action: 'mfa.verify', outcome: 'failure' }).orderBy('id', 'desc').first()) as {
        request: string;
      };
      expect(JSON.parse(failed.request)).toMatchObject({ vouchedBy: 'service:laravel', ip: '127.0.0.1' });
      await revokeServiceKey({ ...w.deps }, null, { name: 'laravel' });
      const revoked = await w.call('GET', '/v1/status', { token: key, headers: { 'x-portal-mfa-act-for': devonId } });
      expect([revoked.statusCode, errorOf(revoked)]).toEqual([401, 'unauthenticated']);
      const anonymous = await w.call('POST', '/v1/sign-in', { body: { userId: devonId } });
      expect(anonymous.statusCode).toBe(401);
    });
    it('attack: a key that may only vouch cannot act for a support account — no support reset, no sign-in as support; refusals audited', async () => {
      const { key } = await createServiceKey({ ...w.deps }, null, { name: 'shop', scopes: ['vouch'] });
      const samId = await w.userId(SAM);
      const now = new Date(w.now()).toISOString();
      // with the backend's word for a fresh password, a support reset of another user would follow
      const reset = await w.call('POST', '/v1/disable', {
        token: key,
        body: { user: DEVON, ticket: 'SUP-666' },
        headers: { 'x-portal-mfa-act-for': samId, 'x-portal-mfa-password-checked-at': now },
      });
      expect([reset.statusCode, errorOf(reset)]).toEqual([403, 'scope_missing']);
      expect((await w.call('GET', '/v1/status', { token: key, headers: { 'x-portal-mfa-act-for': await w.userId(DEVON) } })).json()).toMatchObject({
        mfa: 'active',
      });
      const begin = await w.call('POST', '/v1/sign-in', { token: key, body: { userId: samId, passwordCheckedAt: now } });
      expect([begin.statusCode, errorOf(begin)]).toEqual([403, 'scope_missing']);
      const refusals = await w.knex('mfa_audit_events').where({ action: 'service.vouch', outcome: 'refused' }).select('target_email', 'reason');
      expect(refusals).toEqual([
        { target_email: SAM, reason: 'service shop may not act for a support account without the support scope' },
        { target_email: SAM, reason: 'service shop may not act for a support account without the support scope' },
      ]);
      // a key given the support scope too may (the operator chose it)
      const { key: trusted } = await createServiceKey({ ...w.deps }, null, { name: 'helpdesk', scopes: ['vouch', 'support'] });
      const status = await w.call('GET', '/v1/status', { token: trusted, headers: { 'x-portal-mfa-act-for': samId } });
      expect(status.json()).toMatchObject({ email: SAM });
    });
  });

  it('never logs a password, code, token or Authorization header', () => {
    const text = w.log.join('\n');
    expect(text).toContain('"url":"/v1/sign-in"');
    for (const secret of [w.password(DEVON), w.password(SAM), devonSecret, sam, 'Bearer ', 'pmfa_sk_']) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/"(password|code|token|authorization)":/i);
  });
});

describeEachDatabase('service per-address budget', (getDb) => {
  let w: ServiceWorld;
  beforeAll(async () => {
    w = await openServiceWorld(getDb().url, { addressLimit: { attempts: 3, windowMs: 60_000 } });
  });
  afterAll(() => w?.close());

  it('counts sign-in attempts per address in the database: the fourth gets 429 with Retry-After, audited once; another address is not affected', async () => {
    for (let i = 0; i < 3; i++)
      expect((await w.call('POST', '/v1/sign-in', { body: { email: FRANK, password: 'wrong-pass' }, ip: '198.51.100.7' })).statusCode).toBe(401);
    const limited = await w.call('POST', '/v1/sign-in', { body: { email: FRANK, password: w.password(FRANK) }, ip: '198.51.100.7' });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('too_many_requests');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await w.call('POST', '/v1/sign-in', { body: { email: FRANK, password: w.password(FRANK) }, ip: '198.51.100.7' });
    expect(await w.audit({ action: 'service.rate-limit' })).toHaveLength(1);
    expect((await w.knex('mfa_rate_limits').where('subject', 'ip:198.51.100.7').first()).used).toBe(3);
    expect((await w.call('POST', '/v1/sign-in', { body: { email: FRANK, password: w.password(FRANK) }, ip: '198.51.100.8' })).statusCode).toBe(201);
    // the window passes
    w.advance(61_000);
    expect((await w.call('POST', '/v1/sign-in', { body: { email: FRANK, password: w.password(FRANK) }, ip: '198.51.100.7' })).statusCode).toBe(201);
  });

  it('counts failed authentications on every authenticated endpoint (401, then 429); a valid session is not limited', async () => {
    const routes = w.app
      .printRoutes({ commonPrefix: false })
      .split('\n')
      .filter((l) => l.includes('/v1/'));
    expect(routes.length).toBeGreaterThan(0);
    const endpoints: [string, string][] = [
      ['GET', '/v1/status'],
      ['POST', '/v1/enrolment'],
      ['POST', '/v1/enrolment/confirm'],
      ['POST', '/v1/replacement'],
      ['POST', '/v1/verify'],
      ['POST', '/v1/diagnose'],
      ['POST', '/v1/devices/trust'],
      ['GET', '/v1/devices'],
      ['POST', '/v1/devices/revoke'],
      ['POST', '/v1/disable'],
      ['POST', '/v1/recovery-codes'],
      ['POST', '/v1/reauth'],
      ['POST', '/v1/unlock'],
      ['POST', '/v1/access-codes'],
      ['POST', '/v1/access-codes/revoke'],
      ['POST', '/v1/organisations/acme/disable-mfa'],
      ['POST', '/v1/organisations/acme/remind'],
      ['PUT', '/v1/organisations/acme/policy'],
      ['GET', '/v1/organisations/acme/policy'],
      ['GET', '/v1/policy'],
      ['GET', '/v1/organisations'],
      ['GET', '/v1/organisations/acme/users'],
      ['GET', '/v1/users'],
      ['GET', '/v1/audit'],
      // last: it ends the session
      ['DELETE', '/v1/sessions/current'],
    ];
    const token = await w.signIn(SAM);
    for (const [i, [method, url]] of endpoints.entries()) {
      const ip = `192.0.2.${i + 1}`;
      const statuses: number[] = [];
      for (let n = 0; n < 4; n++)
        statuses.push((await w.call(method, url, { token: 'not-a-session', ip, body: method === 'GET' ? undefined : {} })).statusCode);
      expect(statuses, `${method} ${url}`).toEqual([401, 401, 401, 429]);
      // the same address with a valid session still gets through to the handler
      const ok = await w.call(method, url, { token, ip, body: method === 'GET' ? undefined : {} });
      expect(ok.statusCode, `${method} ${url} with a session: ${ok.body}`).not.toBe(429);
    }
  });
});
