#!/usr/bin/env node
// Tiny launcher: the CLI lives in dist/ (built by `npm install` / `npm run build`).
const argv = process.argv.slice(2);
const fast =
  argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V') ? 'version' : argv.length === 0 || (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) ? 'help' : null;

if (fast) {
  // Start-up fast paths. They print straight to fd 1: creating process.stdout (a pipe or terminal
  // stream) and importing node:fs as a module would cost more than everything else they do.
  const { readFileSync, writeSync } = process.getBuiltinModule?.('node:fs') ?? (await import('node:fs'));
  const text =
    fast === 'version'
      ? // the version needs nothing else loaded
        JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version + '\n'
      : // help pre-rendered at build time (scripts/render-help.mjs), with this package's README path
        readFileSync(new URL('../dist/help.txt', import.meta.url), 'utf8').replace('{{README}}', decodeURIComponent(new URL('../README.md', import.meta.url).pathname));
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
  const { run } = (await loadBundle()) ?? (await import('../dist/src/cli/main.js'));
  process.exitCode = await run(argv);
}

/**
 * The CLI as one bundled CommonJS file, compiled from the V8 code cache the build made beside it
 * (scripts/bundle.mjs): resolving and compiling ~470 module files was most of a short command's
 * start-up, and Node 20 has no `module.enableCompileCache()`. A Node whose V8 differs from the
 * build's rejects the cache and simply compiles. Without a bundle (a bare `tsc` build) the ES
 * modules are imported instead.
 */
async function loadBundle() {
  const builtin = async (name) => process.getBuiltinModule?.(name) ?? (await import(name));
  const [{ readFileSync }, vm, { createRequire }] = await Promise.all([builtin('node:fs'), builtin('node:vm'), builtin('node:module')]);
  const file = decodeURIComponent(new URL('../dist/src/cli/portal-mfa.cjs', import.meta.url).pathname);
  let source;
  try {
    source = readFileSync(file, 'latin1'); // the bundle is ASCII (esbuild escapes the rest)
  } catch {
    return null;
  }
  let cachedData;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    cachedData = undefined;
  }
  // the same wrapper as scripts/bundle.mjs: the cache is only valid for identical source text
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, file.slice(0, file.lastIndexOf('/')));
  return module.exports;
}
