/**
 * Issue 21, item 4: what one request costs the database. The statements a use case sends are
 * counted on the real database (knex's 'query' event, transactions included): one `verify --code`
 * — a deferred sign-in, then the code — reads the user's credentials at most once, and an
 * organisation-scoped command does not read its organisation twice. Both databases.
 */
import type { Knex } from 'knex';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.js';
import { ALICE, DEVON } from '../support/scenario.js';
import { openWorld, type World } from '../support/world.js';

/** The SQL text of every statement `work` sends through `knex` (transactions are built on it too). */
async function statementsOf(knex: Knex, work: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const listen = (q: { sql: string }) => seen.push(q.sql);
  knex.on('query', listen);
  try {
    await work();
  } finally {
    knex.removeListener('query', listen);
  }
  // the transaction bookkeeping (BEGIN, COMMIT, savepoints) is not a read or a write of data
  return seen.filter((s) => !/^(begin|commit|rollback|savepoint|release)\b/i.test(s.trim()));
}

const credentialReads = (sql: string[]) => sql.filter((s) => /^select\b/i.test(s) && /\bmfa_credentials\b/.test(s));

describeEachDatabase('statements per request (issue 21)', (getDb) => {
  let w: World;
  let secret: string;
  let aliceSecret: string;
  beforeAll(async () => {
    w = await openWorld(getDb().url);
    secret = await w.enrol(DEVON.email);
    aliceSecret = await w.enrol(ALICE.email);
  });
  afterAll(async () => {
    await w?.close();
  });

  const signInDeferred = () => w.mfa.signIn({ email: DEVON.email, password: DEVON.password, action: 'mfa.verify', secondFactor: { deferred: true } });

  it('one verify reads the credentials once (it read them twice: admit, then the code)', async () => {
    const actor = await signInDeferred();
    const sql = await statementsOf(w.knex, () => w.mfa.verifyCode(actor, { proof: { kind: 'code', code: w.code(secret) } }));
    report('verifyCode', sql);
    expect(credentialReads(sql)).toHaveLength(1);
    w.advance(30_000);
  });

  it('verify --code as the CLI runs it (a deferred sign-in, then the code): one credential read each (it was three)', async () => {
    const sql = await statementsOf(w.knex, async () => {
      const actor = await signInDeferred();
      await w.mfa.verifyCode(actor, { proof: { kind: 'code', code: w.code(secret) } });
    });
    report('signIn + verifyCode', sql);
    expect(credentialReads(sql)).toHaveLength(2);
    w.advance(30_000);
  });

  it('a clock diagnosis reads the credentials once', async () => {
    const actor = await signInDeferred();
    const sql = await statementsOf(w.knex, () => w.mfa.diagnoseClock(actor, { code: w.code(secret, 2) }));
    report('diagnoseClock', sql);
    expect(credentialReads(sql)).toHaveLength(1);
    w.advance(90_000);
  });

  it('an organisation-scoped command reads its organisation once', async () => {
    const alice = await w.as(ALICE.email, aliceSecret);
    for (const orgSlug of [undefined, 'acme']) {
      const sql = await statementsOf(w.knex, () => w.mfa.showPolicy(alice, { orgSlug }));
      report(`showPolicy ${orgSlug ? '--org acme' : '(the one administered)'}`, sql);
      expect(sql.filter((s) => /^select\b/i.test(s) && /\bfrom `organisations`/.test(s))).toHaveLength(1);
    }
  });

  const report = (what: string, sql: string[]) =>
    console.info(`${what} [${getDb().dialect}]: ${sql.length} statements, ${credentialReads(sql).length} credential read(s)`);
});
