/**
 * The chunked bulk disable (issue 14) run by an organisation admin, on both databases, in-process:
 * the per-user rules hold across chunk boundaries (20 users, then 40 …) exactly as for one user at a
 * time — protected accounts, unknown emails and other organisations' members are refused alike (no
 * enumeration) and audited, members are disabled with one audit row and one notice each, and the
 * refused accounts keep their MFA.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.js';
import { openWorld, type World } from '../support/world.js';
import { ALICE, DAVE, FRANK, OLIVIA } from '../support/scenario.js';

const GHOST = 'ghost@nowhere.example';
const generated = (n: number) => `bulk-${String(n).padStart(3, '0')}@acme.example`;

describeEachDatabase('bulk disable by an organisation admin, across chunks', (getDb) => {
  let w: World;
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    w = await openWorld(getDb().url);
    for (const u of [ALICE.email, OLIVIA.email, FRANK.email]) secrets[u] = await w.enrol(u);
    // 27 more acme members with active MFA (any ciphertext: disabling never decrypts)
    const acme = Number((await w.knex('organisations').where({ slug: 'acme' }).first('id')).id);
    const now = Date.now();
    for (let n = 1; n <= 27; n++) {
      await w.knex('users').insert({ email: generated(n), name: `Bulk ${n}`, password_hash: 'x', role: 'developer', created_at: now });
      const id = Number(
        (
          await w
            .knex('users')
            .where({ email: generated(n) })
            .first('id')
        ).id,
      );
      await w.knex('organisation_members').insert({ organisation_id: acme, user_id: id, role: 'member', created_at: now, joined_at: now });
      // portal-mfa keeps the portal's user id as text
      await w.knex('mfa_credentials').insert({
        user_id: String(id),
        status: 'active',
        secret_ciphertext: 'v1:x',
        key_id: '0000000000000000',
        created_at: now,
        confirmed_at: now,
        consecutive_failures: 0,
      });
    }
  });
  afterAll(async () => {
    await w?.close();
  });

  it('refusals and removals keep their per-user rules on both sides of a chunk boundary', async () => {
    // the first chunk is 20 users: olivia is its last, the refusals of the next chunk come first in it
    const list = [
      ...Array.from({ length: 19 }, (_, i) => generated(i + 1)),
      OLIVIA.email,
      GHOST,
      FRANK.email,
      ...Array.from({ length: 8 }, (_, i) => generated(i + 20)),
      DAVE.email,
    ];
    const alice = await w.as(ALICE.email, secrets[ALICE.email]);
    const run = await w.mfa.disableMembers(alice, { orgSlug: 'acme', emails: list });
    if ('kind' in run) throw new Error('cancelled');
    const results = [];
    for await (const r of run.results) results.push(r);
    expect(results.map((r) => `${r.email} ${r.outcome}`)).toEqual([
      ...Array.from({ length: 19 }, (_, i) => `${generated(i + 1)} disabled`),
      `${OLIVIA.email} forbidden`,
      `${GHOST} forbidden`,
      `${FRANK.email} forbidden`,
      ...Array.from({ length: 8 }, (_, i) => `${generated(i + 20)} disabled`),
      `${DAVE.email} already-off`,
    ]);
    // unknown and other-organisation emails look the same to an admin (no enumeration)
    expect({ ...results[20]!, email: '', message: results[20]!.message.replace(GHOST, 'X') }).toEqual({
      ...results[21]!,
      email: '',
      message: results[21]!.message.replace(FRANK.email, 'X'),
    });

    const audit = await w
      .knex('mfa_audit_events')
      .where({ actor_email: ALICE.email })
      .whereIn('action', ['org.disable-mfa'])
      .select('target_email', 'outcome', 'detail');
    const done = audit.filter((a) => a.outcome === 'success');
    expect(done.map((a) => a.target_email).sort()).toEqual(Array.from({ length: 27 }, (_, i) => generated(i + 1)));
    for (const a of done) expect(JSON.parse(String(a.detail))).toMatchObject({ credentials: 1 });
    expect(
      audit
        .filter((a) => a.outcome === 'refused')
        .map((a) => a.target_email)
        .sort(),
    ).toEqual([FRANK.email, GHOST, OLIVIA.email].sort());

    const generatedIds = (await w.knex('users').where('email', 'like', 'bulk-%').pluck('id')).map(String);
    expect(generatedIds).toHaveLength(27);
    expect(Number((await w.knex('mfa_credentials').whereIn('user_id', generatedIds).count({ n: '*' }).first())?.n)).toBe(0);
    expect(
      Number((await w.knex('mfa_notifications').whereIn('user_id', generatedIds).where({ event: 'mfa-disabled-admin' }).count({ n: '*' }).first())?.n),
    ).toBe(27);
    // the refused accounts keep their MFA
    for (const who of [OLIVIA.email, FRANK.email]) {
      expect(
        await w
          .knex('mfa_credentials')
          .where({ user_id: await w.userId(who), status: 'active' })
          .first(),
      ).toBeDefined();
    }
  });
});
