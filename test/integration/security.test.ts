/**
 * Issue 9: every finding of the outside attack, performed as the attacker would, against the core
 * use cases in-process on SQLite and MariaDB, with an injected clock (no sleeping for TOTP steps).
 * Each test names the finding it covers.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PortalMfaError } from '../../src/core/errors.js';
import { dummyHashLike } from '../../src/core/primitives/passwords.js';
import { describeEachDatabase } from '../support/databases.js';
import { totpAt } from '../support/independentTotp.js';
import { openWorld, type World } from '../support/world.js';
import { ALICE, BOB, DAVE, DEVON, ERIN, FRANK, OLIVIA, SAM } from '../support/scenario.js';
import { refusal } from '../support/refusal.js';
// enrolled users are written directly (enrolDirectly): what is attacked here comes after enrolment
import { enrolDirectly } from '../robustness/helpers.js';

describeEachDatabase('security findings (issue 9)', (getDb) => {
  let w: World;
  const secrets: Record<string, string> = {};
  const cred = async (email: string) =>
    w
      .knex('mfa_credentials')
      .where({ user_id: await w.userId(email), status: 'active' })
      .first();

  beforeAll(async () => {
    w = await openWorld(getDb().url);
    for (const u of [ALICE.email, OLIVIA.email, DAVE.email, ERIN.email, FRANK.email, DEVON.email]) secrets[u] = await enrolDirectly(w, u);
  });
  afterAll(async () => {
    await w?.close();
  });

  it('H1 diagnose is no oracle: a diagnosed future code is burnt, a miss counts as a failure, 24 parallel → at most 10 answers', async () => {
    const attacker = await w.mfa.signIn({ email: DEVON.email, password: w.password(DEVON.email), action: 'portal.login', secondFactor: { deferred: true } });
    // a code that becomes valid 90 s later
    const future = w.code(secrets[DEVON.email]!, 3);
    const d = await w.mfa.diagnoseClock(attacker, { code: future });
    expect(d).toMatchObject({ matched: true, driftSteps: 3 });
    w.advance(90_000);
    await refusal(
      w.mfa.signIn({ email: DEVON.email, password: w.password(DEVON.email), action: 'portal.login', secondFactor: { proof: { kind: 'code', code: future } } }),
      'rejected',
      'replayed_code',
    );
    // and neither can any code of an earlier step
    await refusal(
      w.mfa.signIn({
        email: DEVON.email,
        password: w.password(DEVON.email),
        action: 'portal.login',
        secondFactor: { proof: { kind: 'code', code: w.code(secrets[DEVON.email]!, -1) } },
      }),
      'rejected',
      'replayed_code',
    );
    // a miss counts through rule 11
    const before = Number((await cred(DEVON.email)).consecutive_failures);
    const miss = await w.mfa.diagnoseClock(attacker, { code: '000000' === w.code(secrets[DEVON.email]!) ? '111111' : '000000' });
    expect(miss.matched).toBe(false);
    expect(Number((await cred(DEVON.email)).consecutive_failures)).toBe(before + 1);
    // the hourly budget is atomic: 2 used above, so of 24 parallel at most 8 more are answered
    w.advance(3_600_000);
    const results = await Promise.allSettled(Array.from({ length: 24 }, () => w.mfa.diagnoseClock(attacker, { code: w.code(secrets[DEVON.email]!, -15) })));
    const answered = results.filter((r) => r.status === 'fulfilled').length;
    expect(answered).toBeLessThanOrEqual(10);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as PortalMfaError).code, String(r.reason)).toBe('rate_limited');
    expect((await w.audit({ action: 'mfa.diagnose', outcome: 'rate-limited' })).length).toBe(24 - answered);
    // reset the streak for later tests
    await w.as(DEVON.email, secrets[DEVON.email]);
  });

  it('M2 lockout escalates (15, 30, 60 … min) across locks and hard-locks (at 100 by default; 30 here) until an unlock', async () => {
    expect(w.deps.settings.hardLockFailures).toBe(100);
    w.deps.settings.hardLockFailures = 30;
    const email = ERIN.email;
    const guess = async () =>
      w.mfa
        .signIn({
          email,
          password: w.password(email),
          action: 'portal.login',
          secondFactor: { proof: { kind: 'code', code: w.code(secrets[email]!) === '123456' ? '654321' : '123456' } },
        })
        .catch((e: PortalMfaError) => e);
    const lockedUntil = async () => Number((await cred(email)).locked_until);
    for (let lock = 1; lock <= 3; lock++) {
      for (let i = 0; i < 5; i++) expect((await guess()).kind).toBe('rejected');
      expect((await guess()).kind).toBe('locked');
      expect(await lockedUntil()).toBe(w.now() + 15 * 2 ** (lock - 1) * 60_000);
      expect(Number((await cred(email)).consecutive_failures)).toBe(lock * 5);
      w.advance(15 * 2 ** (lock - 1) * 60_000);
    }
    // straight to the hard lock: keep guessing through every lock
    for (let n = 15; n < 30; ) {
      const r = await guess();
      if (r.kind === 'locked') w.advance(24 * 3_600_000);
      else n++;
    }
    const hard = await cred(email);
    expect(hard.hard_locked_at).not.toBeNull();
    w.advance(7 * 24 * 3_600_000);
    // never unlocked by time alone, even with the right code
    await refusal(w.as(email, secrets[email]), 'locked', 'hard_locked');
    expect((await w.audit({ action: 'mfa.hard-lock' })).length).toBe(1);
    // an organisation admin of acme unlocks erin (not protected); the count starts again
    const alice = await w.as(ALICE.email, secrets[ALICE.email]);
    const unlocked = await w.mfa.unlock(alice, { targetEmail: email });
    expect(unlocked).toMatchObject({ kind: 'unlocked', wasHardLocked: true });
    expect(await cred(email)).toMatchObject({ hard_locked_at: null, locked_until: null });
    expect(Number((await cred(email)).consecutive_failures)).toBe(0);
    w.deps.settings.hardLockFailures = 100;
    await w.as(email, secrets[email]);
  }, 120_000);

  it('M2 wrong passwords at any re-entry: 10 within 15 minutes → exit 4 until the window passes (audited)', async () => {
    for (let i = 0; i < 10; i++)
      await refusal(w.mfa.signIn({ email: FRANK.email, password: 'nope', action: 'portal.login', secondFactor: {} }), 'rejected', 'wrong_password');
    // even the right password is refused now
    await refusal(w.as(FRANK.email, secrets[FRANK.email]), 'locked', 'password_rate_limited');
    expect((await w.audit({ target_email: FRANK.email, outcome: 'locked' })).length).toBeGreaterThan(0);
    w.advance(15 * 60_000 + 1);
    await w.as(FRANK.email, secrets[FRANK.email]);
  });

  it('M3 / rule 14 admins and support cannot mint trusted-device tokens for others; refused before the code is used', async () => {
    w.advance(30_000);
    const bob = await w.as(BOB.email);
    const frankCode = w.code(secrets[FRANK.email]!);
    const before = (await cred(FRANK.email)).last_accepted_step;
    await refusal(
      w.mfa.verifyCode(bob, { targetEmail: FRANK.email, proof: { kind: 'code', code: frankCode }, trustDevice: { label: 'evil' } }),
      'forbidden',
      'trust_not_self',
    );
    expect((await cred(FRANK.email)).last_accepted_step).toBe(before);
    expect((await w.audit({ action: 'device.trust', outcome: 'refused', actor_email: BOB.email })).length).toBe(1);
    const sam = await w.as(SAM.email);
    await refusal(
      w.mfa.verifyCode(sam, { targetEmail: FRANK.email, proof: { kind: 'code', code: frankCode }, trustDevice: { label: 'evil' } }),
      'forbidden',
      'trust_not_self',
    );
    expect(
      await w
        .knex('mfa_trusted_devices')
        .where({ user_id: await w.userId(FRANK.email) })
        .count({ n: '*' })
        .first(),
    ).toMatchObject({ n: expect.anything() });
    expect(
      Number(
        (await w
          .knex('mfa_trusted_devices')
          .where({ user_id: await w.userId(FRANK.email) })
          .count({ n: '*' })
          .first())!.n,
      ),
    ).toBe(0);
  });

  it('M4 support needs a ticket on every path (org disable-mfa too) and is audited as a reset', async () => {
    const sam = await w.as(SAM.email);
    await refusal(w.mfa.disableMembers(sam, { orgSlug: 'globex', emails: [FRANK.email] }), 'usage', 'ticket_required');
    await refusal(w.mfa.disableMfa(sam, { targetEmail: FRANK.email }), 'usage', 'ticket_required');
    expect(await cred(FRANK.email)).toBeDefined();
    expect((await w.audit({ actor_email: SAM.email, outcome: 'refused', reason: 'no ticket reference' })).length).toBe(2);
    const run = await w.mfa.disableMembers(sam, { orgSlug: 'globex', emails: [FRANK.email], ticket: 'SUP-9' });
    if ('kind' in run) throw new Error('cancelled');
    const results = [];
    for await (const r of run.results) results.push(r);
    expect(results).toEqual([{ email: FRANK.email, outcome: 'disabled', errorKind: null, message: 'MFA disabled' }]);
    expect(await w.audit({ action: 'mfa.reset', target_email: FRANK.email })).toEqual([
      expect.objectContaining({ ticket: 'SUP-9', actor_email: SAM.email, organisation_slug: 'globex' }),
    ]);
    secrets[FRANK.email] = await enrolDirectly(w, FRANK.email);
  });

  it('M5 protected accounts: an org admin may not disable, unlock or issue codes for admins or support ("ask support")', async () => {
    const alice = await w.as(ALICE.email, secrets[ALICE.email]);
    const e1 = await refusal(w.mfa.disableMfa(alice, { targetEmail: OLIVIA.email }), 'forbidden', 'protected_account');
    expect(e1.hint).toMatch(/ask support/);
    await refusal(w.mfa.issueAccessCode(alice, { targetEmail: OLIVIA.email }), 'forbidden', 'protected_account');
    await refusal(w.mfa.unlock(alice, { targetEmail: OLIVIA.email }), 'forbidden', 'protected_account');
    // bulk too
    const run = await w.mfa.disableMembers(alice, { orgSlug: 'acme', emails: [OLIVIA.email, DAVE.email.toUpperCase(), DAVE.email] });
    if ('kind' in run) throw new Error('cancelled');
    const results = [];
    for await (const r of run.results) results.push(r);
    expect(results.map((r) => r.outcome)).toEqual(['forbidden', 'disabled']);
    expect(await cred(OLIVIA.email)).toBeDefined();
    secrets[DAVE.email] = await enrolDirectly(w, DAVE.email);
  });

  it('M9 rule 4 holds under --as: a member who must enrol can only enrol, verify, see their status', async () => {
    // heidi is a member of acme (requires MFA) and has not enrolled
    const heidi = await w.mfa.signIn({
      email: 'heidi@partners.example',
      password: w.password('heidi@partners.example'),
      action: 'portal.login',
      secondFactor: {},
    });
    await refusal(w.mfa.listOrganisations(heidi), 'wrong_state', 'enrolment_required');
    await refusal(w.mfa.readAuditTrail(heidi, { limit: 5 }), 'wrong_state', 'enrolment_required');
    expect((await w.mfa.status(heidi)).state).toBe('none');
    // alice (admin of acme) disables her own MFA, then may not change policy until she enrols again
    w.advance(30_000);
    const alice = await w.as(ALICE.email, secrets[ALICE.email]);
    await w.mfa.disableMfa(alice, {});
    const again = await w.as(ALICE.email);
    await refusal(w.mfa.setPolicy(again, { orgSlug: 'acme', change: { require: false } }), 'wrong_state', 'enrolment_required');
    secrets[ALICE.email] = await enrolDirectly(w, ALICE.email);
  });

  it('L no enumeration: an admin gets the same refusal for an unknown and a foreign user; support learns "not found"; dummy hash at the stored cost', async () => {
    const bob = await w.as(BOB.email);
    const a = await refusal(w.mfa.status(bob, { targetEmail: 'nobody@nowhere.example' }), 'forbidden');
    const b = await refusal(w.mfa.status(bob, { targetEmail: DAVE.email }), 'forbidden');
    expect(a.message.replace('nobody@nowhere.example', 'X')).toBe(b.message.replace(DAVE.email, 'X'));
    const sam = await w.as(SAM.email);
    await refusal(w.mfa.status(sam, { targetEmail: 'nobody@nowhere.example' }), 'not_found', 'user_not_found');
    expect(dummyHashLike('$2b$12$' + 'a'.repeat(53)).startsWith('$2b$12$')).toBe(true);
    expect(dummyHashLike(undefined).startsWith('$2b$10$')).toBe(true);
  });

  it('L an explicit code is always verified, even on a machine with a valid trusted-device token', async () => {
    w.advance(30_000);
    const devon = await w.as(DEVON.email, secrets[DEVON.email]);
    const device = await w.mfa.trustThisDevice(devon, { label: 'laptop' });
    w.advance(30_000);
    const trusted = await w.mfa.signIn({
      email: DEVON.email,
      password: w.password(DEVON.email),
      action: 'portal.login',
      secondFactor: { deviceToken: device.token },
    });
    expect(trusted.factor).toBe('device');
    const wrong = w.code(secrets[DEVON.email]!) === '000000' ? '111111' : '000000';
    await refusal(
      w.mfa.signIn({
        email: DEVON.email,
        password: w.password(DEVON.email),
        action: 'portal.login',
        secondFactor: { deviceToken: device.token, proof: { kind: 'code', code: wrong } },
      }),
      'rejected',
      'wrong_code',
    );
    // unknown tokens are refused and audited
    const before = (await w.audit({ target_email: DEVON.email, outcome: 'refused' })).length;
    await refusal(
      w.mfa.signIn({ email: DEVON.email, password: w.password(DEVON.email), action: 'portal.login', secondFactor: { deviceToken: 'forged' } }),
      'usage',
      'second_factor_required',
    );
    expect((await w.audit({ target_email: DEVON.email, outcome: 'refused' })).length).toBe(before + 1);
    // re-trusting the same machine replaces its device
    w.advance(30_000);
    const again = await w.as(DEVON.email, secrets[DEVON.email]);
    const second = await w.mfa.trustThisDevice(again, { label: 'laptop', previousToken: device.token });
    expect(second.replacedDeviceId).toBe(device.id);
    const live = await w
      .knex('mfa_trusted_devices')
      .where({ user_id: await w.userId(DEVON.email) })
      .whereNull('revoked_at');
    expect(live.map((d) => Number(d.id))).toEqual([second.id]);
  });

  it("L replace ends the other CLI sessions; device trust off revokes the members' devices", async () => {
    w.advance(30_000);
    const frank = await w.as(FRANK.email, secrets[FRANK.email]);
    const other = await w.mfa.openSession(frank);
    w.advance(30_000);
    const replacing = await w.as(FRANK.email, secrets[FRANK.email]);
    const pending = await w.mfa.startReplacement(replacing, {});
    await w.mfa.confirmEnrolment(replacing, { code: totpAt(pending.secret, w.step()) });
    secrets[FRANK.email] = pending.secret;
    expect(await w.mfa.resumeSession(other.token)).toBeNull();
    // a trusted device of a globex member, then bob turns device trust off
    w.advance(30_000);
    const f = await w.as(FRANK.email, secrets[FRANK.email]);
    await w.mfa.trustThisDevice(f, { label: 'pc' });
    const bob = await w.as(BOB.email);
    const r = await w.mfa.setPolicy(bob, { orgSlug: 'globex', change: { deviceTrust: false } });
    expect(r.devicesRevoked).toBeGreaterThan(0);
    expect(
      Number(
        (await w
          .knex('mfa_trusted_devices')
          .where({ user_id: await w.userId(FRANK.email) })
          .whereNull('revoked_at')
          .count({ n: '*' })
          .first())!.n,
      ),
    ).toBe(0);
    await w.mfa.setPolicy(bob, { orgSlug: 'globex', change: { deviceTrust: true } });
  });

  it('L refusals are audited: bulk rows for non-members, a locked enrolment confirmation, a locked diagnosis', async () => {
    const bob = await w.as(BOB.email);
    const run = await w.mfa.disableMembers(bob, { orgSlug: 'globex', emails: [DAVE.email, 'ghost@nowhere.example'], dryRun: true });
    if ('kind' in run) throw new Error('cancelled');
    const rows = [];
    for await (const r of run.results) rows.push(r);
    // no enumeration: a foreign member and an unknown email look the same
    expect(rows.map((r) => [r.outcome, r.message.replace(/\S+@\S+/, 'X')])).toEqual([
      ['forbidden', 'may not act on X'],
      ['forbidden', 'may not act on X'],
    ]);
    expect((await w.audit({ actor_email: BOB.email, action: 'org.disable-mfa', outcome: 'refused' })).length).toBe(2);
  });

  it('review: device ids reveal no owner; unknown emails hit the password limit too; verify is not for protected accounts', async () => {
    // a device of someone else is "not found", exactly like a missing id
    w.advance(30_000);
    const frank = await w.as(FRANK.email, secrets[FRANK.email]);
    const device = await w.mfa.trustThisDevice(frank, { label: 'frank-pc' });
    const devon = await w.as(DEVON.email, secrets[DEVON.email]);
    const foreign = await refusal(w.mfa.revokeDevices(devon, { ids: [device.id], dryRun: true }), 'not_found', 'device_not_found');
    expect(foreign.message).not.toContain(FRANK.email);
    const missing = await refusal(w.mfa.revokeDevices(devon, { ids: [999_999], dryRun: true }), 'not_found', 'device_not_found');
    expect(foreign.message.replace(String(device.id), 'N')).toBe(missing.message.replace('999999', 'N'));
    // an unknown email gets the same exit 4 after ten wrong passwords as a real one
    for (let i = 0; i < 10; i++)
      await refusal(w.mfa.signIn({ email: 'ghost@nowhere.example', password: 'x', action: 'portal.login', secondFactor: {} }), 'rejected', 'wrong_password');
    await refusal(w.mfa.signIn({ email: 'ghost@nowhere.example', password: 'x', action: 'portal.login', secondFactor: {} }), 'locked', 'password_rate_limited');
    // an org admin cannot guess (and so lock) a fellow admin's codes
    w.advance(30_000);
    const alice = await w.as(ALICE.email, secrets[ALICE.email]);
    await refusal(w.mfa.verifyCode(alice, { targetEmail: OLIVIA.email, proof: { kind: 'code', code: '000000' } }), 'forbidden', 'protected_account');
    expect(Number((await cred(OLIVIA.email)).consecutive_failures)).toBe(0);
  });

  it('review: access codes only at login; a revoked code ends its sessions; a session cannot open another', async () => {
    const sam = await w.as(SAM.email);
    const issued = await w.mfa.issueAccessCode(sam, { targetEmail: DEVON.email, ticket: 'SUP-1' });
    if (issued.kind !== 'issued') throw new Error('not issued');
    // given to a command that is not a login it is refused — and not spent
    await refusal(
      w.mfa.signIn({
        email: DEVON.email,
        password: w.password(DEVON.email),
        action: 'portal.login',
        secondFactor: { proof: { kind: 'access-code', code: issued.code } },
      }),
      'usage',
      'invalid_input',
    );
    const restricted = await w.mfa.signIn({
      email: DEVON.email,
      password: w.password(DEVON.email),
      action: 'portal.login',
      secondFactor: { accessCodeAllowed: true, proof: { kind: 'access-code', code: issued.code } },
    });
    const session = await w.mfa.openSession(restricted);
    const resumed = (await w.mfa.resumeSession(session.token))!;
    await refusal(w.mfa.openSession(resumed), 'usage');
    await w.mfa.revokeAccessCode(sam, { targetEmail: DEVON.email, ticket: 'SUP-1' }).catch(() => undefined);
    // the code was used up by the login; issuing a new one (or revoking) ends the restricted session
    await w.mfa.issueAccessCode(sam, { targetEmail: DEVON.email, ticket: 'SUP-2' });
    expect(await w.mfa.resumeSession(session.token)).toBeNull();
  });
});
