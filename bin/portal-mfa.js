#!/usr/bin/env node
// Tiny launcher: the CLI lives in dist/ (built by `npm install` / `npm run build`).
process.stdout.on('error', (err) => {
  // `portal-mfa … | head -1`: the reader went away; stop quietly.
  if (err && err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
const { run } = await import('../dist/src/cli/main.js');
process.exitCode = await run(process.argv.slice(2));
