/**
 * portal-mfa on a 3-node MariaDB Galera cluster (issue 15): every concurrency guarantee holds when
 * the parallel processes write through different nodes. Process i of a burst uses node i % 3.
 *
 * The cluster is started here, lazily, only for this file (test/support/galeraServer.ts) and
 * stopped after it. Without Galera the suite is skipped with the reason; with CI set it fails.
 *
 * Every CLI run has PORTAL_MFA_DEBUG=1, which prints one `debug:` line per conflict retried
 * (src/db/conflictRetry.ts); the counts per scenario are printed at the end of the file and
 * quoted in docs/operator/databases.md ("How it was measured").
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import knexFactory from 'knex';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyBase64, keyFromBase64 } from '../../src/core/primitives/secretBox.js';
import { describeTarget, parseDatabaseUrl } from '../../src/db/url.js';
import { describeRun, expectOneLineError, makeCliEnv, runCli, type CliResult } from '../support/cli.js';
import { galeraSkipReason, startGaleraCluster, type GaleraCluster } from '../support/galeraServer.js';
import { safeStep, totpAt } from '../support/independentTotp.js';
import { DEVON, ERIN, member, SAM } from '../support/scenario.js';
import { seedFullMfa, startCli } from '../robustness/helpers.js';

let skipReason: string | null;
let ciFailure: string | null = null;
try {
  skipReason = galeraSkipReason();
} catch (e) {
  skipReason = null;
  ciFailure = (e as Error).message;
}

if (ciFailure) {
  describe('Galera cluster', () => {
    it('is required in CI', () => {
      throw new Error(ciFailure!);
    });
  });
} else if (skipReason) {
  describe.skip(`Galera cluster (skipped: ${skipReason})`, () => {
    it('runs portal-mfa on a 3-node cluster', () => {});
  });
} else {
  describe('Galera cluster: guarantees across nodes', () => {
    const DB = 'pmfa_cluster';
    const MEMBERS = 400;
    let cluster: GaleraCluster;
    let knex: Knex;
    let key = '';
    let env: NodeJS.ProcessEnv;
    let secrets = new Map<string, string>();
    const retries: Record<string, { runs: number; retried: number; gaveUp: number; maxAttempt: number }> = {};

    const nodeUrl = (i: number) => `${cluster.nodes[i % cluster.nodes.length]!.appUrl}${DB}`;

    /** Count the debug lines of a burst, and return the result as a user sees it (without them). */
    const record = (scenario: string, r: CliResult): CliResult => {
      retries[scenario] ??= { runs: 0, retried: 0, gaveUp: 0, maxAttempt: 1 };
      const s = retries[scenario];
      s.runs++;
      const lines = r.stderr.split('\n');
      for (const l of lines.filter((x) => x.startsWith('debug: '))) {
        if (l.endsWith('retrying')) s.retried++;
        if (l.endsWith('giving up')) s.gaveUp++;
        const m = /attempt (\d+)\//.exec(l);
        if (m) s.maxAttempt = Math.max(s.maxAttempt, Number(m[1]) + (l.endsWith('retrying') ? 1 : 0));
      }
      return { ...r, stderr: lines.filter((x) => !x.startsWith('debug: ')).join('\n') };
    };
    const cli = (node: number, args: string[], stdin?: string, e: NodeJS.ProcessEnv = env) =>
      runCli(['--db', nodeUrl(node), ...args], { env: e, stdin, timeoutMs: 150_000 });
    const as = (node: number, who: { email: string; password: string }, args: string[], e?: NodeJS.ProcessEnv) =>
      cli(node, ['--as', who.email, '--password-stdin', ...args], `${who.password}\n`, e);
    /**
     * A CLI session for `who` in a fresh home (login on node 1): bursts then run without a password
     * check each. (Parallel sign-ins of one user would meet the password budget, which is taken before
     * each check: more than 10 at once are refused whatever the password.)
     */
    const sessionFor = async (who: { email: string; password: string }, code?: string) => {
      const e = makeCliEnv({ PORTAL_MFA_KEY: key, PORTAL_MFA_DEBUG: '1' }).env;
      const stdin = `${who.password}\n${code === undefined ? '' : `${code}\n`}`;
      const r = record(
        'setup',
        await cli(0, ['login', '--as', who.email, '--password-stdin', ...(code === undefined ? [] : ['--code', '-']), '--json'], stdin, e),
      );
      expect(r.code, describeRun(r)).toBe(0);
      // The local store keys a session by the database URL as given; the token itself is valid on
      // every node. Make it known under each node's URL, as one login per node would.
      const file = path.join(e.XDG_CONFIG_HOME as string, 'portal-mfa', 'sessions.json');
      const store = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      const session = store[describeTarget(parseDatabaseUrl(nodeUrl(0)))];
      expect(session, `no session under node 1's key in ${JSON.stringify(Object.keys(store))}`).toBeDefined();
      for (let i = 1; i < cluster.nodes.length; i++) store[describeTarget(parseDatabaseUrl(nodeUrl(i)))] = session;
      writeFileSync(file, JSON.stringify(store), { mode: 0o600 });
      return e;
    };
    /** n processes at once, process i on node i % 3. */
    const burst = async (scenario: string, n: number, job: (node: number, i: number) => Promise<CliResult>) =>
      (await Promise.all(Array.from({ length: n }, (_, i) => job(i % 3, i)))).map((r) => record(scenario, r));
    const codesOf = (rs: CliResult[]) => rs.map((r) => r.code).sort((a, b) => a - b);
    const count = async (table: string, where: Record<string, unknown>) => Number((await knex(table).where(where).count({ n: '*' }).first())?.n);
    const userId = async (email: string) => Number((await knex('users').where({ email }).first('id')).id);
    const noExit10 = (rs: CliResult[]) => expect(rs.filter((r) => r.code === 10).map(describeRun), 'no database errors').toEqual([]);

    beforeAll(async () => {
      cluster = await startGaleraCluster();
      process.stdout.write(`[galera] 3-node cluster started in ${cluster.startSeconds.toFixed(1)} s (${cluster.timings.join(', ')})\n`);
      const root = await mysql.createConnection({ uri: cluster.nodes[0]!.appUrl });
      await root.query(`CREATE DATABASE ${DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await root.end();
      key = generateKeyBase64();
      env = makeCliEnv({ PORTAL_MFA_KEY: key, PORTAL_MFA_DEBUG: '1' }).env;
      for (const args of [
        ['db', 'migrate'],
        ['demo', '--members', String(MEMBERS)],
      ]) {
        const r = record('setup', await cli(0, args));
        expect(r.code, describeRun(r)).toBe(0);
      }
      // wsrep_sync_wait: the test's own reads see every write the CLI processes made on any node
      // (on node 3: the last test kills node 1)
      knex = knexFactory({ client: 'mysql2', connection: nodeUrl(2), pool: { min: 0, max: 2, afterCreate: syncWait } });
      secrets = await seedFullMfa(knex, [DEVON.email, ...Array.from({ length: MEMBERS }, (_, i) => member(i + 1).email)], key);
    }, 240_000);

    afterAll(async () => {
      await knex?.destroy();
      await cluster?.stop();
      process.stdout.write(`[galera] conflict retries per scenario: ${JSON.stringify(retries)}\n`);
    }, 60_000);

    it('the three nodes form one cluster, and failover passes over a dead first host', async () => {
      const [rows] = (await knex.raw("SHOW STATUS LIKE 'wsrep_cluster_size'")) as [{ Value: string }[]];
      expect(rows[0]!.Value).toBe('3');
      const u = new URL(nodeUrl(1));
      const hosts = `127.0.0.1:1,${u.host}`;
      const r = record(
        'status',
        await runCli(['--verbose', '--db', `mysql://${u.username}:${u.password}@${hosts}${u.pathname}`, 'db', 'status', '--json'], { env }),
      );
      expect(r.code, describeRun(r)).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ host: u.host });
    });

    it('21 parallel verify of one code over three nodes: exactly one success, twenty "already used" (exit 1)', async () => {
      // the code of the next step: accepted (window ±1) for the rest of this step and two more, so a
      // slow burst on a busy machine does not outlive it
      const step = await safeStep(25_000);
      const devon = await sessionFor(DEVON, totpAt(secrets.get(DEVON.email)!, step));
      const code = totpAt(secrets.get(DEVON.email)!, step + 1);
      const id = await userId(DEVON.email);
      // the login's own code is one mfa.verify success already
      const before = await count('mfa_audit_events', { target_user_id: id, action: 'mfa.verify', outcome: 'success' });
      const rs = await burst('verify one code', 21, (node) => cli(node, ['verify', '--code', code, '--json'], undefined, devon));
      noExit10(rs);
      expect(
        codesOf(rs),
        rs
          .filter((r) => r.code !== 0 && r.code !== 1)
          .map(describeRun)
          .join('\n'),
      ).toEqual([0, ...Array<number>(20).fill(1)]);
      for (const r of rs.filter((x) => x.code === 1)) expectOneLineError(r, 1, /already been used/);
      expect(await count('mfa_audit_events', { target_user_id: id, action: 'mfa.verify', outcome: 'success' })).toBe(before + 1);
    }, 240_000);

    it('21 parallel wrong codes over three nodes: exactly maxFailures (5) "wrong code" answers, the rest locked (exit 4)', async () => {
      const target = member(1);
      const secret = secrets.get(target.email)!;
      const step = await safeStep(10_000);
      const valid = new Set([-2, -1, 0, 1, 2].map((d) => totpAt(secret, step + d)));
      const wrong: string[] = [];
      for (let n = 0; wrong.length < 21; n++) {
        const c = String((123457 + n * 7919) % 1_000_000).padStart(6, '0');
        if (!valid.has(c)) wrong.push(c);
      }
      const sam = await sessionFor(SAM);
      const rs = await burst('wrong codes', 21, (node, i) => cli(node, ['verify', '--user', target.email, '--code', wrong[i]!], undefined, sam));
      noExit10(rs);
      expect(codesOf(rs), rs.map(describeRun).join('\n')).toEqual([...Array<number>(5).fill(1), ...Array<number>(16).fill(4)]);
      for (const r of rs.filter((x) => x.code === 1)) expectOneLineError(r, 1, /wrong code/);
      for (const r of rs.filter((x) => x.code === 4)) expectOneLineError(r, 4, /locked/);
      const cred = await knex('mfa_credentials')
        .where({ user_id: await userId(target.email) })
        .first();
      expect(Number(cred.locked_until)).toBeGreaterThan(Date.now());
    }, 240_000);

    // 9, not 21: each process hashes the code against ten scrypt hashes (CPU-heavy on a small machine)
    // A spent recovery code counts as a failed attempt (unlike a replayed TOTP code): after five the
    // user is locked, so the answers are 1 success, 5 refused (exit 1), 3 locked (exit 4).
    it('one recovery code used by 9 parallel processes over three nodes: one success, the rest refused or locked', async () => {
      // enrol erin for real (node 1) to get real recovery codes
      const start = record('setup', await as(0, ERIN, ['enroll', '--no-confirm', '--json']));
      expect(start.code, describeRun(start)).toBe(0);
      const secret = (JSON.parse(start.stdout) as { secret: string }).secret;
      const confirm = record('setup', await as(0, ERIN, ['enroll', '--confirm', totpAt(secret, await safeStep(5_000)), '--json']));
      expect(confirm.code, describeRun(confirm)).toBe(0);
      const recovery = (JSON.parse(confirm.stdout) as { recoveryCodes: string[] }).recoveryCodes;
      const rs = await burst('recovery code', 9, (node) => as(node, ERIN, ['verify', '--recovery-code', recovery[0]!, '--json']));
      noExit10(rs);
      expect(codesOf(rs), rs.map(describeRun).join('\n')).toEqual([0, ...Array<number>(5).fill(1), ...Array<number>(3).fill(4)]);
      expect(JSON.parse(rs.find((r) => r.code === 0)!.stdout)).toMatchObject({ valid: true, recoveryCodesLeft: 9 });
      const id = await userId(ERIN.email);
      expect(await count('mfa_recovery_codes', { user_id: id })).toBe(10);
      expect(Number((await knex('mfa_recovery_codes').where({ user_id: id }).whereNotNull('used_at').count({ n: '*' }).first())?.n)).toBe(1);
    }, 240_000);

    it('9 parallel support resets of one user over three nodes: one success, eight exit 6 (MFA not enabled)', async () => {
      const target = member(2);
      const rs = await burst('disable', 9, (node) => as(node, SAM, ['disable', '--user', target.email, '--ticket', 'SUP-15', '--yes']));
      noExit10(rs);
      expect(codesOf(rs), rs.map(describeRun).join('\n')).toEqual([0, ...Array<number>(8).fill(6)]);
      for (const r of rs.filter((x) => x.code === 6)) expectOneLineError(r, 6, /not enabled|already off|changed by another process/i);
      const id = await userId(target.email);
      expect(await count('mfa_credentials', { user_id: id })).toBe(0);
      expect(await count('mfa_recovery_codes', { user_id: id })).toBe(0);
    }, 240_000);

    it('bulk org disable-mfa --users-from, three runs at once over three nodes: every user disabled exactly once, per-user results', async () => {
      const users = Array.from({ length: 20 }, (_, i) => member(10 + i).email);
      const file = path.join(env.HOME as string, 'users.txt');
      writeFileSync(file, users.join('\n') + '\n');
      const rs = await burst('bulk disable', 3, (node) =>
        as(node, SAM, ['org', 'disable-mfa', '--org', 'acme', '--users-from', file, '--ticket', 'SUP-15', '--yes', '--json']),
      );
      noExit10(rs);
      const perUser = new Map<string, string[]>();
      for (const r of rs) {
        // "already-off" is a success (a re-run of a finished batch succeeds)
        expect(r.code, describeRun(r)).toBe(0);
        const lines = r.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { email: string; outcome: string });
        expect(lines.map((l) => l.email)).toEqual(users);
        for (const l of lines) perUser.set(l.email, [...(perUser.get(l.email) ?? []), l.outcome]);
      }
      for (const u of users) expect(perUser.get(u)!.sort(), u).toEqual(['already-off', 'already-off', 'disabled']);
      const ids = (await knex('users').whereIn('email', users).pluck('id')).map(Number);
      expect(Number((await knex('mfa_credentials').whereIn('user_id', ids).count({ n: '*' }).first())?.n)).toBe(0);
    }, 240_000);

    it('21 parallel clock diagnoses over three nodes: exactly the hourly budget (10) answered, the rest rate-limited (exit 4)', async () => {
      const target = member(5);
      const secret = secrets.get(target.email)!;
      // a code of 7½ minutes ago: within the ±10 min search, matched, long burnt — no failure counted
      const now = await safeStep(10_000);
      const session = await sessionFor(target, totpAt(secret, now));
      const code = totpAt(secret, now - 15);
      const rs = await burst('diagnose limit', 21, (node) => cli(node, ['verify', '--diagnose', '--code', code, '--json'], undefined, session));
      noExit10(rs);
      expect(
        codesOf(rs),
        rs
          .filter((r) => r.code !== 0 && r.code !== 4)
          .map(describeRun)
          .join('\n'),
      ).toEqual([...Array<number>(10).fill(0), ...Array<number>(11).fill(4)]);
      // (the burst takes a while: by the time a process runs, the code is 15 or more steps old)
      for (const r of rs.filter((x) => x.code === 0)) {
        const d = JSON.parse(r.stdout) as { matched: boolean; driftSteps: number };
        expect(d.matched, r.stdout).toBe(true);
        expect(d.driftSteps, r.stdout).toBeLessThanOrEqual(-15);
      }
      for (const r of rs.filter((x) => x.code === 4)) expectOneLineError(r, 4, /too many clock diagnoses/);
    }, 240_000);

    it('one temporary access code, 9 parallel logins over three nodes: exactly one session', async () => {
      const target = member(6);
      const issued = record('setup', await as(0, SAM, ['access-code', 'issue', '--user', target.email, '--ticket', 'SUP-15', '--yes', '--json']));
      expect(issued.code, describeRun(issued)).toBe(0);
      const accessCode = (JSON.parse(issued.stdout) as { accessCode: string }).accessCode;
      const rs = await burst('access code', 9, (node) =>
        cli(
          node,
          ['login', '--as', target.email, '--password-stdin', '--code', '-', '--json'],
          `${target.password}\n${accessCode}\n`,
          makeCliEnv({ PORTAL_MFA_KEY: key, PORTAL_MFA_DEBUG: '1' }).env,
        ),
      );
      noExit10(rs);
      const codes = codesOf(rs);
      expect(
        codes.filter((c) => c === 0),
        rs.map(describeRun).join('\n'),
      ).toHaveLength(1);
      for (const r of rs.filter((x) => x.code !== 0)) expect([1, 4], describeRun(r)).toContain(r.code);
      expect(JSON.parse(rs.find((r) => r.code === 0)!.stdout)).toMatchObject({ secondFactor: 'access-code' });
      const id = await userId(target.email);
      // one new session beside the seeded one; the code's single use is spent
      expect(await count('mfa_sessions', { user_id: id })).toBe(2);
      expect(Number((await knex('mfa_access_codes').where({ user_id: id }).first('uses_left')).uses_left)).toBe(0);
    }, 240_000);

    it('keys rotate started on three nodes at once: the rotations never overlap (the lock), no database errors, every secret under one key', async () => {
      const home = env.HOME as string;
      const newKeys = [generateKeyBase64(), generateKeyBase64(), generateKeyBase64()];
      const files = newKeys.map((k, i) => {
        const f = path.join(home, `new-${i}.key`);
        writeFileSync(f, `${k}\n`, { mode: 0o600 });
        return f;
      });
      // every process can read rows under any of the keys, so a rotation that starts after another
      // finished is legitimate; what must never happen is two running at once
      const keyring = { ...env, PORTAL_MFA_KEY: [key, ...newKeys].join(',') };
      const rs = await burst('keys rotate', 3, (node, i) => cli(node, ['keys', 'rotate', '--yes', '--new-key-file', files[i]!, '--json'], undefined, keyring));
      noExit10(rs);
      for (const r of rs) {
        expect([0, 6], describeRun(r)).toContain(r.code);
        if (r.code === 6) expectOneLineError(r, 6, /another key rotation is running/);
      }
      expect(rs.some((r) => r.code === 0)).toBe(true);
      const events = (await knex('mfa_audit_events')
        .where({ action: 'keys.rotate' })
        .whereIn('outcome', ['started', 'success'])
        .orderBy('occurred_at')
        .select('outcome', 'detail')) as {
        outcome: string;
        detail: string;
      }[];
      // started/success pairs of one key each, never interleaved
      for (let i = 0; i < events.length; i += 2) {
        expect([events[i]!.outcome, events[i + 1]?.outcome]).toEqual(['started', 'success']);
        expect(JSON.parse(events[i]!.detail).newKeyId).toBe(JSON.parse(events[i + 1]!.detail).newKeyId);
      }
      const keyIds = (await knex('mfa_credentials').distinct('key_id').pluck('key_id')).map(String);
      const winners = rs.map((r, i) => (r.code === 0 ? keyFromBase64(newKeys[i]!).id : null)).filter(Boolean);
      expect(keyIds).toHaveLength(1);
      expect(winners).toContain(keyIds[0]);
      expect(await count('mfa_maintenance_locks', { name: 'keys.rotate' })).toBe(0);
    }, 180_000);

    it('a node killed during a bulk run: nobody half-reset, the run says it stopped, a re-run through the host list completes the rest', async () => {
      const users = Array.from({ length: 150 }, (_, i) => member(100 + i).email);
      const file = path.join(env.HOME as string, 'users-kill.txt');
      writeFileSync(file, users.join('\n') + '\n');
      const hosts = cluster.nodes.map((n) => new URL(n.appUrl).host);
      const u = new URL(cluster.nodes[0]!.appUrl);
      const listUrl = `mysql://${u.username}:${u.password}@${hosts.join(',')}/${DB}`;
      const args = [
        '--verbose',
        '--db',
        listUrl,
        '--as',
        SAM.email,
        '--password-stdin',
        'org',
        'disable-mfa',
        '--org',
        'acme',
        '--users-from',
        file,
        '--ticket',
        'SUP-15',
        '--yes',
        '--json',
      ];
      const run = startCli(args, { env, stdin: `${SAM.password}\n` });
      await run.waitForLines(10, 120_000);
      await cluster.nodes[0]!.kill();
      const done = await run.done;
      const first = record('node killed', { code: done.code ?? 1, stdout: run.stdout(), stderr: run.stderr() });
      expect(first.stderr).toContain(`using the database server at ${hosts[0]}`);
      // it stopped with one clear line (or, if the kill came after its last user, finished)
      if (first.code !== 0) {
        expect(first.code, describeRun(first)).toBe(10);
        const last = JSON.parse(first.stderr.trim().split('\n').pop()!) as { error: { message: string; exitCode: number } };
        expect(last.error.message).toMatch(/^lost the connection to the database server|^cannot connect/);
      }
      const reported = first.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { email: string; outcome: string });
      expect(reported.length).toBeGreaterThanOrEqual(10);

      // nobody half-reset: every user has either all MFA rows or none
      const ids = (await knex('users').whereIn('email', users).pluck('id')).map(Number);
      const creds = new Set((await knex('mfa_credentials').whereIn('user_id', ids).pluck('user_id')).map(Number));
      const codes = new Set((await knex('mfa_recovery_codes').whereIn('user_id', ids).pluck('user_id')).map(Number));
      const devices = new Set((await knex('mfa_trusted_devices').whereIn('user_id', ids).whereNull('revoked_at').pluck('user_id')).map(Number));
      for (const id of ids) expect([creds.has(id), codes.has(id), devices.has(id)], `user ${id}`).toSatisfy((v: boolean[]) => v.every((x) => x === v[0]));
      for (const r of reported) expect(r.outcome).toBe('disabled');

      // the re-run passes over the dead node and finishes the job
      const again = record('node killed', await runCli(args, { env, stdin: `${SAM.password}\n`, timeoutMs: 150_000 }));
      expect(again.code, describeRun(again)).toBe(0);
      expect(again.stderr).toContain(`passed over ${hosts[0]}: connection refused`);
      const second = again.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { email: string; outcome: string });
      expect(second).toHaveLength(users.length);
      for (const r of second) expect(['disabled', 'already-off']).toContain(r.outcome);
      const doneBefore = new Set(reported.map((r) => r.email));
      for (const r of second) if (doneBefore.has(r.email)) expect(r.outcome, r.email).toBe('already-off');
      expect(Number((await knex('mfa_credentials').whereIn('user_id', ids).count({ n: '*' }).first())?.n)).toBe(0);
    }, 240_000);
  });
}

/** Reads that must see the latest write from any node wait for it (docs/operator/databases.md, "What to configure"). */
function syncWait(conn: { query: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void): void {
  conn.query('SET SESSION wsrep_sync_wait = 1', (err) => done(err, conn));
}
