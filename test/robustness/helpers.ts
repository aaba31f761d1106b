/**
 * Shared helpers for the robustness suite (test/robustness/*.test.ts): whole-database snapshots
 * for "bad input changes nothing" checks, direct seeding of MFA state (fast, no CLI round-trips),
 * and process helpers for the kill / EPIPE / closed-stdin cases that runCli cannot express.
 */
import { spawn, execFileSync, type ChildProcessWithoutNullStreams, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import knexFactory, { type Knex } from 'knex';
import { expect } from 'vitest';
import { sealSecret, keyFromBase64 } from '../../src/core/primitives/secretBox.js';
import { BIN, describeRun, type CliResult } from '../support/cli.js';
import { nodeClockArgs } from '../support/clock.js';
import type { TestDatabase } from '../support/databases.js';
import type { World } from '../support/world.js';
import { isSqlite } from '../../src/db/transaction.js';

export function connect(db: TestDatabase): Knex {
  if (db.dialect === 'sqlite') {
    return knexFactory({ client: 'better-sqlite3', connection: { filename: sqliteFile(db) }, useNullAsDefault: true });
  }
  return knexFactory({ client: 'mysql2', connection: db.url, pool: { min: 0, max: 4 } });
}

export const sqliteFile = (db: Pick<TestDatabase, 'url'>) => db.url.slice('sqlite:'.length);

async function tableNames(knex: Knex): Promise<string[]> {
  if (isSqlite(knex)) {
    const rows = await knex.raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`);
    return (rows as { name: string }[]).map((r) => r.name);
  }
  const [rows] = await knex.raw('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name');
  return (rows as { name: string }[]).map((r) => r.name);
}

async function primaryKey(knex: Knex, table: string): Promise<string[]> {
  if (isSqlite(knex)) {
    const cols = (await knex.raw(`PRAGMA table_info(\`${table}\`)`)) as { name: string; pk: number }[];
    const pk = cols
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name);
    return pk.length ? pk : cols.map((c) => c.name);
  }
  const [rows] = await knex.raw(
    `SELECT column_name AS name FROM information_schema.key_column_usage
     WHERE table_schema = DATABASE() AND table_name = ? AND constraint_name = 'PRIMARY' ORDER BY ordinal_position`,
    [table],
  );
  const pk = (rows as { name: string }[]).map((r) => r.name);
  if (pk.length) return pk;
  const [cols] = await knex.raw(
    'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position',
    [table],
  );
  return (cols as { name: string }[]).map((r) => r.name);
}

/** Stable text for a row set: Buffers as hex, bigint and Date as strings. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => {
    if (typeof x === 'bigint') return x.toString();
    if (x && typeof x === 'object' && (x as { type?: string }).type === 'Buffer' && Array.isArray((x as { data?: unknown }).data)) {
      return 'hex:' + Buffer.from((x as { data: number[] }).data).toString('hex');
    }
    return x;
  });
}

/**
 * Every row of every table but `audit_events` and `rate_limits`, ordered by primary key, as one JSON
 * text per table. Both are the bookkeeping of refusals: every password check is counted in
 * `rate_limits` (rule 11, the same writes for known and unknown emails), as every refusal is audited.
 */
export async function snapshotTables(knex: Knex): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of await tableNames(knex)) {
    if (t === 'mfa_audit_events' || t === 'mfa_rate_limits') continue;
    const pk = await primaryKey(knex, t);
    out[t] = stableJson(
      await knex(t)
        .select('*')
        .orderBy(pk.map((c) => ({ column: c, order: 'asc' }))),
    );
  }
  return out;
}

export async function auditRows(knex: Knex): Promise<Record<string, unknown>[]> {
  return knex('mfa_audit_events').select('*').orderBy('id');
}

/** `sqlite3 FILE .dump` without the audit_events and rate_limits rows (refusals are audited and counted by design). */
function sqliteDumpWithoutAudit(file: string): string {
  const dump = execFileSync('sqlite3', [file, '.dump'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  return dump
    .split('\n')
    .filter(
      (l) =>
        !/^INSERT INTO "?(mfa_audit_events|mfa_rate_limits)"? /.test(l) &&
        !/^INSERT INTO sqlite_sequence VALUES\('mfa_rate_limits',/.test(l) &&
        !/^INSERT INTO sqlite_sequence VALUES\('mfa_audit_events',/.test(l) &&
        !/^UPDATE "?sqlite_sequence"? SET seq = \d+ WHERE name = 'mfa_audit_events';$/.test(l),
    )
    .join('\n');
}

let sqlite3Available: boolean | undefined;
function haveSqlite3(): boolean {
  if (sqlite3Available === undefined) {
    try {
      execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
      sqlite3Available = true;
    } catch {
      sqlite3Available = false;
    }
  }
  return sqlite3Available;
}

export interface DbState {
  tables: Record<string, string>;
  audit: Record<string, unknown>[];
  dump?: string;
}

export async function captureState(knex: Knex, db: TestDatabase): Promise<DbState> {
  return {
    tables: await snapshotTables(knex),
    audit: await auditRows(knex),
    dump: db.dialect === 'sqlite' && haveSqlite3() ? sqliteDumpWithoutAudit(sqliteFile(db)) : undefined,
  };
}

/**
 * Nothing but audit_events changed (byte-for-byte for SQLite via sqlite3 .dump, row-for-row via knex
 * for both), and audit_events only grew, by rows whose outcome is one of `allowedOutcomes`.
 */
export function expectStateUnchanged(before: DbState, after: DbState, what: string, allowedOutcomes: string[] = ['refused', 'failure']): void {
  for (const t of new Set([...Object.keys(before.tables), ...Object.keys(after.tables)])) {
    expect(after.tables[t], `${what}: table ${t} changed`).toBe(before.tables[t]);
  }
  if (before.dump !== undefined) expect(after.dump === before.dump, `${what}: sqlite3 .dump (without audit_events) changed`).toBe(true);
  expect(stableJson(after.audit.slice(0, before.audit.length)), `${what}: existing audit rows changed`).toBe(stableJson(before.audit));
  const added = after.audit.slice(before.audit.length);
  const unexpected = added.filter((r) => !allowedOutcomes.includes(String(r.outcome)));
  expect(
    unexpected.map((r) => `${r.action}/${r.outcome}`),
    `${what}: audit rows other than refusals were added`,
  ).toEqual([]);
}

/** Stderr must not carry raw control characters (terminal escapes) besides the final newline. */
export function expectNoControlChars(r: CliResult): void {
  // eslint-disable-next-line no-control-regex
  expect(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(r.stderr), `raw control characters on stderr\n${describeRun(r)}`).toBe(false);
}

/** Run async jobs with at most `n` in flight, keeping the input order of results. */
export async function inBatches<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        results[i] = await fn(items[i]!, i);
      }
    }),
  );
  return results;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Run a synchronous child (e.g. `sh -c …`) wrapper that runCli cannot express; same result shape. */
export function runRaw(
  command: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; stdio?: StdioOptions; stdin?: string; timeoutMs?: number; cwd?: string },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: opts.env, cwd: opts.cwd ?? (opts.env.HOME as string), stdio: opts.stdio ?? ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.stdin?.on('error', () => {});
    if (child.stdin) {
      if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
      else child.stdin.end();
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ').slice(0, 200)} timed out\n${Buffer.concat(err).toString()}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 + 9 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** A running portal-mfa process, with its stdout split into lines as they arrive. */
export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  stderr: () => string;
  stdout: () => string;
  /** resolves when at least n stdout lines have arrived (rejects if the process ends first) */
  waitForLines(n: number, timeoutMs?: number): Promise<void>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `opts.stdin: null` leaves stdin open, for the caller to write and end (`child.stdin`). */
export function startCli(args: string[], opts: { env: NodeJS.ProcessEnv; stdin?: string | null }): RunningCli {
  const child = spawn(process.execPath, [...nodeClockArgs(), BIN, ...args], { env: opts.env, cwd: opts.env.HOME as string, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let out = '';
  let err = '';
  child.stdin.on('error', () => {});
  if (opts.stdin !== null) child.stdin.end(opts.stdin ?? '');
  child.stdout.on('data', (c: Buffer) => {
    const s = c.toString('utf8');
    out += s;
    partial += s;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  let finished = false;
  void done.then(() => (finished = true));
  return {
    child,
    lines,
    stderr: () => err,
    stdout: () => out,
    done,
    async waitForLines(n, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (lines.length < n) {
        if (finished) throw new Error(`process ended after ${lines.length} line(s), before ${n}\n--- stderr ---\n${err}`);
        if (Date.now() > deadline) throw new Error(`only ${lines.length} line(s) after ${timeoutMs} ms\n--- stderr ---\n${err}`);
        await sleep(5);
      }
    },
  };
}

/** Whether process `pid` has `file` open (e.g. it has opened the SQLite database). */
export function hasOpen(pid: number, file: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Whether process `pid` is asleep (state S: e.g. its event loop waits for stdin). */
function asleep(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('S ') === true;
  } catch {
    return false;
  }
}

/**
 * Racing runs of the CLI as processes, released together. Processes started one after another
 * reach the database a whole start-up (~100 ms of CPU each) apart, so only a lucky few would meet;
 * here each is held where it reads stdin (the password of --password-stdin, read once the database
 * is open) until every one has `dbFile` open and is asleep — seen on two polls in a row — and then
 * all are given their stdin at once. A process that ends early (or 30 s without all ready) opens
 * the gate too: the caller's checks of the results say what went wrong.
 */
export async function runTogether(
  runs: { args: string[]; stdin: string; env?: NodeJS.ProcessEnv }[],
  opts: { env: NodeJS.ProcessEnv; dbFile: string },
): Promise<CliResult[]> {
  const started = runs.map((r) => ({ run: r, cli: startCli(r.args, { env: r.env ?? opts.env, stdin: null }), ended: false }));
  for (const s of started) void s.cli.done.then(() => (s.ended = true));
  const ready = () => started.every((s) => s.cli.child.pid !== undefined && hasOpen(s.cli.child.pid, opts.dbFile) && asleep(s.cli.child.pid));
  const deadline = Date.now() + 30_000;
  for (let inARow = 0; inARow < 2 && !started.some((s) => s.ended) && Date.now() < deadline; ) {
    inARow = ready() ? inARow + 1 : 0;
    await sleep(5);
  }
  // the results still say whether the guard held; this says the run may not have raced at all
  if (Date.now() >= deadline) console.warn(`runTogether: released after 30 s without all ${runs.length} runs ready — this run may not have raced`);
  for (const s of started) s.cli.child.stdin.end(s.run.stdin);
  return Promise.all(
    started.map(async ({ cli }) => {
      const { code, signal } = await cli.done;
      return { code: code ?? 128 + (signal ? (os.constants.signals as Record<string, number>)[signal]! : 0), stdout: cli.stdout(), stderr: cli.stderr() };
    }),
  );
}

/**
 * Give users active MFA with ten recovery codes, a trusted device and an open CLI session by
 * writing the rows directly (the secrets are real ciphertexts under `keyB64`). Returns the
 * plain TOTP secrets by email. `opts.at`: when they enrolled (default an hour ago; the step of that
 * moment counts as used, as the confirming code's would); `opts.mfaOnly`: no device or session.
 *
 * Thousands of users are seeded by some files (key rotation, bulk kills), so this is built for
 * speed: the randomness of a user comes from one randomBytes call, and the rows go in as plain
 * multi-row INSERTs (knex's query builder costs more than the database for 30 000 rows).
 */
export async function seedFullMfa(knex: Knex, emails: string[], keyB64: string, opts: { at?: number; mfaOnly?: boolean } = {}): Promise<Map<string, string>> {
  const key = keyFromBase64(keyB64);
  // portal-mfa keeps the portal's user ids as text ('42'): a JS number bound on SQLite would be stored as '42.0'
  const users = ((await knex('users').whereIn('email', emails).select('id', 'email')) as { id: unknown; email: string }[]).map((u) => ({
    id: String(u.id),
    email: u.email,
  }));
  expect(users.length, 'seedFullMfa: every email must be a user').toBe(emails.length);
  const now = opts.at ?? Date.now() - 60 * 60_000;
  const secrets = new Map<string, string>();
  const creds: unknown[][] = [];
  const codes: unknown[][] = [];
  const devices: unknown[][] = [];
  const sessions: unknown[][] = [];
  // per user: 20 bytes of TOTP secret, 10 × 48 bytes of recovery-code salt and hash, 2 × 32 bytes of token hash
  const PER_USER = 20 + 10 * 48 + 64;
  for (const u of users) {
    const r = randomBytes(PER_USER);
    const secret = base32(r.subarray(0, 20));
    secrets.set(u.email, secret);
    const sealed = sealSecret(secret, key);
    creds.push([u.id, 'active', sealed.ciphertext, sealed.keyId, now, now, now, Math.floor(now / 30_000), 0, null]);
    // shaped like a set portal-mfa stores (one salt, N = 2^12: a try costs one hash); no code matches it
    const salt = r.subarray(20, 36).toString('base64');
    for (let i = 0, o = 20; i < 10; i++, o += 48) {
      codes.push([u.id, `scrypt$4096$8$1$${salt}$${r.subarray(o + 16, o + 48).toString('base64')}`, now, null]);
    }
    // the hashes of tokens nobody holds: any 32 random bytes are as good as a SHA-256 of one
    if (opts.mfaOnly) continue;
    const o = 20 + 10 * 48;
    devices.push([u.id, r.subarray(o, o + 32).toString('hex'), 'seeded laptop', now, null, now + 30 * 86_400_000, null]);
    sessions.push([u.id, r.subarray(o + 32, o + 64).toString('hex'), now, now + 12 * 3_600_000, null, 'seed', 'seed']);
  }
  await knex.transaction(async (trx) => {
    const creCols = ['user_id', 'status', 'secret_ciphertext', 'key_id', 'created_at', 'confirmed_at', 'last_used_at', 'last_accepted_step'];
    await insertRows(trx, 'mfa_credentials', [...creCols, 'consecutive_failures', 'locked_until'], creds);
    await insertRows(trx, 'mfa_recovery_codes', ['user_id', 'code_hash', 'created_at', 'used_at'], codes);
    await insertRows(trx, 'mfa_trusted_devices', ['user_id', 'token_hash', 'label', 'created_at', 'last_used_at', 'expires_at', 'revoked_at'], devices);
    await insertRows(trx, 'mfa_sessions', ['user_id', 'token_hash', 'created_at', 'expires_at', 'ended_at', 'host', 'os_user'], sessions);
  });
  return secrets;
}

/**
 * Close to what `w.enrol(email)` (test/support/world.ts) leaves — active MFA with ten recovery codes
 * (no code is known that matches them), the confirming step used, the clock 30 s on — written
 * directly: enrolling through the use case costs ten scrypt hashes (~120 ms of CPU), and the security
 * tests attack what comes after enrolment, which other tests cover. No enrolment audit rows or notice
 * are written. Returns the secret.
 */
export async function enrolDirectly(w: World, email: string): Promise<string> {
  const key = w.deps.keyring()[0]!.key.toString('base64');
  const secret = (await seedFullMfa(w.knex, [email], key, { at: w.now(), mfaOnly: true })).get(email)!;
  w.advance(30_000);
  return secret;
}

/** Multi-row INSERTs of `rows` (values in `columns` order), each within SQLite's 32 766 bound values. */
async function insertRows(trx: Knex.Transaction, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  const perStatement = Math.floor(20_000 / columns.length);
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    await trx.raw(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}`, chunk.flat());
  }
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

/** Per-user MFA rows, to tell "fully reset" from "untouched". */
/**
 * What a support reset (`mfa.reset`) left of each listed user, counted with one grouped query per
 * table: MFA rows (credentials, recovery codes, trusted devices, open CLI sessions), successful
 * `mfa.reset` audit rows and, when `noticeEvent` is given, outbox notices of that event.
 */
export async function resetStateByEmail(knex: Knex, emails: string[], opts: { noticeEvent?: string } = {}): Promise<(email: string) => Record<string, number>> {
  const users = new Map(
    ((await knex('users').whereIn('email', emails).select('id', 'email')) as { id: unknown; email: string }[]).map((u) => [u.email, String(u.id)]),
  );
  const ids = [...users.values()];
  const counts: [string, (id: string) => number][] = [
    ['credentials', await countsByUser(knex, 'mfa_credentials', 'user_id', ids)],
    ['recoveryCodes', await countsByUser(knex, 'mfa_recovery_codes', 'user_id', ids)],
    ['devices', await countsByUser(knex, 'mfa_trusted_devices', 'user_id', ids)],
    ['openSessions', await countsByUser(knex, 'mfa_sessions', 'user_id', ids, (q) => q.whereNull('ended_at'))],
    ['audit', await countsByUser(knex, 'mfa_audit_events', 'target_user_id', ids, (q) => q.where({ action: 'mfa.reset', outcome: 'success' }))],
  ];
  if (opts.noticeEvent) counts.push(['notices', await countsByUser(knex, 'mfa_notifications', 'user_id', ids, (q) => q.where({ event: opts.noticeEvent }))]);
  return (email) => {
    const id = users.get(email);
    if (id === undefined) throw new Error(`${email} is not a user`);
    return Object.fromEntries(counts.map(([name, count]) => [name, count(id)]));
  };
}

/**
 * Rows per user in one table, counted with one grouped query per 500 users (not a query per user):
 * `(id) => count`. The all-or-nothing checks of the bulk tests read every user's MFA rows with it.
 */
async function countsByUser(
  knex: Knex,
  table: string,
  column: string,
  ids: string[],
  narrow?: (q: Knex.QueryBuilder) => void,
): Promise<(id: string) => number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 500) {
    const q = knex(table).whereIn(column, ids.slice(i, i + 500));
    narrow?.(q);
    for (const r of (await q.select(column).count({ n: '*' }).groupBy(column)) as Record<string, unknown>[]) counts.set(String(r[column]), Number(r.n));
  }
  return (id) => counts.get(id) ?? 0;
}
