/**
 * Issue 22, item 1: the two-page login of a web backend, attacked as the library's caller would be.
 * Step one (`beginSignIn`) checks the password — or takes the backend's vouching — and returns a
 * signed-in actor or a short-lived, single-use challenge; step two (`completeSignIn`) completes it
 * with a code, recovery code, access code or trusted-device token. The library is opened over the
 * world's database (SQLite and MariaDB) with the world's clock, as a backend would open it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MAPPING } from '../../src/db/identity/presets.js';
import { openPortalMfa, type PortalMfaError } from '../../src/index.js';
import { describeEachDatabase } from '../support/databases.js';
import { refusal } from '../support/refusal.js';
import { openWorld, type World } from '../support/world.js';

const DAVE = 'dave@acme.example'; // member of acme (acme requires MFA)
const ERIN = 'erin@acme.example'; // member of acme
const FRANK = 'frank@globex.example'; // member of globex
const HEIDI = 'heidi@partners.example'; // member of acme and globex
const DEVON = 'devon@example.com'; // in no organisation, no MFA
const SAM = 'sam@support.example'; // support

describeEachDatabase('two-step sign-in (issue 22)', (getDb) => {
  let w: World;
  let mfa: Awaited<ReturnType<typeof openPortalMfa>>;
  const secrets: Record<string, string> = {};
  const failuresOf = async (email: string) =>
    Number(
      (
        await w
          .knex('mfa_credentials')
          .where({ user_id: await w.userId(email), status: 'active' })
          .first('consecutive_failures')
      ).consecutive_failures,
    );
  /** row counts of every table of portal-mfa's (what a call wrote) */
  const counts = async () => {
    const out: Record<string, number> = {};
    for (const t of Object.values(w.db.store.t)) {
      if (t.includes('knex_migrations')) continue;
      out[t] = Number((await w.knex(t).count({ n: '*' }).first())?.n ?? 0);
    }
    return out;
  };
  const challengeFor = async (email: string) => {
    const step = await mfa.beginSignIn({ email, password: w.password(email), action: 'portal.login' });
    if (step.status !== 'second-factor') throw new Error(`expected a challenge for ${email}, got ${step.status}`);
    return step;
  };

  beforeAll(async () => {
    w = await openWorld(getDb().url);
    for (const u of [DAVE, ERIN, FRANK, HEIDI]) secrets[u] = await w.enrol(u);
    mfa = await openPortalMfa({ databaseUrl: getDb().url, keys: [w.deps.keyring()[0]!.key.toString('base64')], clock: () => w.now() });
  });
  afterAll(async () => {
    await mfa?.close();
    await w?.close();
  });

  describe('the two pages', () => {
    it('a user without MFA is signed in by the password alone; with MFA the password gives a challenge, never an actor', async () => {
      const plain = await mfa.beginSignIn({ email: DEVON, password: w.password(DEVON) });
      expect(plain.status).toBe('signed-in');
      if (plain.status !== 'signed-in') return;
      expect([plain.actor.user.email, plain.actor.factor, plain.actor.via]).toEqual([DEVON, 'none', 'password']);

      const step = await challengeFor(DAVE);
      expect(step).not.toHaveProperty('actor');
      expect(typeof step.challenge).toBe('string');
      // 256 random bits, base64url; only its hash is stored
      expect(Buffer.from(step.challenge, 'base64url').length).toBeGreaterThanOrEqual(32);
      expect(step.expiresAt).toBeGreaterThan(w.now());
      expect(step.factors).toEqual(['code', 'recovery-code', 'access-code', 'device']);
      const rows = await w.knex('mfa_challenges').select('*');
      expect(JSON.stringify(rows)).not.toContain(step.challenge);
      expect(JSON.stringify(rows)).not.toContain(w.password(DAVE));
      // the challenge is serialisable: it survives JSON (a cookie, a hidden field) and another process' request
      const carried = JSON.parse(JSON.stringify(step)) as typeof step;
      w.advance(30_000);
      const done = await mfa.completeSignIn({ challenge: carried.challenge, proof: { kind: 'code', code: w.code(secrets[DAVE]!) } });
      expect([done.actor.user.email, done.actor.factor, done.device]).toEqual([DAVE, 'code', null]);
      // a full actor: status and a session work
      expect((await mfa.status(done.actor)).state).toBe('active');
      const session = await mfa.openSession(done.actor);
      expect((await mfa.resumeSession(session.token))?.user.email).toBe(DAVE);
      // the audit trail reads: password accepted (challenge), then the code
      const trail = (await w.audit({ target_email: DAVE, action: 'portal.login' })).map((r) => r.outcome);
      expect(trail.slice(-2)).toEqual(['challenge', 'success']);
    });

    it('a recovery code and a temporary access code complete a challenge too; an access code restricts the actor to enrol or replace', async () => {
      const actor = await w.as(ERIN, secrets[ERIN]);
      w.advance(30_000);
      const { codes } = await mfa.regenerateRecoveryCodes(actor, { password: w.password(ERIN) });
      const step = await challengeFor(ERIN);
      const done = await mfa.completeSignIn({ challenge: step.challenge, proof: { kind: 'recovery-code', code: codes[0]! } });
      expect([done.actor.factor, done.actor.proven?.recoveryCodesLeft]).toEqual(['recovery-code', 9]);

      const support = await w.as(SAM);
      const issued = await mfa.issueAccessCode(support, { targetEmail: ERIN, ticket: 'SUP-22', password: w.password(SAM) });
      const again = await challengeFor(ERIN);
      const viaAccess = await mfa.completeSignIn({ challenge: again.challenge, proof: { kind: 'access-code', code: issued.code } });
      expect([viaAccess.actor.factor, viaAccess.actor.restriction]).toEqual(['access-code', 'access-code']);
      await refusal(mfa.listDevices(viaAccess.actor, {}), 'enrolment_required');
    });

    it('the trusted-device cookie: a completion may trust the device (token returned once); a later challenge is completed by the token', async () => {
      const step = await challengeFor(FRANK);
      w.advance(30_000);
      const done = await mfa.completeSignIn({
        challenge: step.challenge,
        proof: { kind: 'code', code: w.code(secrets[FRANK]!) },
        trustDevice: { label: 'Firefox on a laptop' },
      });
      expect(done.device?.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(JSON.stringify(await w.knex('mfa_trusted_devices').select('*'))).not.toContain(done.device!.token);
      // once per sign-in: the actor cannot trust a second device
      await refusal(mfa.trustThisDevice(done.actor, { label: 'again' }), 'second_factor_required');

      const next = await challengeFor(FRANK);
      const byDevice = await mfa.completeSignIn({ challenge: next.challenge, proof: { kind: 'device', token: done.device!.token } });
      expect(byDevice.actor.factor).toBe('device');

      // the device of FRANK does not stand in for HEIDI: refused, audited, the challenge still usable with HEIDI's code
      const heidi = await challengeFor(HEIDI);
      const refused = await refusal(
        mfa.completeSignIn({ challenge: heidi.challenge, proof: { kind: 'device', token: done.device!.token } }),
        'device_not_trusted',
      );
      expect(refused.kind).toBe('rejected');
      expect((await w.audit({ target_email: HEIDI, outcome: 'refused' })).map((r) => r.reason)).toContain('trusted-device token other-user');
      w.advance(30_000);
      expect((await mfa.completeSignIn({ challenge: heidi.challenge, proof: { kind: 'code', code: w.code(secrets[HEIDI]!) } })).actor.factor).toBe('code');

      // trusting needs a code or recovery code: not a device token, refused before anything is used
      const third = await challengeFor(FRANK);
      await refusal(
        mfa.completeSignIn({ challenge: third.challenge, proof: { kind: 'device', token: done.device!.token }, trustDevice: { label: 'x' } }),
        'invalid_input',
      );
      expect((await mfa.completeSignIn({ challenge: third.challenge, proof: { kind: 'device', token: done.device!.token } })).actor.factor).toBe('device');
    });

    it('the backend vouches for step one (its own login, SSO): the challenge is completed by a code, and the audit says who vouched', async () => {
      const step = await mfa.beginSignIn({ userId: await w.userId(DAVE), vouchedBy: 'portal-sso' });
      expect(step.status).toBe('second-factor');
      if (step.status !== 'second-factor') return;
      w.advance(30_000);
      const done = await mfa.completeSignIn({ challenge: step.challenge, proof: { kind: 'code', code: w.code(secrets[DAVE]!) } });
      expect([done.actor.via, done.actor.vouchedBy]).toEqual(['vouched', 'portal-sso']);
      // no password was checked, so no sensitive action without another proof
      expect(mfa.needsReauthentication(done.actor)).toBe(true);
      const rows = await w.audit({ target_email: DAVE, action: 'portal.login' });
      const last = rows.slice(-2);
      expect(last.map((r) => r.outcome)).toEqual(['challenge', 'success']);
      for (const r of last) expect(JSON.parse(String(r.request))).toMatchObject({ vouchedBy: 'portal-sso' });
    });
  });

  describe('attacks on the challenge', () => {
    it('replay: a completed challenge is used up, also with a fresh valid code', async () => {
      const step = await challengeFor(DAVE);
      w.advance(30_000);
      await mfa.completeSignIn({ challenge: step.challenge, proof: { kind: 'code', code: w.code(secrets[DAVE]!) } });
      w.advance(30_000);
      const e = await refusal(mfa.completeSignIn({ challenge: step.challenge, proof: { kind: 'code', code: w.code(secrets[DAVE]!) } }), 'challenge_invalid');
      expect(e.kind).toBe('rejected');
      expect((await w.audit({ action: 'signin.challenge', outcome: 'refused' })).length).toBeGreaterThan(0);
    });

    it("user A's challenge completed with B's code: a wrong code for A, counted against A (not B), and the challenge is not used up", async () => {
      const step = await challengeFor(DAVE);
      w.advance(30_000);
      const [a, b] = [await failuresOf(DAVE), await failuresOf(ERIN)];
      const bCode = w.code(secrets[ERIN]!);
      if (bCode === w.code(secrets[DAVE]!)) return; // one in a million: the two secrets agree this step
      await refusal(mfa.completeSignIn({ challenge: step.challenge, proof: { kind: 'code', code: bCode } }), 'wrong_code');
      expect([await failuresOf(DAVE), await failuresOf(ERIN)]).toEqual([a + 1, b]);
      // a wrong code does not consume the challenge
      const done = await mfa.completeSignIn({ challenge: step.challenge, proof: { kind: 'code', code: w.code(secrets[DAVE]!) } });
      expect(done.actor.user.email).toBe(DAVE);
      expect(await failuresOf(DAVE)).toBe(0);
    });

    it('expired, tampered, unknown and ill-typed challenges get one stable code, and change nothing but the audit', async () => {
      const step = await challengeFor(HEIDI);
      const flipped = (step.challenge[0] === 'A' ? 'B' : 'A') + step.challenge.slice(1);
      await refusal(mfa.completeSignIn({ challenge: flipped, proof: { kind: 'code', code: '123456' } }), 'challenge_invalid');
      await refusal(mfa.completeSignIn({ challenge: 'x'.repeat(43), proof: { kind: 'code', code: '123456' } }), 'challenge_invalid');
      await refusal(mfa.completeSignIn({ challenge: '', proof: { kind: 'code', code: '123456' } }), 'challenge_invalid');
      await refusal(mfa.completeSignIn({ challenge: 42 as unknown as string, proof: { kind: 'code', code: '123456' } }), 'invalid_input');
      await refusal(mfa.completeSignIn({ challenge: step.challenge, proof: { kind: 'sms', code: '1' } as never }), 'invalid_input');
      // nothing was counted against HEIDI by the refusals
      expect(await failuresOf(HEIDI)).toBe(0);
      // expired: five minutes after step one
      w.advance(5 * 60_000 + 1);
      const before = await failuresOf(HEIDI);
      await refusal(mfa.completeSignIn({ challenge: step.challenge, proof: { kind: 'code', code: w.code(secrets[HEIDI]!) } }), 'challenge_invalid');
      expect(await failuresOf(HEIDI)).toBe(before);
    });

    it('parallel completions of one challenge: exactly one wins, whatever each presents; the losers use nothing up', async () => {
      const actor = await w.as(HEIDI, secrets[HEIDI]);
      w.advance(30_000);
      const { codes } = await mfa.regenerateRecoveryCodes(actor, { password: w.password(HEIDI) });
      const step = await challengeFor(HEIDI);
      w.advance(30_000);
      const code = w.code(secrets[HEIDI]!);
      const attempts = [
        ...Array.from({ length: 6 }, () => ({ kind: 'code' as const, code })),
        ...codes.slice(0, 4).map((c) => ({ kind: 'recovery-code' as const, code: c })),
      ];
      const results = await Promise.allSettled(attempts.map((proof) => mfa.completeSignIn({ challenge: step.challenge, proof })));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(['challenge_invalid', 'replayed_code']).toContain((r.reason as PortalMfaError).code);
      }
      // at most the winner's recovery code is used
      const used = await w
        .knex('mfa_recovery_codes')
        .where({ user_id: await w.userId(HEIDI) })
        .whereNotNull('used_at')
        .count({ n: '*' })
        .first();
      expect(Number(used?.n)).toBeLessThanOrEqual(1);
      // and the challenge is spent
      w.advance(30_000);
      await refusal(mfa.completeSignIn({ challenge: step.challenge, proof: { kind: 'code', code: w.code(secrets[HEIDI]!) } }), 'challenge_invalid');
    });

    it('enumeration: an unknown email and a wrong password get the same error and the same writes', async () => {
      const diff = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k]! - a[k]!]));
      // a first attempt makes each email's wrong-password budget (a row alike for both)
      for (const email of ['nobody@acme.example', ERIN]) {
        const before = await counts();
        await refusal(mfa.beginSignIn({ email, password: 'guess-0' }), 'wrong_password');
        expect(diff(before, await counts())).toMatchObject({ mfa_audit_events: 1, mfa_challenges: 0 });
      }
      const before = await counts();
      const unknown = await refusal(mfa.beginSignIn({ email: 'nobody@acme.example', password: 'guess-1' }), 'wrong_password');
      const afterUnknown = await counts();
      const wrong = await refusal(mfa.beginSignIn({ email: ERIN, password: 'guess-1' }), 'wrong_password');
      const afterWrong = await counts();
      expect([unknown.kind, unknown.message, unknown.hint]).toEqual([wrong.kind, wrong.message, wrong.hint]);
      expect(diff(afterUnknown, afterWrong)).toEqual(diff(before, afterUnknown));
      // and the rows written are alike: the budget counted, one audit row each
      const [u, k] = await Promise.all(
        ['nobody@acme.example', ERIN].map((e) => w.knex('mfa_rate_limits').where({ subject: e, bucket: 'password' }).first('used')),
      );
      expect(Number(u?.used)).toBe(Number(k?.used));
      const rows = (await w.knex('mfa_audit_events').orderBy('id', 'desc').limit(2).select('action', 'outcome', 'reason')).reverse();
      expect(rows).toEqual([
        { action: 'portal.login', outcome: 'failure', reason: 'wrong password' },
        { action: 'portal.login', outcome: 'failure', reason: 'wrong password' },
      ]);
    });

    it('the sign-in action is one of a fixed set: free text is refused before anything is checked or written', async () => {
      const before = await counts();
      for (const action of ['mfa.disable; drop', 'anything', '', 'MFA.DISABLE', 42]) {
        await refusal(mfa.beginSignIn({ email: ERIN, password: w.password(ERIN), action: action as never }), 'invalid_input');
        await refusal(mfa.signIn({ email: ERIN, password: 'wrong', action: action as never, secondFactor: {} }), 'invalid_input');
      }
      expect(await counts()).toEqual(before);
      // the documented ones work
      const ok = await mfa.signIn({ email: DEVON, password: w.password(DEVON), action: 'portal.login', secondFactor: {} });
      expect(ok.factor).toBe('none');
    });

    it('step one refuses an account the portal deactivated, after the password or the vouch', async () => {
      // the demo mapping has no active condition: one that reads a role value as "deactivated"
      const deactivating = { ...DEMO_MAPPING, users: { ...DEMO_MAPPING.users, active: { column: 'role', in: ['developer', 'support'] } } };
      await w
        .knex('mfa_settings')
        .where({ name: 'identity' })
        .update({ value: JSON.stringify(deactivating) });
      await w.knex('users').where({ email: DEVON }).update({ role: 'deactivated' });
      const lib = await openPortalMfa({ databaseUrl: getDb().url, keys: [w.deps.keyring()[0]!.key.toString('base64')], clock: () => w.now() });
      try {
        await refusal(lib.beginSignIn({ email: DEVON, password: w.password(DEVON) }), 'account_inactive');
        await refusal(lib.beginSignIn({ userId: await w.userId(DEVON), vouchedBy: 'portal-sso' }), 'account_inactive');
        await refusal(lib.actorFor({ userId: await w.userId(DEVON), vouchedBy: 'portal-sso' }), 'account_inactive');
        // a wrong password is still only a wrong password
        await refusal(lib.beginSignIn({ email: DEVON, password: 'wrong' }), 'wrong_password');
        const refused = await w.audit({ target_email: DEVON, outcome: 'refused' });
        expect(refused.slice(-3).map((r) => [r.action, r.reason])).toEqual([
          ['portal.login', 'account inactive in the portal'],
          ['portal.login', 'account inactive in the portal'],
          ['portal.vouch', 'account inactive in the portal'],
        ]);
        expect(JSON.parse(String(refused.at(-1)!.request))).toEqual({ vouchedBy: 'portal-sso' });
      } finally {
        await lib.close();
        await w.knex('users').where({ email: DEVON }).update({ role: 'developer' });
        await w
          .knex('mfa_settings')
          .where({ name: 'identity' })
          .update({ value: JSON.stringify(DEMO_MAPPING) });
      }
    });
  });

  describe('a deferred actor', () => {
    it('after verifying its own code, a deferred actor is a full actor (status, sessions)', async () => {
      const deferred = await mfa.signIn({ email: ERIN, password: w.password(ERIN), action: 'mfa.verify', secondFactor: { deferred: true } });
      expect(deferred.factor).toBe('deferred');
      await refusal(mfa.status(deferred, { targetEmail: FRANK }), 'second_factor_required');
      w.advance(30_000);
      await mfa.verifyCode(deferred, { proof: { kind: 'code', code: w.code(secrets[ERIN]!) } });
      expect(deferred.factor).toBe('code');
      expect((await mfa.status(deferred)).state).toBe('active');
      expect((await mfa.openSession(deferred)).token).toBeTruthy();
    });
  });
});
