#!/usr/bin/env node
/**
 * Benchmark (issue 19 item 5, issue 22 item 2): 100 password checks started at once in one
 * process, and how long the event loop is held up meanwhile (perf_hooks.monitorEventLoopDelay at
 * 1 ms resolution for the p99, the longest gap between ticks of a 1 ms timer for the maximum), with
 * the total time and the event loop's utilisation (the share of the time the main thread was busy:
 * what is ours, whatever else runs on the machine). Each figure is the median of --runs runs.
 * Target: max lag < 50 ms. Not part of `npm test`.
 *
 *   npm run build
 *   node bench/password-lag.mjs                   # bcrypt cost 10, then a mix of every format
 *   node bench/password-lag.mjs --count 20 --runs 1 --no-readme
 *   node bench/password-lag.mjs --bcryptjs /tmp/old/node_modules/bcryptjs   # also the old figure
 *   node bench/password-lag.mjs --mysql mysql://user:pass@127.0.0.1:3306/empty_db  # sign-ins on MariaDB too
 *
 * The checks run through the built library (dist/src/core/primitives/passwords.js), the right password for
 * half of them and a wrong one for the other half; the hashes are made beforehand, untimed. With
 * --bcryptjs PATH the same bcrypt checks also run through bcryptjs (what portal-mfa used before),
 * for comparison: `npm install --prefix /tmp/old bcryptjs@3` provides one.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { replaceResultsSection, resultsDisabled } from './results.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const COUNT = Number(opt('count', '100'));
const RUNS = Number(opt('runs', '3'));
const BCRYPTJS = opt('bcryptjs', undefined);
const WRITE_README = !resultsDisabled(args);
const TARGET_MS = 50;
const load0 = os.loadavg()[0];

const dist = (p) => import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'core', p)).href);
const { verifyPassword, hashPasswordBcrypt } = await dist('primitives/passwords.js');
const { computeIterated, CRYPT_ALPHABET } = await dist('primitives/passwords/iterated.js');
const argon2 = createRequire(import.meta.url)('@node-rs/argon2');

const PASSWORD = 'correct horse battery staple';
const salt = () => randomBytes(12).toString('base64').replace(/[+/=]/g, 'x').slice(0, 16);

/** The formats of the mix, each at the cost its framework generates by default today. */
async function mixedHashes() {
  const b64 = (bytes) => bytes.toString('base64');
  const phpassSalt = salt().slice(0, 8);
  const drupalSalt = salt().slice(0, 8);
  const shaSalt = salt();
  const djangoSalt = salt();
  const werkzeugSalt = salt();
  return [
    ['bcrypt (cost 10)', await hashPasswordBcrypt(PASSWORD, 10)],
    ['argon2id (m=19456, t=2, p=1: OWASP)', await argon2.hash(PASSWORD, { memoryCost: 19456, timeCost: 2, parallelism: 1 })],
    ['django-pbkdf2-sha256 (600,000)', `pbkdf2_sha256$600000$${djangoSalt}$${b64(pbkdf2Sync(PASSWORD, djangoSalt, 600_000, 32, 'sha256'))}`],
    ['django-bcrypt-sha256 (cost 12)', `bcrypt_sha256$${await hashPasswordBcrypt(createHash('sha256').update(PASSWORD).digest('hex'), 12)}`],
    [
      'werkzeug-scrypt (32768:8:1)',
      `scrypt:32768:8:1$${werkzeugSalt}$${scryptSync(PASSWORD, werkzeugSalt, 64, { N: 32768, r: 8, p: 1, maxmem: 64 * 2 ** 20 }).toString('hex')}`,
    ],
    [
      'phpass (WordPress, 2^13)',
      `$P$${CRYPT_ALPHABET[13]}${phpassSalt}${computeIterated({ kind: 'phpass', digest: 'md5', password: PASSWORD, salt: phpassSalt, countLog2: 13 })}`,
    ],
    [
      'drupal7-sha512 (2^15)',
      `$S$${CRYPT_ALPHABET[15]}${drupalSalt}${computeIterated({ kind: 'phpass', digest: 'sha512', password: PASSWORD, salt: drupalSalt, countLog2: 15 }).slice(0, 43)}`,
    ],
    ['wordpress-bcrypt (cost 10)', `$wp${await hashPasswordBcrypt(createHmac('sha384', 'wp-sha384').update(PASSWORD).digest('base64'), 10)}`],
    ['sha512-crypt (5000)', `$6$${shaSalt}$${computeIterated({ kind: 'sha-crypt', digest: 'sha512', password: PASSWORD, salt: shaSalt, rounds: 5000 })}`],
  ];
}

/**
 * Runs `work` RUNS times under the monitors; the median of each figure. The maximum is the longest
 * gap between two ticks of a 1 ms timer (less the 1 ms), counted up to the end of the run: the
 * histogram alone misses a loop that is blocked until the work is done, as bcryptjs's is.
 */
async function measure(label, count, work) {
  const runs = [];
  for (let run = 0; run < RUNS; run++) {
    const lag = monitorEventLoopDelay({ resolution: 1 });
    const elu = performance.eventLoopUtilization();
    let last = performance.now();
    let longest = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 1);
    lag.enable();
    const started = performance.now();
    await work();
    const ended = performance.now();
    lag.disable();
    clearInterval(ticker);
    longest = Math.max(longest, ended - last);
    runs.push({
      maxMs: Math.max(longest - 1, lag.max / 1e6),
      // no sample at all when the loop never turned during the run
      p99Ms: lag.count > 0 ? lag.percentile(99) / 1e6 : Number.NaN,
      totalMs: ended - started,
      utilisation: performance.eventLoopUtilization(elu).utilization,
    });
  }
  const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  return {
    label,
    count,
    maxMs: median('maxMs'),
    p99Ms: median('p99Ms'),
    totalMs: median('totalMs'),
    utilisation: median('utilisation'),
    allMax: runs.map((r) => r.maxMs),
  };
}

/** Starts `count` checks at once and checks their answers. */
function checks(label, count, check) {
  return measure(label, count, async () => {
    const results = await Promise.all(Array.from({ length: count }, (_, i) => check(i)));
    if (results.some((ok, i) => ok !== (i % 2 === 0))) throw new Error(`${label}: a check gave the wrong answer`);
  });
}

const attempt = (i) => (i % 2 === 0 ? PASSWORD : `${PASSWORD}!`);
// the same monitors over an idle process: what the machine itself (other processes, the OS) adds
const rows = [await measure('nothing (the process idle, 5 s, for comparison)', 0, () => new Promise((resolve) => setTimeout(resolve, 5000)))];
const bcrypt10 = await hashPasswordBcrypt(PASSWORD, 10);
// one check first: the native addon is loaded and the thread pool started before timing
await verifyPassword(PASSWORD, bcrypt10);
rows.push(await checks('bcrypt cost 10 (@node-rs/bcrypt)', COUNT, async (i) => (await verifyPassword(attempt(i), bcrypt10)).ok));

const mix = await mixedHashes();
for (const [, hash] of mix) await verifyPassword(PASSWORD, hash); // warm: addons loaded, worker threads up
rows.push(
  await checks(`mix of ${mix.length} formats (bench/README.md)`, COUNT, async (i) => {
    const [, hash] = mix[Math.floor(i / 2) % mix.length];
    return (await verifyPassword(attempt(i), hash)).ok;
  }),
);

// The same through the library's whole sign-in (issue 22 item 2): openPortalMfa over a demo portal on
// SQLite (bcrypt cost 10 hashes), COUNT signIn calls at once, right and wrong passwords alternating
// over the demo accounts (the wrong ones stay within each account's password budget).
// With --mysql URL (an empty database) the same runs on MariaDB/MySQL as well: SQLite's driver is
// synchronous, so every statement of a sign-in runs on the main thread there.
rows.push(await signIns(COUNT));
if (opt('mysql', undefined)) rows.push(await signIns(COUNT, opt('mysql', undefined)));

async function signIns(count, mysqlUrl) {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const home = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-bench-'));
  const db = path.join(home, 'portal.db');
  const key = randomBytes(32).toString('base64');
  const env = { ...process.env, HOME: home, NO_COLOR: '1', PORTAL_MFA_KEY: key };
  const url = mysqlUrl ?? `sqlite:${db}`;
  for (const argv of [['db', 'migrate'], ['demo']])
    execFileSync(process.execPath, [path.join(ROOT, 'bin', 'portal-mfa.js'), '--db', url, ...argv], { env, stdio: 'ignore' });
  const { openPortalMfa } = await import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'index.js')).href);
  const { DEMO_ACCOUNTS } = await dist('usecases/demoData.js');
  // accounts without MFA: the sign-in is the password check and the database work around it
  const accounts = DEMO_ACCOUNTS.filter((a) => !a.email.startsWith('sam'));
  // each run an hour later on the library's clock: the wrong passwords of one run do not use up the
  // next run's wrong-password budget (the figure is the event loop's, not the rate limit's)
  let shift = 0;
  const mfa = await openPortalMfa({ databaseUrl: url, keys: [key], pool: { min: 0, max: 10 }, clock: () => Date.now() + shift });
  try {
    const one = (i) => {
      const account = accounts[i % accounts.length];
      const right = Math.floor(i / accounts.length) % 3 !== 2; // a third wrong: at most 4 per account in 100
      return mfa.signIn({ email: account.email, password: right ? account.password : `${account.password}!`, action: 'portal.login', secondFactor: {} }).then(
        () => right,
        (e) => (e.code === 'wrong_password' ? !right : Promise.reject(e)),
      );
    };
    await one(0); // warm: the pool, the addon, the statements
    const where = mysqlUrl ? 'MariaDB, pool of 10' : 'SQLite';
    return await measure(`signIn through the library (${where} demo portal, bcrypt cost 10, a third wrong)`, count, async () => {
      shift += 3_600_000;
      const answers = await Promise.all(Array.from({ length: count }, (_, i) => one(i)));
      if (answers.some((ok) => !ok)) throw new Error('signIn: a sign-in gave the wrong answer');
    });
  } finally {
    await mfa.close();
    rmSync(home, { recursive: true, force: true });
  }
}

if (BCRYPTJS) {
  const bcryptjs = createRequire(import.meta.url)(path.resolve(BCRYPTJS));
  const version = createRequire(import.meta.url)(path.join(path.resolve(BCRYPTJS), 'package.json')).version;
  rows.push(await checks(`bcrypt cost 10 (bcryptjs ${version}, before)`, COUNT, (i) => bcryptjs.compare(attempt(i), bcrypt10)));
}

const ms = (v) => (Number.isNaN(v) ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
const table = markdownTable(
  ['checks started at once', 'event-loop lag: max (each run)', 'p99', 'main thread busy', 'total time', 'max < 50 ms?'],
  ['left', 'right', 'right', 'right', 'right', 'left'],
  rows.map((r) => [
    `${r.count ? `${r.count} × ` : ''}${r.label}`,
    `${ms(r.maxMs)} (${r.allMax.map((v) => v.toFixed(0)).join(', ')})`,
    ms(r.p99Ms),
    `${(100 * r.utilisation).toFixed(1)} %`,
    ms(r.totalMs),
    r.maxMs < TARGET_MS ? 'yes' : '**no**',
  ]),
);
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`;
const note = `Medians of ${RUNS} run${RUNS === 1 ? '' : 's'}, measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`node bench/password-lag.mjs${BCRYPTJS ? ' --bcryptjs …' : ''}${opt('mysql', undefined) ? ' --mysql …' : ''}\` on ${machine}; load average ${load0.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}.`;
const text = `${table}\n\n${note}`;
console.log(text);
if (WRITE_README && !replaceResultsSection('<!-- bench:password-lag:start -->', '<!-- bench:password-lag:end -->', text)) {
  throw new Error('bench/RESULTS.md: markers <!-- bench:password-lag:start --> … <!-- bench:password-lag:end --> not found');
}

/** A Markdown table with its columns padded, as the formatter (Biome) writes it. */
function markdownTable(header, align, body) {
  const widths = header.map((h, c) => Math.max(h.length, 3, ...body.map((row) => row[c].length)));
  const cell = (text, c) => (align[c] === 'right' ? text.padStart(widths[c]) : text.padEnd(widths[c]));
  const line = (cells) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (align[c] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...body.map(line)].join('\n');
}
