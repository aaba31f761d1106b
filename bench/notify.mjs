#!/usr/bin/env node
/**
 * Benchmark: deliver N queued notices (default 10,000) with `portal-mfa notify send` to an SMTP
 * server on 127.0.0.1 (smtp-server, in this process), on the embedded SQLite and on a throw-away
 * MariaDB. Reports wall-clock time and messages per second, and checks that every notice arrived
 * exactly once and is marked sent. Not part of `npm test`.
 *
 *   npm run build
 *   node bench/notify.mjs                              # 10,000 notices, sqlite and mariadb
 *   node bench/notify.mjs --count 2000 --dialects sqlite --server-delay 5
 *
 * Options: --count N, --dialects sqlite,mariadb, --server-delay MS (the SMTP server waits this long
 * before accepting each message: a slower relay), --no-results (don't rewrite the table in bench/RESULTS.md).
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import knexFactory from 'knex';
import { SMTPServer } from 'smtp-server';
import { startMariadb } from './mariadb.mjs';
import { RESULTS_FILE, replaceResultsSection, resultsDisabled } from './results.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const COUNT = Number(opt('count', '10000'));
const DIALECTS = opt('dialects', 'sqlite,mariadb').split(',');
const SERVER_DELAY = Number(opt('server-delay', '0'));
const WRITE_RESULTS = !resultsDisabled(args);

const TMP = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-bench-notify-'));
process.once('exit', () => rmSync(TMP, { recursive: true, force: true }));

// the CLI from a copy, so a rebuild during the run doesn't change what is measured
const APP = path.join(TMP, 'app');
for (const d of ['bin', 'dist', 'package.json']) cpSync(path.join(ROOT, d), path.join(APP, d), { recursive: true });
symlinkSync(path.join(ROOT, 'node_modules'), path.join(APP, 'node_modules'), 'dir');
const { queueNotification } = await import(path.join(APP, 'dist/src/core/notify/outbox.js'));

// ---------------------------------------------------------------------------------------------
// the SMTP server: counts messages by Message-ID, no parsing (the client is what is measured)

async function startSmtp() {
  const ids = new Map();
  let messages = 0;
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    closeTimeout: 200,
    onData(stream, _session, callback) {
      let head = '';
      stream.on('data', (c) => {
        if (head.length < 4096) head += c.toString('utf8');
      });
      stream.on('end', () => {
        const id = /^message-id:\s*(.+)$/im.exec(head)?.[1]?.trim() ?? '';
        ids.set(id, (ids.get(id) ?? 0) + 1);
        messages++;
        if (SERVER_DELAY > 0) setTimeout(callback, SERVER_DELAY);
        else callback();
      });
    },
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address();
  return {
    url: `smtp://127.0.0.1:${port}`,
    stats: () => ({ messages, distinct: ids.size, duplicates: [...ids.values()].filter((n) => n > 1).length }),
    reset: () => {
      ids.clear();
      messages = 0;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// ---------------------------------------------------------------------------------------------
// MariaDB (a throw-away server, as in bench/org-users.mjs)

// ---------------------------------------------------------------------------------------------

/** Run the CLI without blocking this process (the SMTP server answering it lives here). */
function cli(env, argv) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [path.join(APP, 'bin/portal-mfa.js'), ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (status !== 0) reject(new Error(`portal-mfa ${argv.join(' ')} exited ${status}:\n${stderr}`));
      else resolve({ stdout, stderr, seconds });
    });
  });
}

async function seed(dbUrl, count) {
  const knex = dbUrl.startsWith('sqlite:')
    ? knexFactory({ client: 'better-sqlite3', connection: { filename: dbUrl.slice(7) }, useNullAsDefault: true })
    : knexFactory({ client: 'mysql2', connection: dbUrl, pool: { min: 0, max: 2 } });
  const now = Date.now();
  const users = Array.from({ length: count }, (_, i) => ({
    email: `user-${String(i).padStart(6, '0')}@bench.example`,
    name: '',
    password_hash: 'x',
    role: 'developer',
    created_at: now,
  }));
  for (let i = 0; i < users.length; i += 500) await knex('users').insert(users.slice(i, i + 500));
  const rows = await knex('users').where('email', 'like', '%@bench.example').select('id', 'email');
  const deps = { clock: () => now, settings: { issuer: 'Bench Portal' }, origin: { host: 'bench', osUser: 'bench' } };
  const t0 = Date.now();
  // one transaction per 500, as a bulk command would write them (there: one per user)
  for (let i = 0; i < rows.length; i += 500) {
    await knex.transaction(async (trx) => {
      for (const u of rows.slice(i, i + 500))
        await queueNotification(
          trx,
          deps,
          { id: Number(u.id), email: u.email },
          { kind: 'org-reminder', organisation: 'acme', deadline: now + 14 * 86_400_000 },
        );
    });
  }
  const queueSeconds = (Date.now() - t0) / 1000;
  return {
    queueSeconds,
    counts: async () => {
      const r = await knex('notifications').select('status').count({ n: '*' }).groupBy('status');
      return Object.fromEntries(r.map((x) => [x.status, Number(x.n)]));
    },
    close: () => knex.destroy(),
  };
}

async function benchOne(dialect, smtp) {
  let maria;
  let dbUrl;
  if (dialect === 'sqlite') dbUrl = `sqlite:${path.join(process.env.BENCH_DB_DIR ?? TMP, 'notify.db')}`;
  else {
    maria = await startMariadb({ dir: TMP, database: 'notify_bench' });
    dbUrl = maria.url;
  }
  const env = {
    PATH: process.env.PATH,
    HOME: TMP,
    XDG_DATA_HOME: TMP,
    XDG_CONFIG_HOME: TMP,
    NO_COLOR: '1',
    PORTAL_MFA_SMTP_URL: smtp.url,
    PORTAL_MFA_MAIL_FROM: 'Bench Portal <no-reply@bench.example>',
  };
  try {
    await cli(env, ['--db', dbUrl, 'db', 'migrate']);
    const data = await seed(dbUrl, COUNT);
    smtp.reset();
    const run = await cli(env, ['--db', dbUrl, 'notify', 'send', '--json']);
    const result = JSON.parse(run.stdout);
    const received = smtp.stats();
    const counts = await data.counts();
    await data.close();
    const ok = result.sent === COUNT && received.messages === COUNT && received.distinct === COUNT && received.duplicates === 0 && counts.sent === COUNT;
    if (!ok)
      throw new Error(`${dialect}: expected ${COUNT} sent once: ${JSON.stringify({ result: { ...result, errors: result.errors.length }, received, counts })}`);
    return {
      dialect: dialect === 'sqlite' ? 'SQLite (embedded file)' : `MariaDB ${maria.version.split('-')[0]}`,
      count: COUNT,
      seconds: run.seconds,
      rate: COUNT / run.seconds,
      queueSeconds: data.queueSeconds,
    };
  } finally {
    maria?.stop();
  }
}

const smtp = await startSmtp();
const results = [];
for (const d of DIALECTS) {
  const dialect = d === 'mysql' ? 'mariadb' : d;
  process.stderr.write(`${dialect}: queueing and delivering ${COUNT} notices…\n`);
  results.push(await benchOne(dialect, smtp));
}
await smtp.close();

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  `| database | notices | \`notify send\` wall time | rate | queueing (in transactions) |`,
  '| --- | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.dialect} | ${r.count.toLocaleString('en-US')} | ${r.seconds.toFixed(2)} s | **${Math.round(r.rate).toLocaleString('en-US')} msgs/s** | ${r.queueSeconds.toFixed(2)} s |`,
  ),
];
const load = os.loadavg()[0].toFixed(1);
const meta = `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${cpu} (load average ${load} at the end: the machine is shared), Node ${process.version}, SMTP server delay ${SERVER_DELAY} ms, 5 connections.`;
const table = `${lines.join('\n')}\n\n${meta}`;
process.stdout.write(table + '\n');

if (WRITE_RESULTS && !replaceResultsSection('<!-- notify-results:begin -->', '<!-- notify-results:end -->', table)) {
  process.stderr.write(`${RESULTS_FILE} has no notify-results markers; not updated\n`);
}
