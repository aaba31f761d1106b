#!/usr/bin/env node
/**
 * Benchmark of `portal-mfa org users` (NDJSON and CSV) against hand-written SQL run through the
 * databases' own command-line clients, on SQLite and a throw-away MariaDB, `demo --members N`
 * (seeding time), plus bulk `org disable-mfa` of 10,000 and 100,000 members on MariaDB. Not part
 * of `npm test`. Exits 0 when everything ran (missed targets are reported in the table, not in the
 * exit code; --strict makes a missed target exit 1), 1 on an error.
 *
 *   npm run build && node bench/org-users.mjs [--sizes 10000,100000,1000000] [--runs 3]
 *        [--dialects sqlite,mariadb] [--bulk 10000,100000] [--mariadb-max 100000] [--strict] [--no-results] [--summary FILE]
 *
 * Needs: the built CLI (dist/), /usr/bin/time (GNU time, for peak RSS), sqlite3, and for MariaDB
 * mariadb-install-db + mariadbd + the mariadb client (the server is started here on a temp datadir,
 * 127.0.0.1 and a unix socket, and removed afterwards — the same recipe as
 * test/support/mariadbServer.ts). Results are printed as a markdown table and written into
 * bench/RESULTS.md between the "bench:results" markers (unless --no-results).
 */
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMariadb } from './mariadb.mjs';
import { RESULTS_FILE, replaceResultsSection } from './results.mjs';
import knexFactory from 'knex';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// the CLI is run from a snapshot of bin/ + dist/ taken at start (see snapshotCli), so a rebuild
// while the benchmark runs cannot change — or break — what is measured
let BIN = path.join(ROOT, 'bin', 'portal-mfa.js');
// alice (admin of acme) is enrolled and logged in for the session runs; sam (support: may list any
// organisation; no MFA of his own) acts with --as and his password on every run (acme requires MFA,
// so its other admins could not act without enrolling)
const ALICE = { email: 'alice@acme.example', password: 'alice-demo-pass' };
const SAM = { email: 'sam@support.example', password: 'sam-demo-pass' };

// ---------------------------------------------------------------------------------------------
// options

function parseArgs(argv) {
  const o = {
    sizes: [10_000, 100_000],
    runs: 3,
    dialects: ['sqlite', 'mariadb'],
    bulk: [10_000, 100_000],
    mariadbMax: 100_000,
    strict: false,
    results: true,
    summary: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--sizes')
      o.sizes = next()
        .split(',')
        .map((s) => Number(s.trim()));
    else if (a === '--runs') o.runs = Number(next());
    else if (a === '--dialects')
      o.dialects = next()
        .split(',')
        .map((s) => s.trim());
    else if (a === '--bulk')
      o.bulk = next()
        .split(',')
        .map((x) => Number(x.trim()))
        .filter((x) => x > 0);
    else if (a === '--mariadb-max') o.mariadbMax = Number(next());
    else if (a === '--strict') o.strict = true;
    else if (a === '--no-results' || a === '--no-readme') o.results = false;
    else if (a === '--summary') o.summary = next();
    else if (a === '-h' || a === '--help') {
      console.log(
        'node bench/org-users.mjs [--sizes 10000,100000,1000000] [--runs 3] [--dialects sqlite,mariadb] [--bulk 10000,100000] [--mariadb-max 100000] [--strict] [--no-results] [--summary FILE]',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (o.sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1_000_000)) throw new Error('--sizes: whole numbers 1..1000000');
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error('--runs: a whole number ≥ 1');
  for (const d of o.dialects) if (d !== 'sqlite' && d !== 'mariadb') throw new Error(`--dialects: sqlite and/or mariadb (got ${d})`);
  return o;
}

// ---------------------------------------------------------------------------------------------
// helpers

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtS = (s) => (s < 10 ? s.toFixed(3) : s.toFixed(1));
const fmtMB = (kb) => (kb / 1024).toFixed(0);

function which(name, extraDirs = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin']) {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs]) {
    const p = path.join(dir, name);
    try {
      accessSync(p, fsConstants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

function need(name) {
  const p = which(name);
  if (!p)
    throw new Error(`${name} not found (apt-get install -y ${name === 'time' ? 'time' : name === 'sqlite3' ? 'sqlite3' : 'mariadb-server mariadb-client'})`);
  return p;
}

let TMP = '';
let TIME_BIN = '';

/**
 * Run a command under GNU time: wall clock (our own hrtime around the child) and peak RSS (%M, KB)
 * of the measured command. stdout goes to /dev/null (or a file), stderr is captured for errors.
 */
function timed(cmd, args, { env, input, stdoutFile = '/dev/null', allowFail = false } = {}) {
  const timeFile = path.join(TMP, 'time.out');
  const outFd = openSync(stdoutFile, 'w');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(TIME_BIN, ['-f', '%M', '-o', timeFile, cmd, ...args], {
    env,
    input: input ?? '',
    stdio: ['pipe', outFd, 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  closeSync(outFd);
  const stderr = r.stderr?.toString() ?? '';
  if (r.error) throw r.error;
  if (r.status !== 0 && !allowFail) throw new Error(`${path.basename(cmd)} ${args.join(' ')} → exit ${r.status}\n${stderr.slice(-2000)}`);
  const timeOut = readFileSync(timeFile, 'utf8').trim().split('\n');
  const rssKb = Number(timeOut[timeOut.length - 1]);
  return { seconds, rssKb, status: r.status, stderr };
}

function measure(label, runs, fn) {
  fn(); // warm-up (page cache, buffer pool), not counted
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(fn());
  const res = { seconds: median(samples.map((s) => s.seconds)), rssKb: Math.max(...samples.map((s) => s.rssKb)) };
  log(`  ${label}: ${fmtS(res.seconds)} s (median of ${runs}), peak RSS ${fmtMB(res.rssKb)} MB`);
  return res;
}

function cli(env, dbUrl, args, opts = {}) {
  return timed(process.execPath, [BIN, '--db', dbUrl, ...args], { env, ...opts });
}

function lineCount(file) {
  const text = readFileSync(file, 'utf8');
  return text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** Copy bin/, dist/ and package.json into the temp dir (node_modules linked), and use that copy. */
function snapshotCli() {
  const app = path.join(TMP, 'app');
  mkdirSync(app);
  for (const part of ['bin', 'dist', 'package.json']) cpSync(path.join(ROOT, part), path.join(app, part), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'), 'dir');
  BIN = path.join(app, 'bin', 'portal-mfa.js');
  const probe = spawnSync(process.execPath, [BIN, '--db', `sqlite:${path.join(TMP, 'probe.db')}`, 'db', 'status'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: TMP },
  });
  if (probe.status !== 0 && probe.status !== 10) throw new Error(`the built CLI does not start (rebuild with npm run build):\n${probe.stderr}`);
  rmSync(path.join(TMP, 'probe.db'), { force: true });
}

// ---------------------------------------------------------------------------------------------
// data

function knexFor(dialect, dbUrl) {
  if (dialect === 'sqlite') {
    return knexFactory({ client: 'better-sqlite3', connection: { filename: dbUrl.slice('sqlite:'.length) }, useNullAsDefault: true });
  }
  return knexFactory({ client: 'mysql2', connection: dbUrl, pool: { min: 0, max: 2 } });
}

/** Some MFA state so the joins have work: 5 % active, 1 % pending, 1 % with a trusted device. */
async function seedMfaState(knex, now) {
  const members = await knex('users').where('email', 'like', 'member-%@acme.example').orderBy('id').pluck('id');
  const cred = (userId, status) => ({
    user_id: userId,
    status,
    secret_ciphertext: 'v1:' + randomBytes(48).toString('base64'), // never decrypted by these commands
    key_id: '0000000000000000',
    created_at: now - 86_400_000,
    confirmed_at: status === 'active' ? now - 86_400_000 : null,
    last_used_at: status === 'active' ? now - 3_600_000 : null,
    consecutive_failures: 0,
  });
  const creds = [];
  const devices = [];
  members.forEach((id, i) => {
    if (i % 20 === 0) creds.push(cred(id, 'active'));
    else if (i % 100 === 1) creds.push(cred(id, 'pending'));
    if (i % 100 === 0)
      devices.push({ user_id: id, token_hash: randomBytes(32).toString('hex'), label: 'bench', created_at: now, expires_at: now + 30 * 86_400_000 });
  });
  for (let i = 0; i < creds.length; i += 500) await knex('mfa_credentials').insert(creds.slice(i, i + 500));
  for (let i = 0; i < devices.length; i += 500) await knex('mfa_trusted_devices').insert(devices.slice(i, i + 500));
  return { active: creds.filter((c) => c.status === 'active').length, pending: creds.filter((c) => c.status === 'pending').length, devices: devices.length };
}

/** The same report as `org users`, in one hand-written statement. */
function rawSql(now) {
  return [
    'SELECT u.email, u.name, m.role,',
    "  CASE WHEN a.id IS NOT NULL THEN 'active' WHEN p.id IS NOT NULL THEN 'pending' ELSE 'none' END AS mfa,",
    '  a.created_at, a.last_used_at,',
    `  (SELECT COUNT(*) FROM mfa_trusted_devices td WHERE td.user_id = m.user_id AND td.revoked_at IS NULL AND td.expires_at > ${now}) AS devices`,
    'FROM organisation_members m',
    'JOIN users u ON u.id = m.user_id',
    "LEFT JOIN mfa_credentials a ON a.user_id = m.user_id AND a.status = 'active'",
    "LEFT JOIN mfa_credentials p ON p.user_id = m.user_id AND p.status = 'pending'",
    "WHERE m.organisation_id = (SELECT id FROM organisations WHERE slug = 'acme')",
    'ORDER BY m.user_id',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// the benchmark

/** RFC 6238 (SHA-1, 6 digits, 30 s) — enough to enrol alice and log her in for the session runs. */
function totp(secretBase32, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const bytes = [];
  for (const ch of secretBase32.replace(/[\s=]/g, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const o = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(bin % 1_000_000).padStart(6, '0');
}

/**
 * Enrol alice (scripted) and start a CLI session for her, so listing can also be measured the way
 * scripts run it: no bcrypt per command (acme requires MFA, so she needs it to log in).
 */
async function aliceSession(env, dbUrl) {
  const input = `${ALICE.password}\n`;
  const run = (args) => {
    const r = spawnSync(process.execPath, [BIN, '--db', dbUrl, ...args, '--as', ALICE.email, '--password-stdin'], { env, input, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`portal-mfa ${args.join(' ')} → exit ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  const { secret } = JSON.parse(run(['enroll', '--no-confirm', '--json']));
  // keep clear of a step boundary: confirm with the previous step's code, log in with the current one
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 5_000) await new Promise((r) => setTimeout(r, left + 100));
  const step = Math.floor(Date.now() / 30_000);
  run(['enroll', '--confirm', totp(secret, step - 1), '--json']);
  run(['login', '--code', totp(secret, step), '--json']);
}

async function benchListing({ dialect, size, dbUrl, env, runs, raw }) {
  log(`${dialect}, ${size} members: seeding`);
  cli(env, dbUrl, ['db', 'migrate']);
  const seed = cli(env, dbUrl, ['demo', '--members', String(size)]);
  log(`  demo --members ${size}: ${fmtS(seed.seconds)} s`);
  const knex = knexFor(dialect, dbUrl);
  const now = Date.now();
  let mfa;
  try {
    mfa = await seedMfaState(knex, now);
  } finally {
    await knex.destroy();
  }
  await aliceSession(env, dbUrl);
  log(`  MFA state: ${mfa.active} active, ${mfa.pending} pending, ${mfa.devices} trusted devices; alice enrolled and logged in`);

  const as = ['--as', SAM.email, '--password-stdin'];
  const input = `${SAM.password}\n`;
  // correctness first (not timed): every format gives one line per member (+ the CSV header)
  const check = path.join(TMP, 'check.out');
  cli(env, dbUrl, ['org', 'users', '--org', 'acme', '--json', ...as], { input, stdoutFile: check });
  const members = lineCount(check);
  cli(env, dbUrl, ['org', 'users', '--org', 'acme', '--json'], { stdoutFile: check });
  if (lineCount(check) !== members) throw new Error(`the session run gave ${lineCount(check)} rows, --as ${members}`);
  raw.run(rawSql(now), check);
  if (lineCount(check) !== members) throw new Error(`raw SQL gave ${lineCount(check)} rows, org users ${members}`);
  if (members !== size + 5) throw new Error(`expected ${size + 5} members of acme, got ${members}`);

  const r = { dialect, size, members, seed: seed.seconds };
  const variants = { as: { args: as, input }, session: { args: [], input: '' } };
  for (const [name, v] of Object.entries(variants)) {
    r[name] = {
      overhead: measure(`[${name}] org list --json (start-up + auth, no listing)`, runs, () =>
        cli(env, dbUrl, ['org', 'list', '--json', ...v.args], { input: v.input }),
      ),
      json: measure(`[${name}] org users --json`, runs, () => cli(env, dbUrl, ['org', 'users', '--org', 'acme', '--json', ...v.args], { input: v.input })),
      csv: measure(`[${name}] org users --csv`, runs, () => cli(env, dbUrl, ['org', 'users', '--org', 'acme', '--csv', ...v.args], { input: v.input })),
    };
  }
  r.raw = measure(`raw SQL (${raw.name})`, runs, () => raw.run(rawSql(now)));
  return r;
}

async function benchBulkDisable({ dbUrl, env, count }) {
  log(`mariadb: bulk org disable-mfa of ${count} members`);
  const knex = knexFor('mysql', dbUrl);
  const now = Date.now();
  let emails;
  try {
    const users = await knex('users').where('email', 'like', 'member-%@acme.example').orderBy('id').limit(count).select('id', 'email');
    if (users.length < count) throw new Error(`only ${users.length} generated members; run a size ≥ ${count}`);
    await knex('mfa_credentials')
      .whereIn('user_id', knex('users').where('email', 'like', 'member-%@acme.example').select('id'))
      .delete();
    const rows = users.map((u) => ({
      user_id: u.id,
      status: 'active',
      secret_ciphertext: 'v1:' + randomBytes(48).toString('base64'),
      key_id: '0000000000000000',
      created_at: now,
      confirmed_at: now,
      last_used_at: now,
      consecutive_failures: 0,
    }));
    for (let i = 0; i < rows.length; i += 500) await knex('mfa_credentials').insert(rows.slice(i, i + 500));
    emails = users.map((u) => u.email);
  } finally {
    await knex.destroy();
  }
  const list = path.join(TMP, 'bulk-users.txt');
  writeFileSync(list, emails.join('\n') + '\n');
  const out = path.join(TMP, 'bulk.ndjson');
  const r = cli(
    env,
    dbUrl,
    ['org', 'disable-mfa', '--org', 'acme', '--users-from', list, '--ticket', 'BENCH-1', '--yes', '--json', '--as', SAM.email, '--password-stdin'],
    {
      input: `${SAM.password}\n`,
      stdoutFile: out,
    },
  );
  const outcomes = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).outcome);
  const disabled = outcomes.filter((o) => o === 'disabled').length;
  if (disabled !== count) throw new Error(`bulk disable: ${disabled} of ${count} disabled`);
  const k2 = knexFor('mysql', dbUrl);
  const left = Number(
    (
      await k2('mfa_credentials')
        .whereIn('user_id', k2('users').where('email', 'like', 'member-%@acme.example').select('id'))
        .count({ n: '*' })
        .first()
    ).n,
  );
  await k2.destroy();
  if (left !== 0) throw new Error(`bulk disable left ${left} credentials`);
  log(`  ${count} disabled in ${fmtS(r.seconds)} s (${(count / r.seconds).toFixed(0)}/s), peak RSS ${fmtMB(r.rssKb)} MB`);
  return { count, seconds: r.seconds, rssKb: r.rssKb };
}

// ---------------------------------------------------------------------------------------------
// report

const ratio = (t, raw) => `${(t / raw).toFixed(1)}×`;
const peakKb = (r) => Math.max(r.as.json.rssKb, r.as.csv.rssKb, r.session.json.rssKb, r.session.csv.rssKb);

function report(results, bulks, meta) {
  const lines = [];
  lines.push(`Measured ${meta.date} on ${meta.machine}; Node ${process.version}; ${meta.versions.join('; ')}.`);
  lines.push(
    `Median wall-clock time of ${meta.runs} runs after one warm-up; peak RSS is the largest of those runs (GNU time %M). Load average at start / end: ${meta.load}.`,
  );
  lines.push(
    '`session` = a CLI session (alice logged in once with password + code); `--as` = `--as sam@support.example --password-stdin` (support, no MFA) on every run (bcrypt check each time). Output to /dev/null.',
  );
  lines.push('');
  lines.push(
    '| database | members | raw SQL (client) | org users --json session / --as | org users --csv session / --as | start-up + auth only (org list) session / --as | json ÷ raw session / --as | csv ÷ raw session / --as | peak RSS CLI / raw |',
  );
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const raw = r.raw.seconds;
    lines.push(
      `| ${r.dialect} | ${r.members.toLocaleString('en')} | ${fmtS(raw)} s | ${fmtS(r.session.json.seconds)} / ${fmtS(r.as.json.seconds)} s | ${fmtS(r.session.csv.seconds)} / ${fmtS(r.as.csv.seconds)} s | ${fmtS(r.session.overhead.seconds)} / ${fmtS(r.as.overhead.seconds)} s | ${ratio(r.session.json.seconds, raw)} / ${ratio(r.as.json.seconds, raw)} | ${ratio(r.session.csv.seconds, raw)} / ${ratio(r.as.csv.seconds, raw)} | ${fmtMB(peakKb(r))} / ${fmtMB(r.raw.rssKb)} MB |`,
    );
  }
  lines.push('');
  lines.push('Listing time net of the fixed start-up + authentication cost (org users − org list, session), against raw SQL:');
  lines.push('');
  lines.push('| database | members | net json | net csv | net json ÷ raw | net csv ÷ raw |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const nj = Math.max(0, r.session.json.seconds - r.session.overhead.seconds);
    const nc = Math.max(0, r.session.csv.seconds - r.session.overhead.seconds);
    lines.push(
      `| ${r.dialect} | ${r.members.toLocaleString('en')} | ${fmtS(nj)} s | ${fmtS(nc)} s | ${ratio(nj, r.raw.seconds)} | ${ratio(nc, r.raw.seconds)} |`,
    );
  }
  lines.push('');
  lines.push('`demo --members N` (seeding, before the MFA state is added):');
  lines.push('');
  lines.push('| database | members | demo --members time | members/s |');
  lines.push('| --- | ---: | ---: | ---: |');
  for (const r of results) lines.push(`| ${r.dialect} | ${r.size.toLocaleString('en')} | ${fmtS(r.seed)} s | ${(r.size / r.seed).toFixed(0)} |`);
  if (bulks.length > 0) {
    lines.push('');
    lines.push('Bulk `org disable-mfa --users-from FILE --ticket T --yes --json` on MariaDB (as sam, --as), members with an active credential:');
    lines.push('');
    lines.push('| users | time | users/s | peak RSS |');
    lines.push('| ---: | ---: | ---: | ---: |');
    for (const b of bulks)
      lines.push(`| ${b.count.toLocaleString('en')} | ${fmtS(b.seconds)} s | ${(b.count / b.seconds).toFixed(0)} | ${fmtMB(b.rssKb)} MB |`);
  }
  lines.push('');
  lines.push('| target | result | met? |');
  lines.push('| --- | --- | --- |');
  for (const t of targets(results, bulks)) lines.push(`| ${t.target} | ${t.result} | ${t.met === null ? 'not measured' : t.met ? 'yes' : '**no**'} |`);
  return lines.join('\n');
}

function targets(results, bulks) {
  const out = [];
  for (const r of results) {
    const raw = r.raw.seconds;
    const worst = Math.max(r.session.json.seconds, r.session.csv.seconds, r.as.json.seconds, r.as.csv.seconds) / raw;
    out.push({
      target: `${r.dialect} ${r.members.toLocaleString('en')}: listing ≤ 1.5× raw SQL`,
      result: `session: json ${ratio(r.session.json.seconds, raw)}, csv ${ratio(r.session.csv.seconds, raw)}; --as: json ${ratio(r.as.json.seconds, raw)}, csv ${ratio(r.as.csv.seconds, raw)}`,
      met: worst <= 1.5,
    });
  }
  const dialects = [...new Set(results.map((r) => r.dialect))];
  for (const d of dialects) {
    const rows = results.filter((r) => r.dialect === d).sort((a, b) => a.size - b.size);
    const peak = Math.max(...rows.map(peakKb));
    out.push({
      target: `${d}: peak memory < 150 MB (every size run)`,
      result: `${fmtMB(peak)} MB (largest: ${rows.find((r) => peakKb(r) === peak).size.toLocaleString('en')})`,
      met: peak < 150 * 1024,
    });
    if (rows.length >= 2) {
      const a = rows[0];
      const b = rows[rows.length - 1];
      const growth = peakKb(b) / peakKb(a);
      out.push({
        target: `${d}: memory flat from ${a.size.toLocaleString('en')} to ${b.size.toLocaleString('en')} (≤ +20 %)`,
        result: `${fmtMB(peakKb(a))} → ${fmtMB(peakKb(b))} MB (${growth >= 1 ? '+' : ''}${((growth - 1) * 100).toFixed(0)} %)`,
        met: growth <= 1.2,
      });
    }
  }
  const million = results.find((r) => r.dialect === 'sqlite' && r.size === 1_000_000);
  out.push({
    target: 'demo --members 1000000 on SQLite < 2 min',
    result: million ? `${fmtS(million.seed)} s` : 'size 1000000 not run on sqlite',
    met: million ? million.seed < 120 : null,
  });
  for (const n of [10_000, 100_000]) {
    const b = bulks.find((x) => x.count === n);
    out.push({
      target: `bulk disable of ${n.toLocaleString('en')} on MariaDB ≥ 2,000 users/s`,
      result: b ? `${fmtS(b.seconds)} s (${(b.count / b.seconds).toFixed(0)} users/s)` : 'not run',
      met: b ? b.count / b.seconds >= 2000 : null,
    });
  }
  return out;
}

function writeResults(table) {
  if (!replaceResultsSection('<!-- bench:results:start -->', '<!-- bench:results:end -->', table)) {
    log(`${RESULTS_FILE} has no bench:results markers; not updated`);
    return;
  }
  log(`results written to ${path.relative(process.cwd(), RESULTS_FILE)}`);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!existsSync(path.join(ROOT, 'dist'))) throw new Error('dist/ is missing: run npm run build first');
  TIME_BIN = existsSync('/usr/bin/time') ? '/usr/bin/time' : need('time');
  const sqlite3 = o.dialects.includes('sqlite') ? need('sqlite3') : null;
  const mariadbClient = o.dialects.includes('mariadb') ? (which('mariadb') ?? need('mysql')) : null;
  TMP = await mkdtemp(path.join(os.tmpdir(), 'portal-mfa-bench-'));
  const cleanup = () => rmSync(TMP, { recursive: true, force: true });
  process.once('exit', cleanup);
  process.once('SIGINT', () => process.exit(130));
  snapshotCli();

  const env = { PATH: process.env.PATH, HOME: process.env.HOME, USER: process.env.USER ?? 'bench', LANG: 'C.UTF-8', NO_COLOR: '1' };
  env.XDG_CONFIG_HOME = path.join(TMP, 'config');
  env.XDG_DATA_HOME = path.join(TMP, 'data');
  env.PORTAL_MFA_KEY = randomBytes(32).toString('base64');

  const started = Date.now();
  const loadStart = os.loadavg()[0].toFixed(1);
  const results = [];
  const versions = [];
  const bulks = [];
  const sizes = [...o.sizes].sort((a, b) => a - b);

  if (sqlite3) {
    versions.push(`SQLite ${spawnSync(sqlite3, ['-version'], { encoding: 'utf8' }).stdout.split(' ')[0]} (sqlite3 CLI for raw SQL)`);
    for (const size of sizes) {
      const file = path.join(TMP, `sqlite-${size}.db`);
      const raw = {
        name: 'sqlite3 -csv',
        run: (sql, stdoutFile) => timed(sqlite3, ['-csv', file, sql], { env, stdoutFile }),
      };
      results.push(await benchListing({ dialect: 'sqlite', size, dbUrl: `sqlite:${file}`, env, runs: o.runs, raw }));
      rmSync(file, { force: true });
      rmSync(`${file}-wal`, { force: true });
      rmSync(`${file}-shm`, { force: true });
    }
  }

  if (mariadbClient) {
    // a little more than the test server's 64M, so 100k members fit in the buffer pool
    const server = await startMariadb({ dir: TMP, bufferPool: '256M' });
    versions.push(`MariaDB ${server.version} (throw-away server, 256M buffer pool; mariadb -N -B for raw SQL)`);
    try {
      // MariaDB sizes above --mariadb-max are skipped (importing a million members into a 256 MB
      // buffer pool takes long and measures the import more than the listing)
      const mariaSizes = sizes.filter((s) => s <= o.mariadbMax);
      for (const size of sizes.filter((s) => s > o.mariadbMax)) log(`mariadb ${size}: skipped (above --mariadb-max ${o.mariadbMax})`);
      for (const size of mariaSizes) {
        const db = `bench_${size}`;
        await server.createDatabase(db);
        const raw = {
          name: 'mariadb -N -B',
          run: (sql, stdoutFile) =>
            timed(mariadbClient, ['--no-defaults', '-S', server.socket, '-u', 'root', '-N', '-B', '-D', db, '-e', sql], { env, stdoutFile }),
        };
        results.push(await benchListing({ dialect: 'mariadb', size, dbUrl: server.urlFor(db), env, runs: o.runs, raw }));
      }
      for (const count of [...o.bulk].sort((a, b) => a - b)) {
        const size = mariaSizes.find((s) => s >= count);
        if (size === undefined) log(`bulk disable of ${count} skipped: no MariaDB size ≥ ${count}`);
        else bulks.push(await benchBulkDisable({ dbUrl: server.urlFor(`bench_${size}`), env, count }));
      }
    } finally {
      await server.stop();
    }
  }

  const table = report(results, bulks, {
    date: new Date().toISOString().slice(0, 10),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM, ${os.platform()} ${os.release()}`,
    versions,
    runs: o.runs,
    load: `${loadStart} / ${os.loadavg()[0].toFixed(1)} (${os.cpus().length} CPUs)`,
  });
  console.log(table);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (o.results) writeResults(table);
  // --summary FILE: the target rows as JSON, for bench/all.mjs's summary in bench/RESULTS.md
  if (o.summary) writeFileSync(o.summary, JSON.stringify({ targets: targets(results, bulks) }, null, 2));
  const missed = targets(results, bulks).filter((t) => t.met === false);
  if (missed.length > 0) log(`${missed.length} target(s) missed: ${missed.map((t) => t.target).join('; ')}`);
  if (o.strict && missed.length > 0) process.exit(1);
}

main().catch((e) => {
  process.stderr.write(`[bench] error: ${e.stack ?? e}\n`);
  process.exit(1);
});
