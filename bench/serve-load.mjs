#!/usr/bin/env node
/**
 * Two `portal-mfa serve` instances on loopback over one MariaDB database: 200 concurrent clients
 * (a portal backend's workers, one service key, scope vouch) verify codes for 1,000 users for a
 * bounded time, sending each request to either instance. Then the guarantees are checked across
 * the instances:
 *   - replay: each (user, 30-second step) code was accepted at most once — by the answers and by the
 *     audit trail (the first request of a step gets 200, every later one 401 replayed_code);
 *   - lockout: 20 users get wrong codes from both instances at once: exactly maxFailures (5) are
 *     answered wrong_code, then locked (429), and the database holds the lock;
 *   - diagnosis: 20 users get 24 diagnoses at once across both instances: at most 10 are answered;
 *   - zero unexpected errors (any other status, or a failed connection).
 * Throughput and p50/p99 latency of the verify loop go to bench/RESULTS.md (bench/results.mjs).
 *
 *   npm run build && node bench/serve-load.mjs                 # a throw-away mariadbd, 60 s
 *   node bench/serve-load.mjs --seconds 20 --no-results        # a shorter trial
 *   node bench/serve-load.mjs --mysql mysql://u:p@127.0.0.1:3306/db
 *   node bench/serve-load.mjs --sqlite                            # one SQLite file under both instances
 * Options: --seconds N (60), --clients N (200), --users N (1000). Loopback only; every loop stops by itself.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMariadb } from './mariadb.mjs';
import { replaceResultsSection, resultsDisabled } from './results.mjs';

const APP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const SECONDS = Number(opt('seconds', '60'));
const CLIENTS = Number(opt('clients', '200'));
const USERS = Number(opt('users', '1000'));
const LOCKED_USERS = 20;
const DIAGNOSED_USERS = 20;
const WRITE_RESULTS = !resultsDisabled(args);
const TMP = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-serve-load-'));
process.once('exit', () => {
  try {
    rmSync(TMP, { recursive: true, force: true });
  } catch {
    /* a server still writing its last files: the temp dir is left */
  }
});

const dist = (p) => import(path.join(APP, 'dist', 'src', p));
const { codeForStep, generateSecret } = await dist('core/primitives/totp.js');
const { encryptSecret } = await dist('core/primitives/secrets.js');
const { keyFromBase64 } = await dist('core/primitives/secretBox.js');
const { activatePendingCredential, replacePendingCredential } = await dist('db/credentialRepository.js');
const { openDatabase } = await dist('db/connect.js');
const { parseDatabaseUrl } = await dist('db/url.js');

function cli(env, argv) {
  const r = spawnSync(process.execPath, [path.join(APP, 'bin', 'portal-mfa.js'), ...argv], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`portal-mfa ${argv.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

function startServe(env, dbUrl) {
  const child = spawn(
    process.execPath,
    [path.join(APP, 'bin', 'portal-mfa.js'), '--db', dbUrl, 'serve', '--listen', '127.0.0.1:0', '--pool', '20', '--log-level', 'warn'],
    {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(err);
      if (m) resolve({ child, port: Number(m[2]) });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS + 50 });

/** One request: status, parsed body, milliseconds. A failed connection is { status: 0 }. */
function request(port, method, url, headers, body) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: url, agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode, json, ms: performance.now() - t0 });
      });
    });
    req.on('error', (e) => resolve({ status: 0, json: { error: { code: e.code ?? 'network' } }, ms: performance.now() - t0 }));
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

// ── set-up ───────────────────────────────────────────────────────────────────────────────────────
const started = Date.now();
const given = opt('mysql', undefined);
// --sqlite: the same over one SQLite file (both instances write it; SQLite serialises the writers)
const SQLITE = args.includes('--sqlite');
const server = SQLITE
  ? { url: `sqlite:${path.join(TMP, 'portal.db')}`, version: 'SQLite', stop: async () => {} }
  : given
    ? { url: given, version: '(given)', stop: async () => {} }
    : await startMariadb({ dir: TMP, database: 'serve_bench', maxConnections: 500 });
const key = randomBytes(32).toString('base64');
const env = {
  PATH: process.env.PATH,
  HOME: TMP,
  XDG_DATA_HOME: path.join(TMP, 'data'),
  XDG_CONFIG_HOME: path.join(TMP, 'config'),
  PORTAL_MFA_KEY: key,
  NO_COLOR: '1',
};
cli(env, ['--db', server.url, 'db', 'migrate']);
cli(env, ['--db', server.url, 'demo', '--members', String(USERS + LOCKED_USERS + DIAGNOSED_USERS)]);
const serviceKey = JSON.parse(cli(env, ['--db', server.url, 'service-key', 'create', '--name', 'load-bench', '--scope', 'vouch', '--json'])).key;

// every generated member enrolled directly in the database (the bench measures verification, not enrolment)
const db = await openDatabase(parseDatabaseUrl(server.url), {});
const keyring = [keyFromBase64(key)];
const rows = await db.knex('users').where('email', 'like', 'member-%@acme.example').orderBy('id').select('id');
const users = [];
const now = Date.now();
for (const r of rows) {
  const secret = generateSecret();
  const sealed = encryptSecret({ keyring: () => keyring, random: (n) => randomBytes(n) }, secret);
  const pendingId = await replacePendingCredential(db.store, String(r.id), sealed, now);
  await activatePendingCredential(db.store, pendingId, String(r.id), 0, now);
  users.push({ id: String(r.id), secret });
}
const loadUsers = users.slice(0, USERS);
const lockUsers = users.slice(USERS, USERS + LOCKED_USERS);
const diagnoseUsers = users.slice(USERS + LOCKED_USERS, USERS + LOCKED_USERS + DIAGNOSED_USERS);
const instances = [await startServe(env, server.url), await startServe(env, server.url)];
const ports = instances.map((i) => i.port);
const as = (u) => ({ authorization: `Bearer ${serviceKey}`, 'x-portal-mfa-act-for': u.id });
console.error(`set-up: ${users.length} users enrolled, 2 instances on ports ${ports.join(', ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

// ── the load: CLIENTS workers, each with its share of the users, each request to either instance ──
const accepted = new Map(); // "user:step" → times accepted
const latencies = [];
const unexpected = [];
let replays = 0;
const deadline = Date.now() + SECONDS * 1000;
let next = 0;
async function worker(w) {
  const mine = loadUsers.filter((_, i) => i % CLIENTS === w);
  while (Date.now() < deadline) {
    for (const u of mine) {
      if (Date.now() >= deadline) return;
      const step = Math.floor(Date.now() / 30_000);
      const port = ports[next++ % 2];
      const r = await request(port, 'POST', '/v1/verify', as(u), { code: codeForStep(u.secret, step) });
      latencies.push(r.ms);
      if (r.status === 200) {
        const k = `${u.id}:${step + (r.json.driftSteps ?? 0)}`;
        accepted.set(k, (accepted.get(k) ?? 0) + 1);
      } else if (r.status === 401 && r.json?.error?.code === 'replayed_code') replays++;
      else unexpected.push({ where: 'verify', status: r.status, code: r.json?.error?.code });
    }
  }
}
const t0 = performance.now();
await Promise.all(Array.from({ length: CLIENTS }, (_, w) => worker(w)));
const elapsed = (performance.now() - t0) / 1000;

// ── lockout across instances: 8 wrong codes per user at once, half to each instance ──
const lockResults = await Promise.all(
  lockUsers.map(async (u) => {
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => request(ports[i % 2], 'POST', '/v1/verify', as(u), { code: '000000' })));
    const wrong = rs.filter((r) => r.status === 401 && r.json?.error?.code === 'wrong_code').length;
    const locked = rs.filter((r) => r.status === 429 && r.json?.error?.code === 'locked').length;
    for (const r of rs)
      if (!(r.status === 401 && r.json?.error?.code === 'wrong_code') && !(r.status === 429))
        unexpected.push({ where: 'lockout', status: r.status, code: r.json?.error?.code });
    const cred = await db.knex(db.store.t.credentials).where({ user_id: u.id, status: 'active' }).first('locked_until', 'consecutive_failures');
    return { wrong, locked, lockedInDb: Number(cred.locked_until) > Date.now(), failures: Number(cred.consecutive_failures) };
  }),
);

// ── diagnosis budget across instances: 24 at once per user ──
const diagnoseResults = await Promise.all(
  diagnoseUsers.map(async (u) => {
    const step = Math.floor(Date.now() / 30_000);
    const rs = await Promise.all(
      Array.from({ length: 24 }, (_, i) => request(ports[i % 2], 'POST', '/v1/diagnose', as(u), { code: codeForStep(u.secret, step - 3) })),
    );
    for (const r of rs)
      if (r.status !== 200 && !(r.status === 429 && r.json?.error?.code === 'rate_limited'))
        unexpected.push({ where: 'diagnose', status: r.status, code: r.json?.error?.code });
    return rs.filter((r) => r.status === 200).length;
  }),
);

// ── checks against the database ──
const doubleAccepted = [...accepted.values()].filter((n) => n > 1).length;
const acceptedCount = [...accepted.values()].reduce((a, b) => a + b, 0);
const auditSuccess = Number((await db.knex(db.store.t.audit_events).where({ action: 'mfa.verify', outcome: 'success' }).count({ n: '*' }).first()).n);
for (const i of instances) i.child.kill('SIGTERM');
await Promise.all(instances.map((i) => new Promise((r) => (i.child.exitCode !== null ? r() : i.child.once('exit', r)))));
await db.close();
await server.stop();

latencies.sort((a, b) => a - b);
const total = latencies.length;
const checks = {
  'each code accepted at most once (answers)': doubleAccepted === 0,
  'accepted codes = audit successes': acceptedCount === auditSuccess,
  'lockout: exactly 5 wrong answers per user, then locked, in the database': lockResults.every((r) => r.wrong === 5 && r.locked === 3 && r.lockedInDb),
  'diagnosis: at most 10 answered per user': diagnoseResults.every((n) => n <= 10),
  'zero unexpected errors': unexpected.length === 0,
};
const lines = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${SQLITE ? 'SQLite' : `MariaDB ${server.version}`}, Node ${process.version}: ` +
    `\`node bench/serve-load.mjs --seconds ${SECONDS}\` — 2 instances of \`portal-mfa serve\` on loopback, ${CLIENTS} concurrent clients, ${USERS} users.`,
  '',
  ...markdownTable([
    ['requests (verify)', `${total} in ${elapsed.toFixed(1)} s`],
    ['throughput', `${(total / elapsed).toFixed(0)} requests/s`],
    ['latency p50 / p99', `${quantile(latencies, 0.5).toFixed(1)} ms / ${quantile(latencies, 0.99).toFixed(1)} ms`],
    ['codes accepted / replays refused', `${acceptedCount} / ${replays}`],
    [
      `lockout (${LOCKED_USERS} users × 8 wrong codes at once)`,
      lockResults.map((r) => r.wrong).join(',') === Array(LOCKED_USERS).fill(5).join(',') ? '5 wrong, then locked, every user' : JSON.stringify(lockResults),
    ],
    [`diagnoses answered (${DIAGNOSED_USERS} users × 24 at once)`, `max ${Math.max(...diagnoseResults)} per user`],
    ['unexpected errors', String(unexpected.length)],
  ]),
  '',
  ...Object.entries(checks).map(([k, ok]) => `- ${ok ? 'held' : '**FAILED**'}: ${k}`),
];
console.log(lines.join('\n'));
if (unexpected.length > 0) console.error('unexpected:', JSON.stringify(unexpected.slice(0, 10)));
const marker = SQLITE ? 'serve-load-sqlite' : 'serve-load';
if (WRITE_RESULTS && !replaceResultsSection(`<!-- ${marker}:begin -->`, `<!-- ${marker}:end -->`, lines.join('\n')))
  console.error('bench/RESULTS.md has no serve-load markers');
agent.destroy();
process.exit(Object.values(checks).every(Boolean) ? 0 : 1);

/** A two-column Markdown table padded as the formatter (Biome) writes it: bench/RESULTS.md stays lint-clean. */
function markdownTable(rows) {
  const all = [['figure', 'value'], ...rows];
  const w = [0, 1].map((c) => Math.max(3, ...all.map((r) => r[c].length)));
  const line = (r) => `| ${r[0].padEnd(w[0])} | ${r[1].padEnd(w[1])} |`;
  return [line(all[0]), `| ${'-'.repeat(w[0])} | ${'-'.repeat(w[1])} |`, ...rows.map(line)];
}
