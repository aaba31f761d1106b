#!/usr/bin/env node
// Start-up benchmark: whole-process wall time and peak memory of short portal-mfa commands, as a
// ratio to a bare `node -e 0` measured in the same run (the floor).
//
//   npm run build && node bench/startup/run.mjs [--runs 20] [--warmup 3] [--mem-runs 5] [--markdown] [--inherit-env] [--results] [--summary FILE]
//
// Cases (all on the embedded SQLite default, in a throw-away HOME):
//   node -e 0                 the floor: starting Node itself
//   --version, --help         launcher fast paths
//   status --json             CLI session (portal-mfa login first): no bcrypt
//   verify --user U --code C  CLI session of a support rep; a fresh valid code for a new user each run
//   status --json --as E      password on stdin: one bcrypt check (~80 ms by design)
//   verify --as U --code C    password on stdin + a fresh valid code
// Each run spawns the process directly (no shell) and waits for it to exit; warm-up runs first,
// then the cases are interleaved round by round so a change in machine load hits them alike.
// Medians are reported. Peak memory is the maximum resident set size from `/usr/bin/time -f %M`
// in separate runs (so the wrapper does not distort the timings).
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_FILE, replaceResultsSection } from '../results.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(root, 'bin', 'portal-mfa.js');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const RUNS = opt('--runs', 20);
const WARMUP = opt('--warmup', 3);
const MEM_RUNS = opt('--mem-runs', 5);
const MARKDOWN = args.includes('--markdown');
const TIME = '/usr/bin/time';
const haveTime = existsSync(TIME);

if (!existsSync(path.join(root, 'dist', 'src', 'cli', 'portal-mfa.cjs'))) {
  console.error('bench/startup: build first (npm run build)');
  process.exit(2);
}

// --- independent TOTP (RFC 6238, SHA1, 6 digits, 30 s) --------------------------------------
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32ToBytes(s) {
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of s.replace(/[\s=]/g, '').toUpperCase()) {
    value = (value << 5) | B32.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}
function totpAt(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32ToBytes(secret)).update(counter).digest();
  const o = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(bin % 1_000_000).padStart(6, '0');
}
const step = () => Math.floor(Date.now() / 30_000);
/** the current step, after waiting out a step boundary less than 3 s away */
function safeStep() {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 3_000) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, left + 50);
  return step();
}

// --- a throw-away HOME with the embedded default database -----------------------------------
const home = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-bench-startup-'));
process.on('exit', () => rmSync(home, { recursive: true, force: true }));
// By default a minimal environment, so the floor is Node itself; --inherit-env keeps the caller's
// (e.g. NODE_EXTRA_CA_CERTS, which makes every Node start read a CA bundle: ~35 ms here).
const INHERIT = args.includes('--inherit-env');
const env = {
  ...(INHERIT ? Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTAL_MFA_'))) : {}),
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: home,
  XDG_DATA_HOME: path.join(home, '.local', 'share'),
  XDG_CONFIG_HOME: path.join(home, '.config'),
  NO_COLOR: '1',
  LANG: 'C.UTF-8',
};
const sessionEnv = { ...env, XDG_CONFIG_HOME: path.join(home, '.config-session') };
// logins write their session here, so the measured session above stays the same one
const loginEnv = { ...env, XDG_CONFIG_HOME: path.join(home, '.config-login') };
for (const d of [env.XDG_DATA_HOME, env.XDG_CONFIG_HOME, sessionEnv.XDG_CONFIG_HOME, loginEnv.XDG_CONFIG_HOME]) mkdirSync(d, { recursive: true, mode: 0o700 });

function cli(argv, { input, e = env, ok = true } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...argv], { env: e, input: input ?? '', encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (ok && r.status !== 0) throw new Error(`portal-mfa ${argv.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r;
}

const perVerify = WARMUP + RUNS + MEM_RUNS;
const members = Array.from({ length: 2 * perVerify }, (_, i) => `member-${String(i + 1).padStart(6, '0')}@acme.example`);
const MEMBER_PW = 'member-demo-pass';
const SAM = { email: 'sam@support.example', password: 'sam-demo-pass' };

process.stderr.write(`setting up ${members.length} enrolled users in ${home} …\n`);
cli(['demo', '--members', String(members.length)]);
const secrets = new Map();
for (const email of members) {
  const pending = JSON.parse(cli(['enroll', '--as', email, '--password-stdin', '--no-confirm', '--json'], { input: `${MEMBER_PW}\n` }).stdout);
  // confirm with the previous step's code (drift -1), so the current step's code stays unused
  cli(['enroll', '--as', email, '--password-stdin', '--confirm', totpAt(pending.secret, safeStep() - 1), '--json'], { input: `${MEMBER_PW}\n` });
  secrets.set(email, pending.secret);
}
cli(['login', '--as', SAM.email, '--password-stdin'], { input: `${SAM.password}\n`, e: sessionEnv });

// --- the cases ------------------------------------------------------------------------------
const sessionVerifyUsers = members.slice(0, perVerify);
const passwordVerifyUsers = members.slice(perVerify);
const cases = [
  { name: 'node -e 0 (floor)', floor: true, cmd: () => ({ argv: ['-e', '0'], node: true }) },
  { name: 'portal-mfa --version', target: 1.3, cmd: () => ({ argv: ['--version'] }) },
  { name: 'portal-mfa --help', target: 1.3, cmd: () => ({ argv: ['--help'] }) },
  { name: 'status --json (session)', target: 2, cmd: () => ({ argv: ['status', '--json'], e: sessionEnv }) },
  {
    name: 'verify --user U --code C (session)',
    target: 2,
    cmd: () => {
      const u = sessionVerifyUsers.shift();
      return { argv: ['verify', '--user', u, '--code', totpAt(secrets.get(u), safeStep())], e: sessionEnv };
    },
  },
  { name: 'db status (session)', target: 2, cmd: () => ({ argv: ['db', 'status'], e: sessionEnv }) },
  { name: 'org list --json (session)', target: 2, cmd: () => ({ argv: ['org', 'list', '--json'], e: sessionEnv }) },
  {
    // login checks the password: bcrypt (cost 10, ~80–250 ms here) is the point of it, so no 2× target
    name: 'login --as E (bcrypt)',
    cmd: () => ({ argv: ['login', '--as', SAM.email, '--password-stdin'], input: `${SAM.password}\n`, e: loginEnv }),
  },
  { name: 'status --json --as E (bcrypt)', cmd: () => ({ argv: ['--as', SAM.email, '--password-stdin', 'status', '--json'], input: `${SAM.password}\n` }) },
  {
    name: 'verify --as U --code C (bcrypt)',
    cmd: () => {
      const u = passwordVerifyUsers.shift();
      return { argv: ['--as', u, '--password-stdin', 'verify', '--code', totpAt(secrets.get(u), safeStep())], input: `${MEMBER_PW}\n` };
    },
  },
];

function runOnce(c, wrapTime) {
  const { argv, node, e = env, input = '' } = c.cmd();
  const full = node ? argv : [BIN, ...argv];
  const [file, fileArgs] = wrapTime ? [TIME, ['-f', '%M', process.execPath, ...full]] : [process.execPath, full];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, fileArgs, { env: e, input, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${c.name}: exit ${r.status}\n${r.stderr}`);
  if (!wrapTime) return ms;
  const kb = Number(r.stderr.trim().split('\n').pop());
  return kb / 1024;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const load0 = os.loadavg();
process.stderr.write(`warm-up (${WARMUP} run(s) of each) …\n`);
for (const c of cases) for (let i = 0; i < WARMUP; i++) runOnce(c, false);
const times = new Map(cases.map((c) => [c.name, []]));
process.stderr.write(`measuring (${RUNS} round(s), cases interleaved) …\n`);
for (let round = 0; round < RUNS; round++) for (const c of cases) times.get(c.name).push(runOnce(c, false));
const mem = new Map(cases.map((c) => [c.name, []]));
if (haveTime) for (let i = 0; i < MEM_RUNS; i++) for (const c of cases) mem.get(c.name).push(runOnce(c, true));
const load1 = os.loadavg();

const floor = median(times.get(cases[0].name));
const floorMem = haveTime ? median(mem.get(cases[0].name)) : NaN;
const rows = cases.map((c) => {
  const t = times.get(c.name);
  const med = median(t);
  const ratio = med / floor;
  return {
    name: c.name,
    median: med,
    min: Math.min(...t),
    ratio,
    target: c.target,
    met: c.target === undefined ? null : ratio <= c.target,
    rss: haveTime ? median(mem.get(c.name)) : NaN,
  };
});

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const envNote = INHERIT
  ? `inherited environment${process.env.NODE_EXTRA_CA_CERTS ? ' (NODE_EXTRA_CA_CERTS set)' : ''}${process.env.NODE_OPTIONS ? ` (NODE_OPTIONS=${process.env.NODE_OPTIONS})` : ''}`
  : 'minimal environment';
const header = `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · node ${process.version} · ${os.cpus().length} × ${cpu} · ${envNote} · load ${load0.map((l) => l.toFixed(2)).join('/')} → ${load1.map((l) => l.toFixed(2)).join('/')} · ${RUNS} runs (+${WARMUP} warm-up) per case, medians`;
const markdown = [
  header,
  '',
  '| command | wall (median) | wall (min) | × floor | target | peak RSS (median) | × floor RSS |',
  '| --- | ---: | ---: | ---: | --- | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| \`${r.name}\` | ${r.median.toFixed(0)} ms | ${r.min.toFixed(0)} ms | ${r.ratio.toFixed(2)}× | ${r.target === undefined ? '—' : `≤ ${r.target}× ${r.met ? '✓' : '✗'}`} | ${Number.isNaN(r.rss) ? '—' : `${r.rss.toFixed(0)} MB`} | ${Number.isNaN(r.rss) ? '—' : `${(r.rss / floorMem).toFixed(2)}×`} |`,
  ),
].join('\n');
if (MARKDOWN) {
  console.log(markdown);
} else {
  console.log(header);
  for (const r of rows) {
    const target = r.target === undefined ? '' : `  target ≤ ${r.target}× ${r.met ? 'met' : 'MISSED'}`;
    console.log(
      `${r.name.padEnd(38)} ${r.median.toFixed(0).padStart(5)} ms (min ${r.min.toFixed(0).padStart(4)})  ${r.ratio.toFixed(2)}×  ${Number.isNaN(r.rss) ? '' : `${r.rss.toFixed(0).padStart(4)} MB`}${target}`,
    );
  }
}
if (!haveTime) console.error('note: /usr/bin/time not found (apt-get install -y time): no peak memory');

// --summary FILE: the rows as JSON (bench/all.mjs builds the summary table of bench/RESULTS.md from it)
const summaryAt = args.indexOf('--summary');
if (summaryAt >= 0) writeFileSync(args[summaryAt + 1], JSON.stringify({ header, floor, environment: envNote, rows }, null, 2));
// --results (--readme, its old name): replace the start-up table between its markers in bench/RESULTS.md
if (args.includes('--results') || args.includes('--readme')) {
  if (!replaceResultsSection('<!-- startup:results:start -->', '<!-- startup:results:end -->', markdown))
    throw new Error(`${RESULTS_FILE}: startup:results markers not found`);
}
process.exitCode = rows.some((r) => r.met === false) ? 1 : 0;
