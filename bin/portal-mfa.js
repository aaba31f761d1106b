#!/usr/bin/env node
// Tiny launcher: the CLI lives in dist/ (built by `npm install` / `npm run build`).
// It is CommonJS (bin/package.json) on purpose: an ES-module entry makes Node set up its ESM
// loader before running a line, which a command that never imports an ES module doesn't need.
'use strict';
const { readFileSync, writeSync } = require('node:fs');
const path = require('node:path');

const argv = process.argv.slice(2);
const fast =
  argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')
    ? 'version'
    : argv.length === 0 || (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h'))
      ? 'help'
      : null;

if (fast) {
  // Start-up fast paths. They print straight to fd 1: creating process.stdout (a pipe or terminal
  // stream) would cost more than everything else they do.
  const text =
    fast === 'version'
      ? // the version needs nothing else loaded
        JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version + '\n'
      : // help pre-rendered at build time (scripts/render-help.mjs), with this package's README path
        readFileSync(path.join(__dirname, '..', 'dist', 'help.txt'), 'utf8').replace('{{README}}', path.join(__dirname, '..', 'README.md'));
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(1, buf, off);
    } catch (err) {
      if (err && err.code === 'EAGAIN') continue;
      if (err && err.code === 'EPIPE') break; // `portal-mfa --help | head -1`: the reader went away
      throw err;
    }
  }
} else {
  process.stdout.on('error', (err) => {
    // `portal-mfa … | head -1`: the reader went away; stop quietly.
    if (err && err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const cli = loadBundle();
  // run() reports its own errors; a rejection here is a bug, and Node prints it and exits 1
  void (cli ? Promise.resolve(cli) : import('../dist/src/cli/main.js')).then(async ({ run }) => {
    process.exitCode = await run(argv);
  });
}

/**
 * The CLI as one bundled CommonJS file, compiled from the V8 code cache the build made beside it
 * (scripts/bundle.mjs): resolving and compiling ~470 module files was most of a short command's
 * start-up, and Node 20 has no `module.enableCompileCache()`. A Node whose V8 differs from the
 * build's rejects the cache and simply compiles. Without a bundle (a bare `tsc` build) the ES
 * modules are imported instead.
 */
function loadBundle() {
  const vm = require('node:vm');
  const file = path.join(__dirname, '..', 'dist', 'src', 'cli', 'portal-mfa.cjs');
  let source;
  try {
    source = readFileSync(file, 'latin1'); // the bundle is ASCII (esbuild escapes the rest)
  } catch {
    return null;
  }
  // the first line is `//build ID` (a hash of the bundle); the cache starts with `ID\n`: a cache is
  // used only with the bundle it was made from (V8 itself compares lengths, not content)
  const id = source.startsWith('//build ') ? source.slice(8, source.indexOf('\n')) : null;
  let cachedData;
  try {
    const cache = readFileSync(`${file}.cache`);
    if (id && cache.subarray(0, id.length + 1).toString('latin1') === `${id}\n`) cachedData = cache.subarray(id.length + 1);
  } catch {
    cachedData = undefined;
  }
  // the same wrapper as scripts/bundle.mjs: the cache is only valid for identical source text
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require('node:module').createRequire(file), module, file, path.dirname(file));
  return module.exports;
}
