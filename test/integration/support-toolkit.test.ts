/**
 * Issue 12: unlock, temporary access codes, the portal-wide report, fair grace — the authorisation
 * matrix of each (self, plain member, admin of the org, admin of another org, admin on a protected
 * account, support with and without a ticket) against the core in-process on both databases.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Actor } from '../../src/core/rules/actor.js';
import { isPortalMfaError, type PortalMfaError } from '../../src/core/errors.js';
import { describeEachDatabase } from '../support/databases.js';
import { totpAt } from '../support/independentTotp.js';
import { openWorld, type World } from '../support/world.js';
import { ALICE, BOB, DAVE, DEVON, ERIN, OLIVIA, SAM } from '../support/scenario.js';

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (!isPortalMfaError(e)) throw e;
    return `${(e as PortalMfaError).kind}/${(e as PortalMfaError).code}`;
  }
}

describeEachDatabase('support toolkit (issue 12)', (getDb) => {
  let w: World;
  const secrets: Record<string, string> = {};
  const actors: Record<string, Actor> = {};
  const lockUp = async (email: string) => {
    const wrong = (s: string) => (w.code(s) === '123456' ? '654321' : '123456');
    for (let i = 0; i < 5; i++)
      await w.mfa
        .signIn({ email, password: w.password(email), action: 'portal.login', secondFactor: { proof: { kind: 'code', code: wrong(secrets[email]!) } } })
        .catch(() => undefined);
  };

  beforeAll(async () => {
    w = await openWorld(getDb().url);
    for (const u of [ALICE.email, OLIVIA.email, DAVE.email, ERIN.email, DEVON.email]) secrets[u] = await w.enrol(u);
    w.advance(30_000);
    for (const u of [ALICE.email, OLIVIA.email]) actors[u] = await w.as(u, secrets[u]);
    for (const u of [BOB.email, SAM.email]) actors[u] = await w.as(u);
    w.advance(30_000);
    actors[DAVE.email] = await w.as(DAVE.email, secrets[DAVE.email]);
  });
  afterAll(async () => {
    await w?.close();
  });

  it('unlock: the matrix, and what it clears', async () => {
    await lockUp(ERIN.email);
    expect((await w.mfa.status(actors[SAM.email]!, { targetEmail: ERIN.email })).lockedUntil).not.toBeNull();
    expect(await outcome(w.mfa.unlock(actors[DAVE.email]!, { targetEmail: ERIN.email }))).toBe('forbidden/forbidden'); // plain member
    expect(await outcome(w.mfa.unlock(actors[BOB.email]!, { targetEmail: ERIN.email }))).toBe('forbidden/forbidden'); // admin of another org
    expect(await outcome(w.mfa.unlock(actors[SAM.email]!, { targetEmail: ERIN.email }))).toBe('usage/ticket_required'); // support without ticket
    expect(await outcome(w.mfa.unlock(actors[ALICE.email]!, { targetEmail: OLIVIA.email }))).toBe('forbidden/protected_account');
    expect(await outcome(w.mfa.unlock(actors[DAVE.email]!, { targetEmail: DAVE.email }))).toBe('forbidden/forbidden'); // not on yourself
    const dry = await w.mfa.unlock(actors[ALICE.email]!, { targetEmail: ERIN.email, dryRun: true });
    expect(dry).toMatchObject({ kind: 'dry-run', consecutiveFailures: 5 });
    expect((await w.mfa.status(actors[SAM.email]!, { targetEmail: ERIN.email })).lockedUntil).not.toBeNull();
    expect(await w.mfa.unlock(actors[ALICE.email]!, { targetEmail: ERIN.email, reason: 'verified by phone' })).toMatchObject({ kind: 'unlocked' });
    const s = await w.mfa.status(actors[SAM.email]!, { targetEmail: ERIN.email });
    expect(s).toMatchObject({ lockedUntil: null, hardLocked: false, consecutiveFailures: 0 });
    expect(await outcome(w.mfa.unlock(actors[ALICE.email]!, { targetEmail: ERIN.email }))).toBe('wrong_state/not_locked');
    await lockUp(ERIN.email);
    expect(await w.mfa.unlock(actors[SAM.email]!, { targetEmail: ERIN.email, ticket: 'SUP-7' })).toMatchObject({ kind: 'unlocked' });
    expect(await w.audit({ action: 'mfa.unlock', outcome: 'success' })).toEqual([
      expect.objectContaining({ actor_email: ALICE.email, target_email: ERIN.email, organisation_slug: 'acme', reason: 'verified by phone' }),
      expect.objectContaining({ actor_email: SAM.email, target_email: ERIN.email, ticket: 'SUP-7' }),
    ]);
  });

  it('access codes: the matrix, limits, one live code, shown once and stored hashed', async () => {
    expect(await outcome(w.mfa.issueAccessCode(actors[DAVE.email]!, { targetEmail: ERIN.email }))).toBe('forbidden/forbidden');
    expect(await outcome(w.mfa.issueAccessCode(actors[BOB.email]!, { targetEmail: ERIN.email }))).toBe('forbidden/forbidden');
    expect(await outcome(w.mfa.issueAccessCode(actors[SAM.email]!, { targetEmail: ERIN.email }))).toBe('usage/ticket_required');
    expect(await outcome(w.mfa.issueAccessCode(actors[ALICE.email]!, { targetEmail: OLIVIA.email }))).toBe('forbidden/protected_account');
    expect(await outcome(w.mfa.issueAccessCode(actors[ALICE.email]!, { targetEmail: ERIN.email, minutes: 7 * 24 * 60 + 1 }))).toBe('usage/invalid_input');
    expect(await outcome(w.mfa.issueAccessCode(actors[ALICE.email]!, { targetEmail: ERIN.email, uses: 11 }))).toBe('usage/invalid_input');
    const first = await w.mfa.issueAccessCode(actors[ALICE.email]!, { targetEmail: ERIN.email });
    const second = await w.mfa.issueAccessCode(actors[SAM.email]!, { targetEmail: ERIN.email, ticket: 'SUP-8', uses: 2, minutes: 30 });
    if (first.kind !== 'issued' || second.kind !== 'issued') throw new Error('not issued');
    expect(second.code).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){4}$/);
    const rows = await w.knex('mfa_access_codes').where({ user_id: await w.userId(ERIN.email) });
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(second.code.replace(/-/g, ''));
    expect((await w.mfa.status(actors[SAM.email]!, { targetEmail: ERIN.email })).accessCode).toMatchObject({ usesLeft: 2, expiresAt: w.now() + 30 * 60_000 });
    // the first code was replaced
    expect(
      await outcome(
        w.mfa.signIn({
          email: ERIN.email,
          password: w.password(ERIN.email),
          action: 'portal.login',
          secondFactor: { accessCodeAllowed: true, proof: { kind: 'access-code', code: first.code } },
        }),
      ),
    ).toBe('rejected/wrong_access_code');
    const withCode = await w.mfa.signIn({
      email: ERIN.email,
      password: w.password(ERIN.email),
      action: 'portal.login',
      secondFactor: { accessCodeAllowed: true, proof: { kind: 'access-code', code: second.code.toLowerCase() } },
    });
    expect(withCode).toMatchObject({ factor: 'access-code', restriction: 'access-code' });
    // until a new device is set up, nothing else
    expect(await outcome(w.mfa.listOrganisations(withCode))).toBe('wrong_state/enrolment_required');
    expect(await outcome(w.mfa.disableMfa(withCode, {}))).toBe('wrong_state/enrolment_required');
    expect(await w.mfa.revokeAccessCode(actors[SAM.email]!, { targetEmail: ERIN.email, ticket: 'SUP-8' })).toMatchObject({ kind: 'revoked' });
    expect(
      await outcome(
        w.mfa.signIn({
          email: ERIN.email,
          password: w.password(ERIN.email),
          action: 'portal.login',
          secondFactor: { accessCodeAllowed: true, proof: { kind: 'access-code', code: second.code } },
        }),
      ),
    ).toBe('rejected/wrong_access_code');
  });

  it('the recovery story: an access code on a ticket, a new phone, the old secret gone, every step audited', async () => {
    const oldSecret = secrets[DAVE.email]!;
    const issued = await w.mfa.issueAccessCode(actors[SAM.email]!, { targetEmail: DAVE.email, ticket: 'SUP-42', reason: 'lost phone' });
    if (issued.kind !== 'issued') throw new Error('not issued');
    w.advance(60_000);
    const dave = await w.mfa.signIn({
      email: DAVE.email,
      password: w.password(DAVE.email),
      action: 'session.login',
      secondFactor: { accessCodeAllowed: true, proof: { kind: 'access-code', code: issued.code } },
    });
    const session = await w.mfa.openSession(dave);
    const resumed = (await w.mfa.resumeSession(session.token))!;
    expect(resumed.restriction).toBe('access-code');
    // replace without the lost phone (the access code stands for it)
    const pending = await w.mfa.startReplacement(resumed, { password: w.password(DAVE.email) });
    await w.mfa.confirmEnrolment(resumed, { code: totpAt(pending.secret, w.step()), password: w.password(DAVE.email) });
    secrets[DAVE.email] = pending.secret;
    expect((await w.mfa.resumeSession(session.token))!.restriction).toBeNull();
    w.advance(30_000);
    expect(await outcome(w.as(DAVE.email, oldSecret))).toBe('rejected/wrong_code');
    w.advance(30_000);
    await w.as(DAVE.email, pending.secret);
    // single use
    expect(
      await outcome(
        w.mfa.signIn({
          email: DAVE.email,
          password: w.password(DAVE.email),
          action: 'portal.login',
          secondFactor: { accessCodeAllowed: true, proof: { kind: 'access-code', code: issued.code } },
        }),
      ),
    ).toBe('rejected/wrong_access_code');
    const trail = (await w.audit({ target_email: DAVE.email })).map((r) => `${r.action}:${r.outcome}`);
    expect(trail).toEqual(
      expect.arrayContaining(['access-code.issue:success', 'session.login:success', 'mfa.replace.start:success', 'mfa.replace.confirm:success']),
    );
    expect((await w.audit({ action: 'access-code.issue', target_email: DAVE.email }))[0]).toMatchObject({ ticket: 'SUP-42', actor_email: SAM.email });
  });

  it('users list: support only, users in no organisation included, filters', async () => {
    expect(await outcome(w.mfa.listUsers(actors[ALICE.email]!, {}))).toBe('forbidden/forbidden');
    const all = [];
    for await (const u of await w.mfa.listUsers(actors[SAM.email]!, {})) all.push(u);
    expect(all.map((u) => u.email)).toContain(DEVON.email);
    expect(all.find((u) => u.email === DEVON.email)!.organisations).toBe('');
    const support = [];
    for await (const u of await w.mfa.listUsers(actors[SAM.email]!, { role: 'support' })) support.push(u.email);
    expect(support).toEqual([SAM.email]);
    const off = [];
    for await (const u of await w.mfa.listUsers(actors[SAM.email]!, { mfa: 'off', orgSlug: 'acme' })) off.push(u.email);
    expect(off).toEqual(['heidi@partners.example']);
    await lockUp(ERIN.email);
    const lockedNow = [];
    for await (const u of await w.mfa.listUsers(actors[SAM.email]!, { locked: true })) lockedNow.push(u.email);
    expect(lockedNow).toEqual([ERIN.email]);
    await w.mfa.unlock(actors[SAM.email]!, { targetEmail: ERIN.email, ticket: 'SUP-9' });
  });

  it('fair grace: a member who joins after the policy change gets the full grace from joining', async () => {
    const bob = actors[BOB.email]!;
    const policyAt = w.now();
    await w.mfa.setPolicy(bob, { orgSlug: 'globex', change: { require: true, graceDays: 10 } });
    w.advance(5 * 86_400_000);
    const joined = w.now();
    await w.knex('organisation_members').insert({
      organisation_id: (await w.knex('organisations').where('slug', 'globex').first('id')).id,
      user_id: await w.userId(DEVON.email),
      role: 'member',
      created_at: joined,
      joined_at: joined,
    });
    await w.mfa.disableMfa(await w.as(DEVON.email, secrets[DEVON.email]), {});
    const members = [];
    const { members: stream } = await w.mfa.listMembers(bob, { orgSlug: 'globex', filter: { mfa: 'off' } });
    for await (const m of stream) members.push(m);
    const frank = members.find((m) => m.email === 'frank@globex.example')!;
    const devon = members.find((m) => m.email === DEVON.email)!;
    expect(frank.deadline).toBe(policyAt + 10 * 86_400_000);
    expect(devon.deadline).toBe(joined + 10 * 86_400_000);
    const devonActor = await w.as(DEVON.email);
    expect((await w.mfa.status(devonActor)).enrolmentDeadlines).toEqual([{ organisation: 'globex', deadline: joined + 10 * 86_400_000 }]);
    // frank's grace is over before devon's
    w.advance(6 * 86_400_000);
    expect(await outcome(w.mfa.listOrganisations(await w.as('frank@globex.example')))).toBe('wrong_state/enrolment_required');
    expect(await outcome(w.mfa.listOrganisations(await w.as(DEVON.email)))).toBe('ok');
    // rule 4 binds the admin who set it too: bob must enrol before he can change the policy again
    expect(await outcome(w.mfa.setPolicy(bob, { orgSlug: 'globex', change: { require: false } }))).toBe('wrong_state/enrolment_required');
    const bobSecret = await w.enrol(BOB.email);
    await w.mfa.setPolicy(await w.as(BOB.email, bobSecret), { orgSlug: 'globex', change: { require: false } });
  });
});
