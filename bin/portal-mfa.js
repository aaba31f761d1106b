#!/usr/bin/env node
// Tiny launcher: the CLI lives in dist/ (built by `npm install` / `npm run build`).
process.stdout.on('error', (err) => {
  // `portal-mfa … | head -1`: the reader went away; stop quietly.
  if (err && err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // start-up fast path: the version needs nothing else loaded
  const { VERSION } = await import('../dist/src/cli/version.js');
  process.stdout.write(VERSION + '\n');
} else if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) {
  // start-up fast path: help pre-rendered at build time (scripts/render-help.mjs)
  const { readFileSync } = await import('node:fs');
  process.stdout.write(readFileSync(new URL('../dist/help.txt', import.meta.url), 'utf8'));
} else {
  const { run } = await import('../dist/src/cli/main.js');
  process.exitCode = await run(argv);
}
