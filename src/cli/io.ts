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
 * Page stdout through a pager on a terminal, as git and gh do (issue 23): `PORTAL_MFA_PAGER`, else
 * `PAGER`, else `less` (with `LESS=FRX` unless set: quit when the output fits one screen, keep
 * colours, leave the text on the screen). No pager when stdout is not a terminal, with `--no-pager`,
 * with an empty PAGER (or `cat`), or when the pager cannot be started. While paged, `io.stdout` is
 * the pager's input; a pager quit early (q) swallows the rest, so the command ends normally.
 * Returns the function that ends paging and waits for the pager (call it also on failure).
 */
export async function startPager(io: IOStreams, env: NodeJS.ProcessEnv, opts: { pager: boolean }): Promise<() => Promise<void>> {
  const none = async () => undefined;
  if (!io.stdoutIsTTY || !opts.pager) return none;
  const command = (env.PORTAL_MFA_PAGER ?? env.PAGER ?? 'less').trim();
  if (command === '' || command === 'cat') return none;
  const { spawn } = await import('node:child_process');
  const { Writable } = await import('node:stream');
  // a plain command line runs as is (a missing pager is then an error we see, not a shell's 127)
  const plain = /^[\w./+-]+( [\w./=+-]+)*$/.test(command);
  const child = plain
    ? spawn(command.split(' ')[0]!, command.split(' ').slice(1), { stdio: ['pipe', 'inherit', 'inherit'], env: pagerEnv(env) })
    : spawn(command, { shell: true, stdio: ['pipe', 'inherit', 'inherit'], env: pagerEnv(env) });
  const started = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!started) return none;
  const pipe = child.stdin!;
  let quit = false;
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let waiting: (() => void) | undefined;
  void exited.then(() => {
    quit = true;
    waiting?.();
  });
  pipe.on('error', () => {
    quit = true; // EPIPE: the pager is gone
  });
  const paged = new Writable({
    write(chunk, _encoding, done) {
      if (quit || pipe.write(chunk)) return done();
      waiting = () => {
        waiting = undefined;
        done();
      };
      pipe.once('drain', () => waiting?.());
    },
  });
  const terminal = io.stdout;
  io.stdout = paged;
  return async () => {
    await new Promise<void>((resolve) => paged.end(resolve));
    pipe.end();
    await exited;
    io.stdout = terminal;
  };
}

function pagerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, LESS: env.LESS ?? 'FRX', LV: env.LV ?? '-c' };
}
