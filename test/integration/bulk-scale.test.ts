/**
 * The large-organisation paths (issue 14), on both databases, through the CLI:
 * - bulk `org disable-mfa` works in chunks (20 users, doubling to 500, one transaction each) with
 *   set-based SQL. A failure injected in the middle of a chunk (a trigger refusing one user's audit
 *   row) rolls that whole chunk back: every user is fully done — credential, recovery codes and
 *   trusted device gone, session ended, exactly one audit row and one outbox notice — or untouched,
 *   the done ones are exactly the users reported, and a rerun finishes the rest (`already-off` for
 *   the done ones). Audit and outbox rows equal the users done.
 * - `org users` and `users list` (--json and --csv) print exactly what the report rows say, byte
 *   for byte, rendered here independently from the tables (the output the keyset/iterating
 *   streams and the page-batched writers must not change).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { csvRow } from '../../src/cli/csv.js';
import { generateKeyBase64 } from '../../src/core/primitives/secretBox.js';
import { describeRun, makeCliEnv, runCli, type CliResult } from '../support/cli.js';
import { describeEachDatabase, type TestDatabase } from '../support/databases.js';
import { connect, resetStateByEmail, seedFullMfa } from '../robustness/helpers.js';
import { member, SAM } from '../support/scenario.js';

const N = 1200;
// chunks of 20, 40, 80, 160, 320, 500: users 621…1120 are the sixth chunk
const FAIL_AT = 700;
const DONE_BEFORE_FAILURE = 620;

describeEachDatabase('bulk org disable-mfa in chunks; listings unchanged', (getDb) => {
  let db: TestDatabase;
  let knex: Knex;
  let env: NodeJS.ProcessEnv;
  const emails = Array.from({ length: N }, (_, i) => member(i + 1).email);
  const cli = (args: string[], stdin?: string): Promise<CliResult> => runCli(['--db', db.url, ...args], { env, stdin, timeoutMs: 180_000 });
  const asSam = (args: string[]) => cli([...args, '--as', SAM.email, '--password-stdin'], `${SAM.password}\n`);

  beforeAll(async () => {
    db = getDb();
    env = makeCliEnv({ PORTAL_MFA_KEY: generateKeyBase64() }).env;
    for (const args of [
      ['db', 'migrate'],
      ['demo', '--members', String(N)],
    ]) {
      const r = await cli(args);
      expect(r.code, describeRun(r)).toBe(0);
    }
    knex = connect(db);
    await seedFullMfa(knex, emails, env.PORTAL_MFA_KEY as string);
  }, 240_000);

  afterAll(async () => {
    await knex?.destroy();
  });

  const count = async (table: string, where: Record<string, unknown>) => Number((await knex(table).where(where).count({ n: '*' }).first())?.n ?? 0);

  /** Each user's state: MFA rows, audit rows and outbox notices, one grouped count per table. */
  async function statesOf(list: string[]): Promise<('done' | 'untouched')[]> {
    const stateOf = await resetStateByEmail(knex, list, { noticeEvent: 'mfa-reset-support' });
    return list.map((email) => {
      const state = JSON.stringify(stateOf(email));
      if (state === JSON.stringify({ credentials: 0, recoveryCodes: 0, devices: 0, openSessions: 0, audit: 1, notices: 1 })) return 'done';
      if (state === JSON.stringify({ credentials: 1, recoveryCodes: 10, devices: 1, openSessions: 1, audit: 0, notices: 0 })) return 'untouched';
      throw new Error(`${email} is half-reset: ${state}`);
    });
  }

  it('a failure in the middle of a chunk rolls the whole chunk back: nobody half-reset; audit and outbox rows equal users done; a rerun finishes', async () => {
    const listFile = path.join(env.HOME as string, 'members.txt');
    writeFileSync(listFile, emails.join('\n') + '\n');
    const victim = member(FAIL_AT).email;
    if (db.dialect === 'sqlite') {
      await knex.raw(
        `CREATE TRIGGER refuse_one_audit BEFORE INSERT ON mfa_audit_events WHEN NEW.target_email = '${victim}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
      );
    } else {
      await knex.raw(
        `CREATE TRIGGER refuse_one_audit BEFORE INSERT ON mfa_audit_events FOR EACH ROW BEGIN IF NEW.target_email = '${victim}' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'; END IF; END`,
      );
    }
    let failed: CliResult;
    try {
      failed = await asSam(['org', 'disable-mfa', '--org', 'acme', '--users-from', listFile, '--ticket', 'SUP-14', '--yes', '--json']);
    } finally {
      await knex.raw('DROP TRIGGER refuse_one_audit');
    }
    expect(failed.code, describeRun(failed)).not.toBe(0);
    expect(failed.stderr.trim().split('\n'), describeRun(failed)).toHaveLength(1);
    const reported = failed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { email: string; outcome: string });
    // the results of the committed chunks, and nothing of the failed one
    expect(reported.map((r) => r.email)).toEqual(emails.slice(0, DONE_BEFORE_FAILURE));
    expect(reported.every((r) => r.outcome === 'disabled')).toBe(true);

    const states = await statesOf(emails);
    expect(states.filter((s) => s === 'done')).toHaveLength(DONE_BEFORE_FAILURE);
    expect(states.slice(0, DONE_BEFORE_FAILURE).every((s) => s === 'done')).toBe(true);
    expect(await count('mfa_audit_events', { action: 'mfa.reset', outcome: 'success' })).toBe(DONE_BEFORE_FAILURE);
    expect(await count('mfa_notifications', { event: 'mfa-reset-support' })).toBe(DONE_BEFORE_FAILURE);

    const rerun = await asSam(['-q', 'org', 'disable-mfa', '--org', 'acme', '--users-from', listFile, '--ticket', 'SUP-14', '--yes', '--json']);
    expect(rerun.code, describeRun(rerun)).toBe(0);
    const outcomes = rerun.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { outcome: string }).outcome);
    expect(outcomes).toEqual([...Array<string>(DONE_BEFORE_FAILURE).fill('already-off'), ...Array<string>(N - DONE_BEFORE_FAILURE).fill('disabled')]);
    expect((await statesOf(emails)).every((s) => s === 'done')).toBe(true);
    expect(await count('mfa_audit_events', { action: 'mfa.reset', outcome: 'success' })).toBe(N);
    expect(await count('mfa_notifications', { event: 'mfa-reset-support' })).toBe(N);
    // each audit row carries that user's own counts
    const detail = await knex('mfa_audit_events')
      .where({ action: 'mfa.reset', outcome: 'success', target_email: member(FAIL_AT).email })
      .first('detail', 'ticket');
    expect(JSON.parse(String(detail.detail))).toEqual({ credentials: 1, recoveryCodes: 10, trustedDevices: 1, sessions: 1 });
    expect(detail.ticket).toBe('SUP-14');
  }, 300_000);

  it('org users and users list, --json and --csv: exactly the report rows, byte for byte', async () => {
    // varied rows: active MFA with a trusted device, a pending enrolment, awkward names
    await seedFullMfa(knex, emails.slice(3, 60), env.PORTAL_MFA_KEY as string);
    const ids = (
      await knex('users')
        .whereIn('email', [member(1).email, member(2).email, member(3).email])
        .orderBy('id')
        .pluck('id')
    ).map(String);
    await knex('mfa_credentials').insert({
      user_id: ids[0],
      status: 'pending',
      secret_ciphertext: 'v1:x',
      key_id: '0000000000000000',
      created_at: 1_700_000_000_123,
      consecutive_failures: 0,
    });
    await knex('users').where('id', ids[1]).update({ name: '=cmd|"quoted", name\nline two' });
    await knex('users').where('id', ids[2]).update({ name: 'Zoë \u202e ünïcode' });
    const r1 = await asSam(['org', 'users', '--org', 'acme', '--json']);
    const r2 = await asSam(['org', 'users', '--org', 'acme', '--csv']);
    const r3 = await asSam(['users', 'list', '--json']);
    const r4 = await asSam(['users', 'list', '--csv']);
    for (const r of [r1, r2, r3, r4]) expect(r.code, describeRun(r)).toBe(0);

    const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(Number(v)).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    const now = Date.now();
    // the organisation is the portal's; its MFA policy is portal-mfa's, under the organisation's id
    const org = { ...(await knex('organisations').where('slug', 'acme').first()) };
    Object.assign(org, await knex('mfa_org_policies').where('organisation_id', String(org.id)).first());
    const devices = new Map<number, number>();
    for (const d of await knex('mfa_trusted_devices').whereNull('revoked_at').select('user_id', 'expires_at')) {
      // the CLI's clock is the test's (within the run): no seeded device is near its expiry
      if (Number(d.expires_at) > now) devices.set(Number(d.user_id), (devices.get(Number(d.user_id)) ?? 0) + 1);
    }
    const creds = new Map<number, { active?: Record<string, unknown>; pending?: Record<string, unknown> }>();
    for (const c of await knex('mfa_credentials').select('*')) {
      const e = creds.get(Number(c.user_id)) ?? {};
      e[c.status as 'active' | 'pending'] = c;
      creds.set(Number(c.user_id), e);
    }
    const mfaOf = (id: number) => (creds.get(id)?.active ? 'active' : creds.get(id)?.pending ? 'pending' : 'none');
    const members = await knex('organisation_members as m')
      .join('users as u', 'u.id', 'm.user_id')
      .where('m.organisation_id', org.id)
      .orderBy('m.user_id')
      .select('m.user_id', 'u.email', 'u.name', 'm.role', 'm.joined_at');
    const grace = org.grace_days ? Number(org.grace_days) * 86_400_000 : null;
    const memberRecords = members.map((m) => {
      const id = Number(m.user_id);
      const a = creds.get(id)?.active;
      const deadline =
        mfaOf(id) === 'active' || grace === null || !org.mfa_required ? null : Math.max(Number(org.mfa_required_since ?? 0), Number(m.joined_at ?? 0)) + grace;
      return {
        email: m.email,
        name: m.name,
        role: m.role,
        mfa: mfaOf(id),
        enrolledAt: iso(a?.created_at),
        lastUsedAt: iso(a?.last_used_at),
        trustedDevices: devices.get(id) ?? 0,
        deadline: iso(deadline),
        active: true,
      };
    });
    expect(r1.stdout).toBe(memberRecords.map((r) => JSON.stringify(r) + '\n').join(''));
    const memberCols = ['email', 'name', 'role', 'mfa', 'enrolledAt', 'lastUsedAt', 'trustedDevices', 'deadline', 'active'] as const;
    expect(r2.stdout).toBe(csvRow([...memberCols]) + memberRecords.map((r) => csvRow(memberCols.map((c) => r[c]))).join(''));

    const slugs = new Map<number, string[]>();
    for (const m of await knex('organisation_members as m')
      .join('organisations as o', 'o.id', 'm.organisation_id')
      .orderBy('o.slug')
      .select('m.user_id', 'o.slug')) {
      slugs.set(Number(m.user_id), [...(slugs.get(Number(m.user_id)) ?? []), String(m.slug)]);
    }
    const users = await knex('users').orderBy('id').select('id', 'email', 'name', 'role');
    const userRecords = users.map((u) => {
      const id = Number(u.id);
      const a = creds.get(id)?.active;
      const c = a ?? creds.get(id)?.pending;
      const locked = c?.hard_locked_at != null ? 'hard' : c?.locked_until != null && Number(c.locked_until) > now ? iso(c.locked_until) : null;
      return {
        email: u.email,
        name: u.name,
        role: u.role,
        mfa: mfaOf(id),
        enrolledAt: iso(a?.created_at),
        lastUsedAt: iso(a?.last_used_at),
        locked,
        organisations: (slugs.get(id) ?? []).join(' '),
        active: true,
      };
    });
    expect(r3.stdout).toBe(userRecords.map((r) => JSON.stringify(r) + '\n').join(''));
    const userCols = ['email', 'name', 'role', 'mfa', 'enrolledAt', 'lastUsedAt', 'locked', 'organisations', 'active'] as const;
    expect(r4.stdout).toBe(csvRow([...userCols]) + userRecords.map((r) => csvRow(userCols.map((c) => r[c]))).join(''));
    expect(r1.stdout.split('\n').length - 1).toBe(N + 5);
  }, 120_000);
});
