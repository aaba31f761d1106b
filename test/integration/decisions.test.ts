/**
 * Issue 21: authorisation is one decision (rules/authorise.ts `decide`), fed one user's facts by
 * `disable` and a chunk's prefetched facts by `org disable-mfa`; the lockout's budgets are built once.
 * The same actors and targets go through both paths: the answers and the audit rows agree, and
 * where they differ (the bulk acts on members only) the table says so. In-process, both databases.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Actor } from '../../src/core/rules/actor.js';
import { describeEachDatabase } from '../support/databases.js';
import { refusal } from '../support/refusal.js';
import { ALICE, DAVE, DEVON, FRANK, OLIVIA, SAM } from '../support/scenario.js';
import { openWorld, type World } from '../support/world.js';

const NOBODY = 'nobody@acme.example';

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
const TWIN = 'twin@acme.example';

/** What each path answers: the single path's `via` or error code, the bulk's outcome and error kind. */
const TABLE: { actor: 'alice' | 'sam'; target: string; single: string; bulk: string }[] = [
  { actor: 'alice', target: DAVE.email, single: 'org-admin', bulk: 'would-disable' },
  { actor: 'alice', target: FRANK.email, single: 'forbidden', bulk: 'forbidden/forbidden' },
  { actor: 'alice', target: OLIVIA.email, single: 'protected_account', bulk: 'forbidden/forbidden' },
  { actor: 'alice', target: NOBODY, single: 'forbidden', bulk: 'forbidden/forbidden' },
  { actor: 'alice', target: DEVON.email, single: 'forbidden', bulk: 'forbidden/forbidden' },
  // two accounts share the email: to an admin it is any account they may not see (it was `ambiguous` in the bulk)
  { actor: 'alice', target: TWIN, single: 'forbidden', bulk: 'forbidden/forbidden' },
  { actor: 'sam', target: DAVE.email, single: 'support', bulk: 'would-disable' },
  // support acts on anyone; the bulk acts on the organisation's members only
  { actor: 'sam', target: FRANK.email, single: 'support', bulk: 'not-member/not_found' },
  { actor: 'sam', target: OLIVIA.email, single: 'support', bulk: 'would-disable' },
  { actor: 'sam', target: NOBODY, single: 'user_not_found', bulk: 'not-found/not_found' },
  { actor: 'sam', target: TWIN, single: 'ambiguous_account', bulk: 'ambiguous/wrong_state' },
];

describeEachDatabase('one authorisation for one user and for a list (issue 21)', (getDb) => {
  let w: World;
  const secrets: Record<string, string> = {};
  const actors: Record<string, Actor> = {};
  beforeAll(async () => {
    w = await openWorld(getDb().url);
    for (const a of [ALICE, DAVE, FRANK, OLIVIA]) secrets[a.email] = await w.enrol(a.email);
    // two portal accounts whose emails fold together, both members of acme
    const acme = (await w.knex('organisations').where('slug', 'acme').first('id')).id;
    for (const email of ['Twin@acme.example', TWIN]) {
      await w.knex('users').insert({ email, name: 'Twin', password_hash: 'x', role: 'developer', created_at: w.now() });
      const id = (await w.knex('users').where('email', email).first('id')).id;
      await w.knex('organisation_members').insert({ organisation_id: acme, user_id: id, role: 'member', created_at: w.now(), joined_at: w.now() });
    }
    actors.alice = await w.as(ALICE.email, secrets[ALICE.email]);
    actors.sam = await w.as(SAM.email);
  });
  afterAll(async () => {
    await w?.close();
  });

  const ticketOf = (who: string) => (who === 'sam' ? 'SUP-21' : undefined);

  it.each(TABLE)('$actor on $target: disable says $single, org disable-mfa says $bulk', async ({ actor, target, single, bulk }) => {
    const alone = await w.mfa
      .disableMfa(actors[actor]!, { targetEmail: target, orgSlug: 'acme', ticket: ticketOf(actor), dryRun: true })
      .then((r) => (r.kind === 'dry-run' ? r.via : r.kind))
      .catch((e) => e.code);
    expect(alone).toBe(single);
    const run = await w.mfa.disableMembers(actors[actor]!, { orgSlug: 'acme', emails: [target], ticket: ticketOf(actor), dryRun: true });
    if ('kind' in run) throw new Error('cancelled');
    const [r] = await all(run.results);
    expect(r!.errorKind === null ? r!.outcome : `${r!.outcome}/${r!.errorKind}`).toBe(bulk);
  });

  it('a refusal leaves the same audit row whichever path refused it: the typed email, no portal id', async () => {
    for (const target of [FRANK.email, NOBODY, DEVON.email, TWIN]) {
      await refusal(w.mfa.disableMfa(actors.alice!, { targetEmail: target, orgSlug: 'acme', dryRun: true }), 'forbidden');
      const run = await w.mfa.disableMembers(actors.alice!, { orgSlug: 'acme', emails: [target], dryRun: true });
      if ('kind' in run) throw new Error('cancelled');
      await all(run.results);
      const rows = await w.knex('mfa_audit_events').where({ actor_email: ALICE.email, target_email: target, outcome: 'refused' }).orderBy('id');
      const [bySingle, byBulk] = rows.slice(-2).map((r) => ({ ...r, id: 0, action: '' }));
      expect(byBulk).toEqual(bySingle);
      expect(bySingle).toMatchObject({ target_user_id: null, reason: 'may not act on this user', organisation_slug: 'acme' });
    }
  });

  it('unlock clears the wrong-password budget sign-in counts against, however the portal spells the email', async () => {
    await w.knex('users').where('email', DEVON.email).update({ email: 'Devon@Example.com' });
    for (let i = 0; i < w.deps.settings.passwordFailures; i++) {
      await refusal(w.mfa.signIn({ email: DEVON.email, password: 'wrong', action: 'portal.login', secondFactor: {} }), 'wrong_password');
    }
    await refusal(w.mfa.signIn({ email: DEVON.email, password: DEVON.password, action: 'portal.login', secondFactor: {} }), 'password_rate_limited');
    const done = await w.mfa.unlock(actors.sam!, { targetEmail: DEVON.email, ticket: 'SUP-22', password: SAM.password });
    expect(done).toMatchObject({ kind: 'unlocked', passwordLocked: true });
    await w.mfa.signIn({ email: DEVON.email, password: DEVON.password, action: 'portal.login', secondFactor: {} });
  });
});
