import { isatty } from 'node:tty';
import type { Readable, Writable } from 'node:stream';

/**
 * The streams a command talks to, and what they are connected to. Commands never use
 * `process.stdout` directly, so tests can run them with in-memory streams.
 */
export interface IOStreams {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** colour on stdout */
  color: boolean;
  /** colour on stderr */
  colorErr: boolean;
  /** prompts are allowed only when stdin is a terminal */
  canPrompt: boolean;
  /** the width of the terminal stdout shows on; undefined when stdout is not a terminal */
  readonly columns?: number;
  /** the same for stderr */
  readonly errColumns?: number;
}

export function colorWanted(env: NodeJS.ProcessEnv, isTTY: boolean, noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.CLICOLOR_FORCE !== undefined && env.CLICOLOR_FORCE !== '' && env.CLICOLOR_FORCE !== '0') return true;
  if (env.CLICOLOR === '0') return false;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

export function systemIO(env: NodeJS.ProcessEnv, opts: { noColor: boolean }): IOStreams {
  // isatty, not process.stdin.isTTY: touching process.stdin/stderr creates their streams (and loads
  // Node's stream and socket modules), which most commands never read or write (start-up time)
  const stdinIsTTY = isatty(0);
  const stdoutIsTTY = isatty(1);
  const stderrIsTTY = isatty(2);
  return {
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    get stderr() {
      return process.stderr;
    },
    stdinIsTTY,
    stdoutIsTTY,
    stderrIsTTY,
    color: colorWanted(env, stdoutIsTTY, opts.noColor),
    colorErr: colorWanted(env, stderrIsTTY, opts.noColor),
    canPrompt: stdinIsTTY,
    // read when needed: the window may have been resized (and stdout may be a pager's pipe by then)
    get columns() {
      return stdoutIsTTY ? process.stdout.columns : undefined;
    },
    get errColumns() {
      return stderrIsTTY ? process.stderr.columns : undefined;
    },
  };
}

/** Read all of stdin as text (for --password-stdin, `--code -`, `--users-from -`). */
export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Page stdout through $PAGER / less on a terminal (src/cli/pager.ts). The pager is the one process
 * portal-mfa starts, so it lives in a module of its own, loaded only here and kept out of the bundle
 * (scripts/bundle.mjs): test/robustness/secrets.test.ts allows starting a process there and nowhere else.
 */
export async function startPager(io: IOStreams, env: NodeJS.ProcessEnv, opts: { pager: boolean }): Promise<() => Promise<void>> {
  if (!io.stdoutIsTTY || !opts.pager) return async () => undefined;
  const pager = await import('./pager.js');
  return pager.startPager(io, env);
}
