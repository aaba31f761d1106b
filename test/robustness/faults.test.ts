/**
 * Faults (robustness, item 3):
 * - the MariaDB server SIGKILLed (own throw-away server) while a bulk write is half-way through a
 *   transaction and a read is waiting on the server (both held there by a table lock another
 *   session takes) → exit 10 with one line naming the server; afterwards "connection refused";
 * - a bulk `org disable-mfa` SIGKILLed part-way (both databases) → every user is either fully
 *   reset (secret, recovery codes, trusted devices gone, sessions ended, one audit row) or
 *   untouched, and the reset ones are exactly a prefix of the list; a rerun finishes the job;
 * - a read-only SQLite file (chattr +i: we run as root, so file modes would not stop us) and a
 *   "full" one (RLIMIT_FSIZE via prlimit: the write fails with EFBIG just as on a full disk;
 *   Node ignores SIGXFSZ) → exit 10 with one line naming the file, nothing half-written;
 * - a database migrated by a newer version → every command refuses, naming the migration
 *   (test/e2e/foundation.test.ts covers demo and the db commands; this covers the rest).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyBase64 } from '../../src/core/primitives/secretBox.js';
// Fault injection that acts on the process (SIGKILL, a file-size limit, a server killed under it)
// starts real processes (startCli, runRaw); set-up runs, re-runs and faults of the data itself (a
// read-only file, a newer schema) run in-process (runCli): there the process is not the point.
import { BIN, describeRun, expectOneLineError, makeCliEnv, runCli, type CliResult } from '../support/cli.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.js';
import { mariadbUnavailableReason, startMariadb, type MariadbServer } from '../support/mariadbServer.js';
import {
  captureState,
  connect,
  expectNoControlChars,
  expectStateUnchanged,
  inBatches,
  resetStateByEmail,
  runRaw,
  seedFullMfa,
  sqliteFile,
  startCli,
} from './helpers.js';
import { DEVON, member, SAM } from '../support/scenario.js';

const asSam = ['--as', SAM.email, '--password-stdin'];

/** Each listed user is fully reset or untouched, and the reset ones are the first k of the list. */
async function expectAllOrNothing(knex: Knex, emails: string[]): Promise<{ reset: number; untouched: number }> {
  // support (with a ticket) runs these bulk resets: audited as mfa.reset
  const stateOf = await resetStateByEmail(knex, emails);
  const states: ('reset' | 'untouched')[] = [];
  for (const email of emails) {
    const state = JSON.stringify(stateOf(email));
    if (state === JSON.stringify({ credentials: 0, recoveryCodes: 0, devices: 0, openSessions: 0, audit: 1 })) states.push('reset');
    else if (state === JSON.stringify({ credentials: 1, recoveryCodes: 10, devices: 1, openSessions: 1, audit: 0 })) states.push('untouched');
    else throw new Error(`${email} is half-reset: ${state}`);
  }
  const reset = states.filter((s) => s === 'reset').length;
  expect(
    states.slice(0, reset).every((s) => s === 'reset'),
    `the reset users must be the first ${reset} of the list: ${states.join(',')}`,
  ).toBe(true);
  return { reset, untouched: states.length - reset };
}

describeEachDatabase('a bulk org disable-mfa SIGKILLed part-way', (getDb) => {
  // The bulk works in chunks, one transaction each, of 20, 40, 80 … up to 500 users. The kill comes
  // once the first results are out, i.e. after the second chunk (60 users; 60 reset in every
  // measured run): 400 users leave three more chunks, so it lands mid-transaction with room to
  // spare (`untouched > 0` below says so if it ever does not).
  const N = 400;
  const emails = Array.from({ length: N }, (_, i) => member(i + 1).email);
  let knex: Knex;
  let env: NodeJS.ProcessEnv;
  let url = '';
  let listFile = '';

  beforeAll(async () => {
    const db = getDb();
    url = db.url;
    const keyB64 = generateKeyBase64();
    env = makeCliEnv({ PORTAL_MFA_KEY: keyB64 }).env;
    for (const args of [
      ['db', 'migrate'],
      ['demo', '--members', String(N)],
    ]) {
      const r = await runCli(['--db', url, ...args], { env, timeoutMs: 120_000 });
      expect(r.code, describeRun(r)).toBe(0);
    }
    knex = connect(db);
    await seedFullMfa(knex, emails, keyB64);
    listFile = path.join(env.HOME as string, 'members.txt');
    writeFileSync(listFile, emails.join('\n') + '\n');
  }, 180_000);

  afterAll(async () => {
    await knex?.destroy();
  });

  it('every user is fully reset (with its audit row) or untouched; a rerun finishes the job', async () => {
    const bulk = startCli(['--db', url, ...asSam, 'org', 'disable-mfa', '--org', 'acme', '--users-from', listFile, '--ticket', 'SUP-1', '--yes', '--json'], {
      env,
      stdin: `${SAM.password}\n`,
    });
    await bulk.waitForLines(25, 90_000);
    bulk.child.kill('SIGKILL');
    const { signal } = await bulk.done;
    expect(signal).toBe('SIGKILL');
    const reported = bulk.lines.map((l) => JSON.parse(l) as { email: string; outcome: string });
    expect(reported.every((r) => r.outcome === 'disabled')).toBe(true);

    const { reset, untouched } = await expectAllOrNothing(knex, emails);
    expect(reset, 'every user reported as disabled was committed').toBeGreaterThanOrEqual(reported.length);
    expect(untouched, 'the kill came too late to interrupt anything; raise N').toBeGreaterThan(0);
    if (getDb().dialect === 'sqlite') {
      expect(await knex.raw('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    }

    const rerun = await runCli(
      ['--db', url, ...asSam, '-q', 'org', 'disable-mfa', '--org', 'acme', '--users-from', listFile, '--ticket', 'SUP-1', '--yes', '--json'],
      {
        env,
        stdin: `${SAM.password}\n`,
        timeoutMs: 180_000,
      },
    );
    // users already reset are `already-off`, which does not fail the run
    expect(rerun.code, describeRun(rerun)).toBe(0);
    const outcomes = rerun.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { outcome: string }).outcome);
    expect(outcomes).toEqual([...Array<string>(reset).fill('already-off'), ...Array<string>(N - reset).fill('disabled')]);
    expect(await expectAllOrNothing(knex, emails)).toEqual({ reset: N, untouched: 0 });
  }, 240_000);
});

const ownServerSkip = process.env.PORTAL_MFA_TEST_MYSQL_URL
  ? 'PORTAL_MFA_TEST_MYSQL_URL points at a server this test must not kill'
  : mariadbUnavailableReason();

describe.skipIf(ownServerSkip)(
  `the MariaDB server SIGKILLed in the middle of commands [mysql, own server]${ownServerSkip ? ` (skipped: ${ownServerSkip})` : ''}`,
  () => {
    let server: MariadbServer | undefined;
    let serverPid = 0;
    let url = '';
    let env: NodeJS.ProcessEnv;
    let listFile = '';
    // enough chunks (one transaction of up to 500 users each) that the bulk is still running when the table is locked
    const N = 3000;

    beforeAll(async () => {
      server = await startMariadb();
      const admin = await mysql.createConnection({ uri: server.appUrl });
      try {
        await admin.query('CREATE DATABASE pmfa_fault CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
        const [rows] = await admin.query<mysql.RowDataPacket[]>("SHOW VARIABLES LIKE 'pid_file'");
        serverPid = Number(readFileSync(String(rows[0]!.Value), 'utf8').trim());
      } finally {
        await admin.end();
      }
      expect(serverPid).toBeGreaterThan(1);
      url = `${server.appUrl}pmfa_fault`;
      const keyB64 = generateKeyBase64();
      env = makeCliEnv({ PORTAL_MFA_KEY: keyB64 }).env;
      for (const args of [
        ['db', 'migrate'],
        ['demo', '--members', String(N)],
      ]) {
        const r = await runCli(['--db', url, ...args], { env, timeoutMs: 120_000 });
        expect(r.code, describeRun(r)).toBe(0);
      }
      const knex = knexFactory({ client: 'mysql2', connection: url });
      try {
        await seedFullMfa(
          knex,
          Array.from({ length: N }, (_, i) => member(i + 1).email),
          keyB64,
        );
      } finally {
        await knex.destroy();
      }
      listFile = path.join(env.HOME as string, 'members.txt');
      writeFileSync(listFile, Array.from({ length: N }, (_, i) => member(i + 1).email).join('\n') + '\n');
    }, 180_000);

    afterAll(async () => {
      await server?.stop();
    });

    it('a bulk write mid-transaction and a read waiting on the server: exit 10, one line naming the server; then connection refused', async () => {
      const where = new RegExp(`127\\.0\\.0\\.1:${server!.port}`);
      const bulk = startCli(['--db', url, ...asSam, 'org', 'disable-mfa', '--org', 'acme', '--users-from', listFile, '--ticket', 'SUP-1', '--yes', '--json'], {
        env,
        stdin: `${SAM.password}\n`,
      });
      await bulk.waitForLines(10, 90_000);
      // Certainly in flight: another session locks a table; the bulk's next transaction stops half-way
      // (its credentials deleted, waiting to count — under a lock — and delete the chunk's trusted
      // devices) and a read waits for the same table.
      const locker = await mysql.createConnection({ uri: url });
      locker.on('error', () => {});
      await locker.query('LOCK TABLES mfa_trusted_devices WRITE');
      const read = startCli(['--db', url, ...asSam, 'org', 'users', '--org', 'acme', '--json'], { env, stdin: `${SAM.password}\n` });
      const deadline = Date.now() + 60_000;
      for (;;) {
        const [rows] = await locker.query<mysql.RowDataPacket[]>(
          "SELECT IF(info LIKE '%for update%' OR info LIKE 'delete%', 'bulk', LOWER(LEFT(info, 6))) AS verb FROM information_schema.processlist WHERE info LIKE '%trusted_devices%' AND state LIKE '%lock%' AND id <> CONNECTION_ID()",
        );
        const verbs = rows.map((x) => String(x.verb));
        if (verbs.includes('select') && verbs.includes('bulk')) break;
        expect(Date.now() < deadline, `the read and the bulk never both waited on the server (${verbs.join(',')})\n${read.stderr()}\n${bulk.stderr()}`).toBe(
          true,
        );
        await new Promise((r) => setTimeout(r, 20));
      }

      process.kill(serverPid, 'SIGKILL');
      const [b, r] = await Promise.all([bulk.done, read.done]);
      await locker.end().catch(() => {});

      const asResult = (x: typeof bulk, done: { code: number | null }): CliResult => ({ code: done.code ?? -1, stdout: x.stdout(), stderr: x.stderr() });
      const bulkResult = asResult(bulk, b);
      expectOneLineError(bulkResult, 10, /lost the connection|cannot connect/);
      expect(bulkResult.stderr, describeRun(bulkResult)).toMatch(where);
      expect(bulkResult.stderr).not.toContain('pmfa-test-pw');
      expect(bulk.lines.every((l) => (JSON.parse(l) as { outcome: string }).outcome === 'disabled')).toBe(true);
      const readResult = asResult(read, r);
      expectOneLineError(readResult, 10, /lost the connection|cannot connect/);
      expect(readResult.stderr, describeRun(readResult)).toMatch(where);
      expect(readResult.stdout).toBe('');

      const after = await runCli(['--db', url, ...asSam, 'status'], { env, stdin: `${SAM.password}\n` });
      expectOneLineError(after, 10, /connection refused/);
      expect(after.stderr).toMatch(where);
    }, 120_000);
  },
);

let chattrSkip: string | false = false;
try {
  const probeDir = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-chattr-'));
  const probe = path.join(probeDir, 'probe');
  writeFileSync(probe, '');
  try {
    execFileSync('chattr', ['+i', probe], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', probe], { stdio: 'ignore' });
  } catch {
    chattrSkip = process.getuid?.() === 0 ? 'chattr +i is not available here and root ignores file modes' : false;
  }
  rmSync(probeDir, { recursive: true, force: true });
} catch {
  chattrSkip = 'cannot probe chattr';
}
const useChattr = chattrSkip === false && process.getuid?.() === 0;
let prlimitSkip: string | false = false;
try {
  execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
} catch {
  prlimitSkip = 'prlimit (util-linux) is not installed';
}

describe('an unwritable or full SQLite file [sqlite]', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let url = '';
  let file = '';
  const N = 150;
  const emails = Array.from({ length: N }, (_, i) => member(i + 1).email);

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    url = db.url;
    file = sqliteFile(db);
    env = makeCliEnv({ PORTAL_MFA_KEY: generateKeyBase64() }).env;
    for (const args of [
      ['db', 'migrate'],
      ['demo', '--members', String(N)],
    ]) {
      const r = await runCli(['--db', url, ...args], { env, timeoutMs: 120_000 });
      expect(r.code, describeRun(r)).toBe(0);
    }
    const knex = connect(db);
    try {
      await seedFullMfa(knex, [DEVON.email, ...emails], env.PORTAL_MFA_KEY as string);
    } finally {
      await knex.destroy();
    }
  }, 120_000);

  afterAll(async () => {
    for (const p of [file, path.dirname(file)]) {
      try {
        if (useChattr) execFileSync('chattr', ['-i', p], { stdio: 'ignore' });
      } catch {
        /* already writable */
      }
    }
    await db?.drop();
  });

  /** Make the file (and, with dir, its directory) immutable or read-only while fn runs. */
  async function readOnly<T>(dir: boolean, fn: () => Promise<T>): Promise<T> {
    const targets = dir ? [file, path.dirname(file)] : [file];
    if (useChattr) for (const t of targets) execFileSync('chattr', ['+i', t]);
    else for (const t of targets) execFileSync('chmod', ['a-w', t]);
    try {
      return await fn();
    } finally {
      if (useChattr) for (const t of [...targets].reverse()) execFileSync('chattr', ['-i', t]);
      else for (const t of [...targets].reverse()) execFileSync('chmod', ['u+w', t]);
    }
  }

  it.skipIf(chattrSkip)(
    `read-only: reads still work; every write is exit 10 naming the file as read-only; nothing changes${chattrSkip ? ` (skipped: ${chattrSkip})` : ''}`,
    async () => {
      for (const dir of [false, true]) {
        const knex = connect(db);
        const before = await captureState(knex, db);
        await knex.destroy();
        const results = await readOnly(dir, () =>
          inBatches(
            [
              { name: 'status (read)', args: [...asSam, 'status', '--user', DEVON.email, '--json'], stdin: `${SAM.password}\n`, code: 0 },
              { name: 'support reset', args: [...asSam, 'disable', '--user', DEVON.email, '--ticket', 'T-1', '--yes'], stdin: `${SAM.password}\n`, code: 10 },
              {
                name: 'a wrong code (failure count)',
                args: [...asSam, 'verify', '--user', DEVON.email, '--code', '000000'],
                stdin: `${SAM.password}\n`,
                code: 10,
              },
              { name: 'login (session row)', args: [...asSam, 'login'], stdin: `${SAM.password}\n`, code: 10 },
              { name: 'demo (bulk insert)', args: ['demo', '--reset', '--yes'], code: 10 },
            ],
            3,
            async (c) => ({ c, r: await runCli(['--db', url, ...c.args], { env, stdin: c.stdin, timeoutMs: 60_000 }) }),
          ),
        );
        for (const { c, r } of results) {
          const what = `${c.name}${dir ? ' (file and directory read-only)' : ''}`;
          // with the directory read-only too, WAL mode cannot create its -shm index: even reads get a clear exit 10
          if (c.code === 0 && !dir) {
            expect(r.code, `${what}\n${describeRun(r)}`).toBe(0);
            continue;
          }
          try {
            expectOneLineError(r, 10, dir ? /read-only|cannot open .*writable/ : /is read-only/);
            expect(r.stderr, 'names the file').toContain(file);
            expectNoControlChars(r);
          } catch (e) {
            (e as Error).message = `${what}: ${(e as Error).message}`;
            throw e;
          }
        }
        expect(existsSync(path.join(env.XDG_CONFIG_HOME as string, 'portal-mfa', 'sessions.json')), 'no local session without a database row').toBe(false);
        const knex2 = connect(db);
        try {
          // a wrong code that could not be counted must not be counted later either
          expectStateUnchanged(before, await captureState(knex2, db), `read-only${dir ? ' file and directory' : ' file'}`, []);
          expect(await knex2.raw('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
        } finally {
          await knex2.destroy();
        }
      }
    },
    120_000,
  );

  it.skipIf(prlimitSkip)(
    `full: a bulk disable that hits the file-size limit stops with exit 10 naming the file; each user all or nothing${prlimitSkip ? ` (skipped: ${prlimitSkip})` : ''}`,
    async () => {
      const listFile = path.join(env.HOME as string, 'members.txt');
      writeFileSync(listFile, emails.join('\n') + '\n');
      // checkpoint and remove any -wal first; then the limit leaves room for the -shm index and a few transactions
      const k0 = connect(db);
      await k0.raw('PRAGMA wal_checkpoint(TRUNCATE)');
      await k0.destroy();
      expect(existsSync(`${file}-wal`)).toBe(false);
      const limit = statSync(file).size + 8192;
      const argv = ['--db', url, ...asSam, '-q', 'org', 'disable-mfa', '--org', 'acme', '--users-from', listFile, '--ticket', 'SUP-1', '--yes', '--json'];
      const full = await runRaw('prlimit', [`--fsize=${limit}`, process.execPath, BIN, ...argv], { env, stdin: `${SAM.password}\n`, timeoutMs: 120_000 });
      expectOneLineError(full, 10, /cannot write|is full/);
      expect(full.stderr, 'names the file').toContain(file);
      expect(full.stderr, 'says what to fix').toMatch(/space|full/);
      const reported =
        full.stdout.trim() === ''
          ? []
          : full.stdout
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l) as { outcome: string });
      expect(
        reported.every((x) => x.outcome === 'disabled'),
        describeRun(full),
      ).toBe(true);

      const knex = connect(db);
      try {
        const { reset, untouched } = await expectAllOrNothing(knex, emails);
        expect(reset).toBe(reported.length);
        expect(untouched, 'the limit was never reached; lower it').toBeGreaterThan(0);
        expect(await knex.raw('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);

        // with room again, the same command finishes the job
        const rerun = await runCli(argv, { env, stdin: `${SAM.password}\n`, timeoutMs: 120_000 });
        // the users already reset are `already-off`, which does not fail the run
        expect(rerun.code, describeRun(rerun)).toBe(0);
        expect(await expectAllOrNothing(knex, emails)).toEqual({ reset: N, untouched: 0 });
      } finally {
        await knex.destroy();
      }
    },
    240_000,
  );
});

describeEachDatabase('a database migrated by a newer portal-mfa', (getDb) => {
  const FUTURE = '29991231000000_from_the_future';
  let knex: Knex;
  let env: NodeJS.ProcessEnv;
  let url = '';

  beforeAll(async () => {
    const db = getDb();
    url = db.url;
    env = makeCliEnv({ PORTAL_MFA_KEY: generateKeyBase64() }).env;
    for (const args of [['db', 'migrate'], ['demo']]) {
      const r = await runCli(['--db', url, ...args], { env, timeoutMs: 120_000 });
      expect(r.code, describeRun(r)).toBe(0);
    }
    knex = connect(db);
    await seedFullMfa(knex, [DEVON.email], env.PORTAL_MFA_KEY as string);
    await knex('mfa_knex_migrations').insert({ name: FUTURE, batch: 99, migration_time: new Date() });
  }, 120_000);

  afterAll(async () => {
    await knex?.destroy();
  });

  it('every command refuses with exit 10 naming the migration, before reading input or changing anything', async () => {
    const before = await captureState(knex, getDb());
    const keyFile = path.join(env.HOME as string, 'new.key');
    writeFileSync(keyFile, `${generateKeyBase64()}\n`, { mode: 0o600 });
    const commands: string[][] = [
      ['status'],
      ['verify', '--user', DEVON.email, '--code', '123456'],
      ['enroll', '--no-confirm'],
      ['login'],
      ['devices', 'list'],
      ['devices', 'revoke', '--all', '--yes'],
      ['disable', '--user', DEVON.email, '--ticket', 'T-1', '--yes'],
      ['recovery-codes', 'regenerate'],
      ['replace', '--code', '123456', '--no-confirm'],
      ['org', 'list'],
      ['org', 'users', '--org', 'acme'],
      ['org', 'policy', '--org', 'acme', '--no-require', '--yes'],
      ['org', 'disable-mfa', '--org', 'acme', '--user', DEVON.email, '--ticket', 'T-1', '--yes'],
      ['audit'],
      ['keys', 'rotate', '--yes', '--new-key-file', keyFile],
    ];
    const results = await inBatches(commands, 4, async (args) => ({
      args,
      r: await runCli(['--db', url, ...asSam, ...args], { env, stdin: `${SAM.password}\n`, timeoutMs: 60_000 }),
    }));
    for (const { args, r } of results) {
      try {
        expectOneLineError(r, 10, new RegExp(`newer version of portal-mfa.*${FUTURE}`));
        expect(r.stdout).toBe('');
      } catch (e) {
        (e as Error).message = `${args.join(' ')}: ${(e as Error).message}`;
        throw e;
      }
    }
    expectStateUnchanged(before, await captureState(knex, getDb()), 'newer schema', []);
  }, 120_000);
});

describe('the embedded default database migrated by a newer portal-mfa [sqlite]', () => {
  it('is refused, not auto-migrated', async () => {
    const cli = makeCliEnv();
    const first = await runCli(['demo'], { env: cli.env, timeoutMs: 60_000 });
    expect(first.code, describeRun(first)).toBe(0);
    const file = path.join(cli.env.XDG_DATA_HOME as string, 'portal-mfa', 'portal.db');
    const knex = knexFactory({ client: 'better-sqlite3', connection: { filename: file }, useNullAsDefault: true });
    try {
      await knex('mfa_knex_migrations').insert({ name: '29991231000000_from_the_future', batch: 99, migration_time: Date.now() });
      const before = await knex('mfa_knex_migrations').count({ n: '*' }).first();
      const r = await runCli(['status', '--as', SAM.email, '--password-stdin'], { env: cli.env, stdin: `${SAM.password}\n` });
      expectOneLineError(r, 10, /newer version of portal-mfa.*29991231000000_from_the_future/);
      expect(await knex('mfa_knex_migrations').count({ n: '*' }).first()).toEqual(before);
    } finally {
      await knex.destroy();
    }
  });
});
