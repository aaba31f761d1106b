/**
 * Runners for the BUILT CLI (dist/src/cli/main.js; bin/portal-mfa.js for subprocesses).
 * Build first: `npx tsc -p tsconfig.json` (`npm test` does).
 *
 *   const cli = makeCliEnv();                       // fresh HOME / XDG dirs, no PORTAL_MFA_* leaking in
 *   const r = await runCli(['--db', url, 'db', 'status', '--json'], { env: cli.env });
 *   expect(r.code).toBe(0);
 *   expectOneLineError(await runCli(['bogus'], { env: cli.env }), 2);
 *
 * runCli calls `run(argv, deps)` in this process, with in-memory stdin/stdout/stderr (no TTY) and
 * the test clock (test/support/clock.ts): no process start-up, and a test that needs the next TOTP
 * step advances the clock instead of sleeping. runCliProcess starts `node bin/portal-mfa.js` for
 * the tests where the process is the point: the launcher, exit status of the real binary,
 * signals, closed or full descriptors, and concurrent runs racing on SQLite (better-sqlite3 is
 * synchronous: two in-process runs waiting on each other's lock would block the one thread).
 *
 * Temp homes are removed after the test file that created them (and at process exit).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { afterAll, expect } from 'vitest';
import { nodeClockArgs, testNow } from './clock.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temp HOME with XDG_DATA_HOME / XDG_CONFIG_HOME inside it, and the environment to run with. */
export interface CliEnv {
  home: string;
  env: NodeJS.ProcessEnv;
}

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(REPO_ROOT, 'bin', 'portal-mfa.js');
const BUILT_MAIN = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

const tempHomes = new Set<string>();
let cleanupRegistered = false;

function removeTempHomes(): void {
  for (const dir of tempHomes) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  tempHomes.clear();
}

// Vitest workers are not always left to exit normally, so remove the temp homes when the test
// file that imported this module is done (a file-level hook), and on process exit as a fallback.
try {
  afterAll(removeTempHomes);
} catch {
  /* imported outside a test file's collection */
}

function registerCleanup(): void {
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  process.once('exit', removeTempHomes);
}

/**
 * A fresh temp HOME (with .local/share and .config as the XDG dirs) and a minimal environment:
 * PATH, HOME, XDG_DATA_HOME, XDG_CONFIG_HOME, NO_COLOR=1, LANG=C.UTF-8, then `extra`.
 * Nothing else from the parent environment is passed on — in particular no PORTAL_MFA_*.
 */
export function makeCliEnv(extra: NodeJS.ProcessEnv = {}): CliEnv {
  const home = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-home-'));
  tempHomes.add(home);
  registerCleanup();
  const dataHome = path.join(home, '.local', 'share');
  const configHome = path.join(home, '.config');
  mkdirSync(dataHome, { recursive: true, mode: 0o700 });
  mkdirSync(configHome, { recursive: true, mode: 0o700 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    XDG_DATA_HOME: dataHome,
    XDG_CONFIG_HOME: configHome,
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
    ...extra,
  };
  return { home, env };
}

const SIGNALS = os.constants.signals as Record<string, number>;

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  /** written to stdin, which is then ended (ended at once when undefined) */
  stdin?: string;
  timeoutMs?: number;
  /** runCli only: stdin is a terminal, and these are its answers (test/e2e/help-examples.test.ts) */
  prompter?: unknown;
}

function checkedEnv(env: NodeJS.ProcessEnv | undefined): Record<string, string> {
  if (!existsSync(BUILT_MAIN)) {
    throw new Error(`runCli: ${path.relative(REPO_ROOT, BUILT_MAIN)} is missing — build first: npx tsc -p tsconfig.json`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {})) {
    if (v === undefined) continue;
    if (typeof v !== 'string') {
      // e.g. `{ ...makeCliEnv() }` instead of `makeCliEnv().env`
      throw new Error(`runCli: opts.env.${k} is a ${typeof v}, not a string — pass makeCliEnv().env, not the CliEnv itself`);
    }
    out[k] = v;
  }
  return out;
}

/** A write stream that keeps what it is given (stdout/stderr of an in-process run). */
class Capture extends Writable {
  private readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    done();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

type Run = (argv: string[], deps: Record<string, unknown>) => Promise<number>;
let loadedRun: Promise<Run> | undefined;

if (vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER === undefined) {
  throw new Error(`the tests need Node.js 20.12 or later (vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER); this is ${process.version}`);
}
/**
 * import() by Node itself, not by vitest's module runner, which would transform the built files and
 * resolve each of the CLI's lazy imports (a dozen a run) by a round trip to vitest's main process.
 */
const nativeImport = vm.compileFunction('return import(url)', ['url'], {
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
}) as (url: string) => Promise<unknown>;

/**
 * A module of the build (a path under dist/, e.g. 'src/core/errors.js') as runCli's runs see it: an
 * error class from it is the one `instanceof` knows there.
 */
export function importBuilt<T>(file: string): Promise<T> {
  return nativeImport(pathToFileURL(path.join(REPO_ROOT, 'dist', file)).href) as Promise<T>;
}

/**
 * In-process runs on SQLite take turns. better-sqlite3 is synchronous: a run waiting for another
 * run's write lock would block this thread (busy_timeout) while the holder, on the same thread,
 * can never finish. Runs on MariaDB (mysql2 is asynchronous) may overlap, so they can race.
 */
let sqliteTurn: Promise<unknown> = Promise.resolve();

function targetsMysql(args: string[], env: Record<string, string>): boolean {
  const i = args.lastIndexOf('--db');
  const flag = i >= 0 ? args[i + 1] : args.find((a) => a.startsWith('--db='))?.slice('--db='.length);
  return /^mysql:/i.test(flag ?? env.PORTAL_MFA_DB ?? '');
}

/**
 * Run `portal-mfa ...args` in this process: `run(args, { env, io, clock })` from the built
 * dist/src/cli/main.js with exactly `opts.env`, stdin holding `opts.stdin` (no TTY anywhere, so
 * no prompts and no colour unless the env forces it) and the test clock. Resolves with the exit
 * code run() returns; rejects if it has not returned after `timeoutMs` (default 60 s).
 *
 * Process-global state run() does not take from its deps: the working directory (relative paths
 * resolve against this worker's, not HOME — pass absolute paths, or use runCliProcess with `cwd`),
 * process.pid (shared by concurrent runs) and the os user/host recorded as the audit origin.
 * The build is loaded by Node, not by vitest (importBuilt): a test that hands a run something whose
 * identity counts (an error of the build's own class) takes it from importBuilt too.
 */
export async function runCli(args: string[], opts: RunOptions): Promise<CliResult> {
  const env = checkedEnv(opts.env);
  loadedRun ??= importBuilt<{ run: Run }>('src/cli/main.js').then((m) => m.run);
  const run = await loadedRun;
  const stdout = new Capture();
  const stderr = new Capture();
  const color = (isTTY: boolean) => {
    if (args.includes('--no-color') || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false;
    return (env.CLICOLOR_FORCE !== undefined && env.CLICOLOR_FORCE !== '' && env.CLICOLOR_FORCE !== '0') || isTTY;
  };
  const io = {
    stdin: Readable.from(opts.stdin === undefined || opts.stdin === '' ? [] : [Buffer.from(opts.stdin)]),
    stdout,
    stderr,
    stdinIsTTY: opts.prompter !== undefined,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    color: color(false),
    colorErr: color(false),
    canPrompt: opts.prompter !== undefined,
  };
  // Nothing can be killed in-process: the limit only names a run that hangs. It is the hook limit,
  // as a run waits its turn (SQLite) and shares this thread with concurrent runs (MariaDB).
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const go = async (): Promise<number> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `portal-mfa ${args.join(' ')} (in-process) did not finish within ${timeoutMs} ms\n` +
                `--- stdout ---\n${stdout.text()}\n--- stderr ---\n${stderr.text()}`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([run(args, { env, io, clock: testNow, ...(opts.prompter ? { prompter: opts.prompter } : {}) }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  let running: Promise<number>;
  if (targetsMysql(args, env)) {
    running = go();
  } else {
    running = sqliteTurn.then(go, go);
    sqliteTurn = running.catch(() => undefined);
  }
  const code = await running;
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/**
 * Spawn `node bin/portal-mfa.js ...args` (on the test clock, see nodeClockArgs) with exactly
 * `opts.env`. stdin is a pipe: `opts.stdin` is written and then stdin is ended (ended at once when
 * undefined), so the CLI never sees a TTY. Resolves with the exit code (a signal N becomes 128+N);
 * rejects if the process is still running after `timeoutMs` (it is killed first), with what it
 * printed so far.
 */
export async function runCliProcess(args: string[], opts: RunOptions & { cwd?: string }): Promise<CliResult> {
  const env = checkedEnv(opts.env);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const cwd = opts.cwd ?? (env.HOME && existsSync(env.HOME) ? env.HOME : os.tmpdir());

  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeClockArgs(), BIN, ...args], { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let settled = false;

    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    // The CLI may exit without reading stdin: ignore EPIPE / ECONNRESET on our end of the pipe.
    child.stdin.on('error', () => {});

    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);

    child.on('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(e);
    });

    // 'close' (not 'exit'): all output has been read by then.
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) {
        reject(
          new Error(`portal-mfa ${args.join(' ')} did not finish within ${timeoutMs} ms (killed)\n` + `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`),
        );
        return;
      }
      const exit = code ?? (signal ? 128 + (SIGNALS[signal] ?? 0) : 1);
      resolve({ code: exit, stdout, stderr });
    });

    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    else child.stdin.end();
  });
}

/** A readable summary of a run, for assertion messages. */
export function describeRun(r: CliResult): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** A node/V8 stack frame such as "at foo (/x/y.js:1:2)", "at file:///x.js:3:4" or "at node:internal/x:5:6". */
const STACK_FRAME = /\bat\s+(?:async\s+)?(?:[\w$.<>[\] ]+\s+\()?(?:file:\/\/|node:|\/|[A-Za-z]:\\)[^\s)]*:\d+:\d+\)?/;

/**
 * Assert a failed run: exit `code`, and stderr is exactly one non-empty line (a trailing newline
 * is allowed) that starts with 'error: ', holds no stack frames, and matches `pattern` if given.
 */
export function expectOneLineError(r: CliResult, code: number, pattern?: RegExp): void {
  const summary = describeRun(r);
  expect(r.code, `expected exit ${code}\n${summary}`).toBe(code);
  const text = r.stderr.endsWith('\r\n') ? r.stderr.slice(0, -2) : r.stderr.endsWith('\n') ? r.stderr.slice(0, -1) : r.stderr;
  expect(text.trim(), `expected an error message on stderr\n${summary}`).not.toBe('');
  expect(/[\r\n]/.test(text), `expected exactly one line on stderr\n${summary}`).toBe(false);
  if (text.startsWith('{')) {
    // --json: one JSON object {"error":{code,message,hint?,exitCode}} (SPEC §6)
    const doc = JSON.parse(text) as { error?: { code?: string; message?: string; exitCode?: number } };
    expect(typeof doc.error?.code, `expected a stable error code\n${summary}`).toBe('string');
    expect(doc.error?.exitCode, `expected exitCode in the JSON error\n${summary}`).toBe(code);
  } else expect(text.startsWith('error: '), `expected stderr to start with 'error: '\n${summary}`).toBe(true);
  expect(STACK_FRAME.test(r.stderr), `expected no stack trace on stderr\n${summary}`).toBe(false);
  if (pattern) expect(text, `stderr does not match ${pattern}\n${summary}`).toMatch(pattern);
}
