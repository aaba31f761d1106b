/**
 * The independent re-attack after issue 20 (review of this round): its findings as tests that now
 * pass — an `id:` target written another way is still oneself; a refusal's audit row never shows the
 * portal's spelling of an account the actor may not see; two accounts sharing an email are not
 * revealed to someone who may not see them; a library Actor does not outlive the portal deactivating
 * the account or taking its support role away. Both databases.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.js';
import { openWorld, type World } from '../support/world.js';
import { DEVON, SAM } from '../support/scenario.js';
import { refusal } from '../support/refusal.js';

describeEachDatabase('security review of this round', (getDb) => {
  let w: World;
  beforeAll(async () => {
    w = await openWorld(getDb().url);
  });
  afterAll(async () => {
    await w?.close();
  });

  it('A: support cannot issue itself an access code by writing its id with a leading zero', async () => {
    const sam = await w.as(SAM.email);
    const id = await w.userId(SAM.email);
    for (const spelling of [`id:${id}`, `id:0${id}`]) {
      const e = await refusal(w.mfa.issueAccessCode(sam, { targetEmail: spelling, ticket: 'SUP-1', password: w.password(SAM.email) }));
      expect(e.message).toMatch(/own account/);
    }
  });

  it('B: the refusal a developer reads back names the email as typed, whether the account exists or not', async () => {
    await w.knex('users').where('email', 'frank@globex.example').update({ email: 'Frank@Globex.example' });
    const devon = await w.as(DEVON.email);
    const spelling = async (typed: string) => {
      await refusal(w.mfa.status(devon, { targetEmail: typed }));
      const [row] = await w.mfa.readAuditTrail(devon, { limit: 1 });
      return row!.target;
    };
    expect(await spelling('FRANK@GLOBEX.EXAMPLE')).toBe('frank@globex.example');
    expect(await spelling('GHOST@GLOBEX.EXAMPLE')).toBe('ghost@globex.example');
    await w.knex('users').where('email', 'Frank@Globex.example').update({ email: 'frank@globex.example' });
  });

  it('C: two accounts sharing an email look like any account the actor may not see', async () => {
    await w.knex('users').insert({ email: 'Twin@globex.example', name: 'Twin One', password_hash: 'x', role: 'developer', created_at: w.now() });
    await w.knex('users').insert({ email: 'twin@Globex.example', name: 'Twin Two', password_hash: 'x', role: 'developer', created_at: w.now() });
    const devon = await w.as(DEVON.email);
    const twin = await refusal(w.mfa.status(devon, { targetEmail: 'twin@globex.example' }));
    const ghost = await refusal(w.mfa.status(devon, { targetEmail: 'ghost@globex.example' }));
    expect([twin.code, twin.kind]).toEqual([ghost.code, ghost.kind]);
    expect(twin.message.replace('twin', 'X')).toBe(ghost.message.replace('ghost', 'X'));
    // support is told, and can act on one of them by id
    const sam = await w.as(SAM.email);
    expect((await refusal(w.mfa.status(sam, { targetEmail: 'twin@globex.example' }))).code).toBe('ambiguous_account');
    await w.knex('users').where('email', 'like', 'twin@%').orWhere('email', 'like', 'Twin@%').delete();
  });

  it('D: an Actor kept by a backend stops working when the portal takes the support role away', async () => {
    const sam = await w.as(SAM.email);
    await w.knex('users').where('email', SAM.email).update({ role: 'developer' });
    try {
      w.advance(60_000);
      const e = await refusal(w.mfa.listUsers(sam, {}));
      expect(e.message).toMatch(/role in the portal changed/);
      expect(e.kind).toBe('forbidden');
    } finally {
      await w.knex('users').where('email', SAM.email).update({ role: 'support' });
    }
  });
});
