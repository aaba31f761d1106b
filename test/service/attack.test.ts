/**
 * An independent review of the service's newest code, as attacks: each test is one way in that a
 * stolen key, one user's password or plain network access must not open.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createServiceKey } from '../../src/core/usecases/serviceKeys.js';
import { describeEachDatabase } from '../support/databases.js';
import { openServiceWorld, type ServiceWorld } from './harness.js';

const BOB = 'bob@globex.example';
const DEVON = 'devon@example.com';
const FRANK = 'frank@globex.example';

const errorOf = (r: { json(): unknown }) => (r.json() as { error?: { code?: string } }).error?.code;

describeEachDatabase('service attacks', (getDb) => {
  let w: ServiceWorld;
  beforeAll(async () => {
    w = await openServiceWorld(getDb().url, { addressLimit: { attempts: 10_000, windowMs: 60_000 } });
  });
  afterAll(() => w?.close());

  it('attack: a key that may only vouch signs in an organisation admin by userId and uses the session for admin calls — refused, audited', async () => {
    const { key } = await createServiceKey({ ...w.deps }, null, { name: 'shop', scopes: ['vouch'] });
    const bobId = await w.userId(BOB);
    // the key alone (bob has no MFA, globex does not require it) would be bob's session: every scope a session has
    const begin = await w.call('POST', '/v1/sign-in', { token: key, body: { userId: bobId } });
    expect([begin.statusCode, errorOf(begin)]).toEqual([403, 'scope_missing']);
    expect(await w.knex('mfa_sessions').count({ n: '*' }).first()).toMatchObject({ n: 0 });
    const refusals = await w.knex('mfa_audit_events').where({ action: 'service.vouch', outcome: 'refused' }).select('target_email', 'reason');
    expect(refusals).toEqual([{ target_email: BOB, reason: 'service shop may not sign in an organisation admin without the support scope' }]);
    // a member is signed in as before; directly, the key still acts for bob on his own steps
    const member = await w.call('POST', '/v1/sign-in', { token: key, body: { userId: await w.userId(FRANK) } });
    expect(member.statusCode).toBe(201);
    expect((await w.call('GET', '/v1/status', { token: key, headers: { 'x-portal-mfa-act-for': bobId } })).json()).toMatchObject({ email: BOB });
    // a key given the support scope may (the operator chose it), and bob then sees his organisation
    const { key: trusted } = await createServiceKey({ ...w.deps }, null, { name: 'helpdesk', scopes: ['vouch', 'support'] });
    const signedIn = await w.call('POST', '/v1/sign-in', { token: trusted, body: { userId: bobId } });
    expect(signedIn.statusCode).toBe(201);
    const users = await w.call('GET', '/v1/organisations/globex/users?format=ndjson', { token: signedIn.json().token });
    expect(users.statusCode).toBe(200);
  });

  it("attack: one user's re-authentication token or challenge used for another — refused, nothing started", async () => {
    const frank = await w.signIn(FRANK);
    const devon = await w.signIn(DEVON);
    const reauth = await w.call('POST', '/v1/reauth', { token: frank, body: { password: w.password(FRANK) } });
    expect(reauth.statusCode).toBe(200);
    const start = await w.call('POST', '/v1/enrolment', { token: devon, body: { reauthToken: reauth.json().reauthToken } });
    expect([start.statusCode, errorOf(start)]).toEqual([401, 'reauth_invalid']);
    expect(await w.audit({ target_email: DEVON, action: 'portal.reauth', outcome: 'refused' })).toHaveLength(1);
    // a service key acting for devon cannot present frank's token either
    const { key } = await createServiceKey({ ...w.deps }, null, { name: 'portal', scopes: ['vouch'] });
    const vouched = await w.call('POST', '/v1/enrolment', {
      token: key,
      headers: { 'x-portal-mfa-act-for': await w.userId(DEVON) },
      body: { reauthToken: reauth.json().reauthToken },
    });
    expect([vouched.statusCode, errorOf(vouched)]).toEqual([401, 'reauth_invalid']);
    // a session token is no challenge, nor a challenge a session
    const asChallenge = await w.call('POST', '/v1/sign-in/complete', { body: { challenge: frank, proof: { kind: 'code', code: '123456' } } });
    expect([asChallenge.statusCode, errorOf(asChallenge)]).toEqual([401, 'challenge_invalid']);
    expect(await w.knex('mfa_credentials').count({ n: '*' }).first()).toMatchObject({ n: 0 });
  });
});

describeEachDatabase('service attacks on the per-address budget', (getDb) => {
  let w: ServiceWorld;
  beforeAll(async () => {
    w = await openServiceWorld(getDb().url, { addressLimit: { attempts: 3, windowMs: 60_000 }, trustedProxies: ['10.0.0.1'] });
  });
  afterAll(() => w?.close());
  const guess = (ip: string, headers: Record<string, string> = {}, token?: string) =>
    w.call('POST', '/v1/sign-in', { body: { email: FRANK, password: 'wrong-pass' }, ip, headers, ...(token ? { token } : {}) });

  it('attack: a client rotating X-Forwarded-For or X-Portal-Mfa-Client-Ip, directly or through the trusted proxy, is still counted by its own address', async () => {
    for (let i = 0; i < 3; i++)
      expect((await guess('198.51.100.20', { 'x-forwarded-for': `203.0.113.${i}`, 'x-portal-mfa-client-ip': `203.0.113.${i}` })).statusCode).toBe(401);
    expect((await guess('198.51.100.20', { 'x-forwarded-for': '203.0.113.99' })).statusCode).toBe(429);
    // through the proxy: the address the proxy saw (the rightmost), not what the client prepended
    for (let i = 0; i < 3; i++) expect((await guess('10.0.0.1', { 'x-forwarded-for': `203.0.113.${i}, 198.51.100.21` })).statusCode).toBe(401);
    expect((await guess('10.0.0.1', { 'x-forwarded-for': '203.0.113.77, 198.51.100.21' })).statusCode).toBe(429);
    expect((await w.knex('mfa_rate_limits').where('subject', 'like', 'ip:203.0.113.%').count({ n: '*' }).first())?.n).toBe(0);
  });

  it('attack: a key that may only read reports signs users in outside the per-address budget — refused (scope_missing), audited', async () => {
    const { key } = await createServiceKey({ ...w.deps }, null, { name: 'dashboard', scopes: ['reports'] });
    const first = await guess('198.51.100.30', {}, key);
    expect([first.statusCode, errorOf(first)]).toEqual([403, 'scope_missing']);
    const spoofed = await guess('198.51.100.30', { 'x-portal-mfa-client-ip': '203.0.113.50' }, key);
    expect([spoofed.statusCode, errorOf(spoofed)]).toEqual([403, 'scope_missing']);
    expect(await w.audit({ action: 'service.authenticate' })).toEqual(
      expect.arrayContaining([expect.objectContaining({ outcome: 'refused', reason: 'service dashboard lacks the scope vouch' })]),
    );
    // a vouching backend still passes its clients' addresses, and each is counted
    const { key: backend } = await createServiceKey({ ...w.deps }, null, { name: 'portal', scopes: ['vouch'] });
    for (let i = 0; i < 3; i++) expect((await guess('198.51.100.31', { 'x-portal-mfa-client-ip': '192.0.2.5' }, backend)).statusCode).toBe(401);
    expect((await guess('198.51.100.31', { 'x-portal-mfa-client-ip': '192.0.2.5' }, backend)).statusCode).toBe(429);
  });
});
