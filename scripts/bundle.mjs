#!/usr/bin/env node
// Build step after `tsc`: bundle the CLI (dist/src/cli/main.js and everything it imports eagerly:
// commander, knex, the core and the repositories) into ONE CommonJS file, and compile it once into a
// V8 code cache beside it. The launcher (bin/portal-mfa.js) runs the bundle from that cache.
//
// Why: a short command such as `status` used to spend most of its time in Node's module loader —
// ~470 files (knex alone is ~340 CommonJS files with lodash), each resolved, read and compiled on
// every start. One file removes the resolving; the code cache removes most of the compiling (Node 20
// has no `module.enableCompileCache()`, so the cache is made here with `vm.Script#createCachedData`).
// See bench/startup/README.md for how start-up is measured, and bench/RESULTS.md for the figures.
//
// What stays outside the bundle (loaded from node_modules when a command needs it): the SQLite
// driver's compiled addon, the MariaDB client, and the packages only some commands use (prompts,
// QR, progress bars, CSV input, TOML profiles, mail, password hashing and its worker threads).
// The library (`import 'portal-mfa'`) is not bundled: it is dist/src/index.js as tsc wrote it.
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE = path.join(root, 'dist', 'src', 'cli', 'portal-mfa.cjs');

/**
 * Packages only some commands use (prompts, QR, progress bars, mail): each is bundled into its own
 * file beside the CLI (dist/src/cli/vendor/NAME.cjs), required only when first used. So they are
 * build-time dependencies: a backend that installs portal-mfa as a library never downloads them.
 */
const VENDORED = {
  '@inquirer/prompts': 'inquirer-prompts',
  'qrcode-terminal': 'qrcode-terminal',
  'cli-progress': 'cli-progress',
  nodemailer: 'nodemailer',
};
const VENDOR_DIR = path.join(path.dirname(BUNDLE), 'vendor');

const vendored = {
  name: 'vendored-packages',
  setup(b) {
    const names = Object.keys(VENDORED).map((n) => n.replace(/[/@.-]/g, '\\$&'));
    b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => ({ path: `./vendor/${VENDORED[args.path]}.cjs`, external: true }));
  },
};

const external = [
  // better-sqlite3's JavaScript is bundled; its compiled addon is loaded by path (src/db/connect.ts)
  'bindings',
  'mysql2',
  'csv-parse',
  'csv-parse/*',
  'smol-toml',
  // password hashing: native addons (a .node file per platform) and the worker pool, whose worker
  // is its own file (dist/src/core/primitives/passwords/iteratedWorker.js), loaded on the first check
  '@node-rs/bcrypt',
  '@node-rs/argon2',
  'piscina',
  // the HTTP service (portal-mfa serve): runtime dependencies, loaded only by serve
  'fastify',
  '@fastify/*',
  'prom-client',
  'qrcode',
  'ipaddr.js',
  // knex's drivers for dialects portal-mfa does not use (never required: see stubUnusedDialects)
  'pg',
  'pg-query-stream',
  'sqlite3',
  'mysql',
  'tedious',
  'oracledb',
  'mariadb',
  'mariadb/*',
];

/**
 * Each of our modules keeps its own import.meta.url in the bundle (the URL of its file in dist/src),
 * so a path beside a module (the password worker beside workerPool.js) resolves as it does unbundled.
 */
const moduleUrls = {
  name: 'per-module-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, (args) => {
      const relative = path.relative(path.dirname(BUNDLE), args.path).split(path.sep).join('/');
      const text = readFileSync(args.path, 'utf8').replaceAll('import.meta.url', `new URL(${JSON.stringify(relative)}, __bundleUrl).href`);
      return { contents: text, loader: 'js' };
    });
  },
};

/** knex loads a dialect only when a client of that name is created: the ones we never create are left out. */
const stubUnusedDialects = {
  name: 'stub-unused-knex-dialects',
  setup(b) {
    b.onResolve({ filter: /^\.\/(cockroachdb|mssql|mariadb|oracle|oracledb|pgnative|postgres|redshift)$/ }, (args) =>
      args.importer.endsWith(path.join('knex', 'lib', 'dialects', 'index.js')) ? { path: args.path, namespace: 'unused-dialect' } : undefined,
    );
    // debug (a knex dependency) probes for the optional supports-color on load: a failed lookup each start
    b.onResolve({ filter: /^supports-color$/ }, () => ({ path: 'supports-color', namespace: 'absent' }));
    b.onLoad({ filter: /.*/, namespace: 'absent' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
    // commander requires child_process at load for stand-alone executable subcommands, which
    // portal-mfa has none of: load it only if spawn is ever called (child_process pulls in dgram …)
    b.onLoad({ filter: /commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const eager = "const childProcess = require('node:child_process');";
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes(eager)) throw new Error(`${args.path}: "${eager}" not found (commander changed): update scripts/bundle.mjs`);
      return { contents: text.replace(eager, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"), loader: 'js' };
    });
    b.onLoad({ filter: /.*/, namespace: 'unused-dialect' }, (args) => ({
      contents: `throw new Error('portal-mfa does not include the knex dialect ${args.path.slice(2)}');`,
      loader: 'js',
    }));
  },
};

// V8 checks a cache against the source's length, not its content: a cache left from an earlier
// build must never sit beside a new bundle, even if this build stops half-way
rmSync(`${BUNDLE}.cache`, { force: true });

rmSync(VENDOR_DIR, { recursive: true, force: true });
await build({
  entryPoints: Object.fromEntries(Object.entries(VENDORED).map(([pkg, name]) => [name, createRequire(import.meta.url).resolve(pkg)])),
  outdir: VENDOR_DIR,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
});

await build({
  entryPoints: [path.join(root, 'dist', 'src', 'cli', 'main.js')],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // import() of a package left outside becomes require(): every such package ships CommonJS, and a
  // script compiled from a code cache cannot import() on Node 20 (chalk and string-width, ES-only,
  // are bundled instead, still loaded only when first used)
  supported: { 'dynamic-import': false },
  external,
  plugins: [vendored, moduleUrls, stubUnusedDialects],
  // import.meta.url in a bundled package is the bundle's own
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
});

// The code cache: compile the bundle and run its top level (defining every module it loads eagerly),
// then save what V8 compiled. A Node whose V8 differs rejects the cache and compiles as usual.
const bundled = readFileSync(BUNDLE, 'latin1');
// the launcher reads the bundle as latin1 (no UTF-8 decoding): esbuild's default ASCII output
if (/[^\x00-\x7f]/.test(bundled)) throw new Error(`${BUNDLE} is not ASCII: the launcher's latin1 read would garble it`);
// The bundle's first line names its content (a hash) and the cache starts with the same name: the
// launcher uses a cache only for the bundle it was made from (see bin/portal-mfa.js).
const buildId = createHash('sha256').update(bundled).digest('hex').slice(0, 16);
const source = `//build ${buildId}\n${bundled}`;
writeFileSync(BUNDLE, source, 'latin1');
const script = new vm.Script(wrapCommonJs(source), { filename: BUNDLE });
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, path.dirname(BUNDLE));
await warmUp(module.exports.run);
writeFileSync(`${BUNDLE}.cache.tmp`, Buffer.concat([Buffer.from(`${buildId}\n`), script.createCachedData()]));
renameSync(`${BUNDLE}.cache.tmp`, `${BUNDLE}.cache`);

/**
 * V8 compiles a function when it first runs, and the cache holds only what was compiled: run the
 * common path once (parse flags, open the embedded SQLite, check the schema, look for a session,
 * check a password, check a code) in a throw-away home (a demo portal) so those functions are in
 * the cache too. Nothing outside the temporary directory is touched.
 */
async function warmUp(run) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-build-'));
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_DATA_HOME: path.join(home, 'data'),
    XDG_CONFIG_HOME: path.join(home, 'config'),
    NO_COLOR: '1',
  };
  const sink = () => new Writable({ write: (_chunk, _enc, done) => done() });
  const io = (input) => ({
    stdin: Readable.from([input]),
    stdout: sink(),
    stderr: sink(),
    stdinIsTTY: false,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    color: false,
    colorErr: false,
    canPrompt: false,
  });
  try {
    // the schema and the sample accounts are made by a separate process: that code runs once per
    // database, not per command, and need not be in the cache
    for (const argv of [['db', 'migrate'], ['demo']]) {
      const r = spawnSync(process.execPath, [path.join(root, 'bin', 'portal-mfa.js'), ...argv], { env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`warm-up: ${argv.join(' ')} failed: ${r.stderr}`);
    }
    // devon (a demo developer) starts an enrolment and tries a wrong code: the TOTP and lockout path
    const devon = ['--as', 'devon@example.com', '--password-stdin'];
    for (const [argv, input] of [
      [['status', '--json'], ''],
      [['status'], ''],
      [[...devon, 'enroll', '--no-confirm', '--json'], 'devon-demo-pass\n'],
      [[...devon, 'verify', '--code', '123456'], 'devon-demo-pass\n'],
      [['--as', 'nobody@example.com', '--password-stdin', 'verify', '--code', '123456'], 'not-a-password\n'],
    ]) {
      await run(argv, { env, io: io(input) });
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** The same wrapper as bin/portal-mfa.js's: the cache is only valid for identical source text. */
function wrapCommonJs(src) {
  return `(function (exports, require, module, __filename, __dirname) {${src}\n})`;
}
