#!/usr/bin/env node
// Every speed figure of the project in one command (not part of `npm test`):
//
//   npm run bench                 # = npm run build && node bench/all.mjs
//   node bench/all.mjs --quick    # smaller sizes and fewer runs: a trial, bench/RESULTS.md untouched
//
// 1. bench/startup/run.mjs, twice: in a minimal environment (the floor is Node itself) and in the
//    caller's environment (what a user of this machine sees: NODE_EXTRA_CA_CERTS and all);
// 2. bench/org-users.mjs: `org users` / `users list` against raw SQL at 10k, 100k and 1M members on
//    SQLite and MariaDB, peak memory, `demo --members 1000000`, bulk `org disable-mfa` at 10k and 100k;
// each rewrites its own section of bench/RESULTS.md; then the summary (target → result → met?) with
// the date and the machine replaces the table between the bench:summary markers there. --no-results
// (or --quick) leaves bench/RESULTS.md alone.
// Needs what the two benchmarks need (see bench/README.md): GNU time, sqlite3, mariadb-server.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_FILE, replaceResultsSection, resultsDisabled } from './results.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const WRITE_RESULTS = !QUICK && !resultsDisabled(args);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-bench-all-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function step(title, script, scriptArgs) {
  process.stderr.write(`\n=== ${title}: node ${path.relative(root, script)} ${scriptArgs.join(' ')}\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [script, ...scriptArgs], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  // exit 1 = a target missed (reported in the tables); anything else is a failure of the benchmark
  if (r.status !== 0 && r.status !== 1) throw new Error(`${title}: exit ${r.status ?? r.signal}`);
  process.stderr.write(`=== ${title}: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

const load0 = os.loadavg()[0];
const startupMinimal = path.join(tmp, 'startup-minimal.json');
const startupInherited = path.join(tmp, 'startup-inherited.json');
const listing = path.join(tmp, 'org-users.json');
const runs = QUICK ? ['--runs', '5', '--warmup', '1', '--mem-runs', '1'] : [];
step('start-up, minimal environment', path.join(root, 'bench', 'startup', 'run.mjs'), [
  ...runs,
  '--summary',
  startupMinimal,
  ...(WRITE_RESULTS ? ['--results'] : []),
]);
step('start-up, inherited environment', path.join(root, 'bench', 'startup', 'run.mjs'), [...runs, '--inherit-env', '--summary', startupInherited]);
step(
  'listing, memory, demo and bulk',
  path.join(root, 'bench', 'org-users.mjs'),
  QUICK
    ? ['--sizes', '10000', '--bulk', '10000', '--runs', '1', '--no-results', '--summary', listing]
    : ['--sizes', '10000,100000,1000000', '--bulk', '10000,100000', '--summary', listing, ...(WRITE_RESULTS ? [] : ['--no-results'])],
);

const summary = summarise(
  JSON.parse(readFileSync(startupMinimal, 'utf8')),
  JSON.parse(readFileSync(startupInherited, 'utf8')),
  JSON.parse(readFileSync(listing, 'utf8')),
);
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM, Node ${process.version}`;
const text = [
  `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench\` on ${machine}; load average ${load0.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}.`,
  '',
  '| target (issue 14) | result | met? |',
  '| --- | --- | --- |',
  ...summary.map((r) => `| ${r.target} | ${r.result} | ${r.met === null ? 'not measured' : r.met ? 'yes' : '**no**'} |`),
].join('\n');
console.log(`\n${text}`);
if (WRITE_RESULTS && !replaceResultsSection('<!-- bench:summary:start -->', '<!-- bench:summary:end -->', text)) {
  throw new Error(`${RESULTS_FILE}: markers <!-- bench:summary:start --> … <!-- bench:summary:end --> not found`);
}

/** One row per target: the start-up ratios from both environments, then the listing benchmark's own rows. */
function summarise(minimal, inherited, listingSummary) {
  const rows = [];
  for (const r of minimal.rows.filter((x) => x.target !== undefined)) {
    const other = inherited.rows.find((x) => x.name === r.name);
    rows.push({
      target: `\`${r.name}\` ≤ ${r.target}× \`node -e 0\``,
      result: `${r.ratio.toFixed(2)}× (${r.median.toFixed(0)} ms, floor ${minimal.floor.toFixed(0)} ms, minimal env); ${other ? `${other.ratio.toFixed(2)}× (${other.median.toFixed(0)} ms, floor ${inherited.floor.toFixed(0)} ms, inherited env)` : ''}`,
      met: r.met && (other?.met ?? true),
    });
  }
  return [...rows, ...listingSummary.targets];
}
