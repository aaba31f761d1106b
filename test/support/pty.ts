/**
 * The built CLI on a real pseudo-terminal (test/support/pty_driver.py) of a given size, and what
 * a person would see on it: the output is replayed into a headless xterm (@xterm/headless), so
 * cursor moves, line clears and colours are interpreted as a terminal does — a result line that a
 * progress bar overwrote is gone from `screen()`, exactly as it would be from the user's view.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import xterm from '@xterm/headless';
import { nodeClockArgs } from './clock.js';
import { stripAnsi } from './qrScreen.js';

const BIN = fileURLToPath(new URL('../../bin/portal-mfa.js', import.meta.url));
const DRIVER = fileURLToPath(new URL('./pty_driver.py', import.meta.url));

let python: string | undefined;
/**
 * The Python that runs the driver, looked up once per test file: `python3` on PATH may be a version
 * manager's shim (pyenv's is a bash script running `pyenv exec`, ~60 ms of CPU a start), and a file
 * starts dozens of sessions. Run with -S: the driver needs only the standard library, and skipping
 * site-packages saves ~30 ms more a start.
 */
function pythonExecutable(): string {
  python ??= execFileSync('python3', ['-S', '-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim() || 'python3';
  return python;
}

export interface PtyOptions {
  cols: number;
  rows: number;
  /** colour on (no NO_COLOR); off by default */
  color?: boolean;
  /** another program than portal-mfa (e.g. an interactive shell); `args` are then its arguments */
  program?: string;
  /** the command's stdout goes to this file (`> FILE`), stdin and stderr stay on the terminal */
  stdoutFile?: string;
  /** TERM (default xterm-256color) */
  term?: string;
}

/** One cell of the rendered screen. */
interface ScreenCell {
  char: string;
  /** palette index of the foreground / background colour, or -1 for the default */
  fg: number;
  bg: number;
}

export interface Screen {
  /** every line, scrollback included, right-trimmed */
  lines: string[];
  /** the lines on the screen now (the last `rows`, what a camera sees), right-trimmed */
  visible: string[];
  /** indexes (in `lines`) of lines that continue the one above: the terminal wrapped a line too long for it */
  wrapped: number[];
  cell(line: number, col: number): ScreenCell;
}

export class PtySession {
  private readonly child: ChildProcess;
  private readonly stdin: Writable;
  /** where in `output` the window was resized, and to what */
  private readonly resizes: { at: number; cols: number; rows: number }[] = [];
  private readonly decoder = new StringDecoder('utf8');
  output = '';
  readonly exited: Promise<number>;
  private waiters: (() => void)[] = [];

  constructor(
    args: string[],
    env: NodeJS.ProcessEnv,
    readonly opts: PtyOptions,
  ) {
    const childEnv: NodeJS.ProcessEnv = { ...env, TERM: opts.term ?? 'xterm-256color', COLUMNS: String(opts.cols), LINES: String(opts.rows) };
    if (opts.color) delete childEnv.NO_COLOR;
    else childEnv.NO_COLOR = '1';
    const redirect = opts.stdoutFile === undefined ? [] : ['--stdout', opts.stdoutFile];
    // portal-mfa on the test clock (test/support/clock.ts), as the in-process runs are
    const command = opts.program !== undefined ? [opts.program] : [process.execPath, ...nodeClockArgs(), BIN];
    // fd 3: "COLS ROWS" lines that resize the terminal (resize())
    this.child = spawn(pythonExecutable(), ['-S', DRIVER, String(opts.cols), String(opts.rows), ...redirect, '--resize-fd', '3', '--', ...command, ...args], {
      env: childEnv,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    this.stdin = this.child.stdin!;
    (this.child.stdout as Readable).on('data', (b: Buffer) => {
      this.output += this.decoder.write(b);
      for (const w of this.waiters) w();
    });
    let driverErr = '';
    (this.child.stderr as Readable).on('data', (b: Buffer) => (driverErr += b.toString()));
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code, signal) => {
        for (const w of this.waiters) w();
        if (driverErr.trim()) this.output += `\n[pty driver stderr] ${driverErr}`;
        resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
      });
    });
  }

  /** Everything shown, without escape sequences (not interpreted: see screen()). */
  get text(): string {
    return stripAnsi(this.output);
  }

  /** Wait until `test` holds for the text shown (from character `from` on), or fail with what was shown. */
  async waitFor(test: RegExp | ((text: string) => boolean), what: string, opts: { from?: number; timeoutMs?: number } = {}): Promise<void> {
    const check = () => {
      const text = this.text.slice(opts.from ?? 0);
      return typeof test === 'function' ? test(text) : test.test(text);
    };
    if (check()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; the terminal showed:\n${this.text}`));
      }, opts.timeoutMs ?? 15_000);
      const waiter = () => {
        if (check()) {
          cleanup();
          resolve();
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          cleanup();
          reject(new Error(`the command ended (exit ${this.child.exitCode}) while waiting for ${what}; the terminal showed:\n${this.text}`));
        }
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      this.waiters.push(waiter);
    });
  }

  /** Type keys ('\r' is Enter, '\x03' is Ctrl-C). */
  type(keys: string): void {
    this.stdin.write(keys);
  }

  /** Resize the window, as a person dragging its corner: the command gets SIGWINCH. */
  resize(cols: number, rows: number): void {
    this.resizes.push({ at: this.output.length, cols, rows });
    (this.child.stdio[3] as Writable).write(`${cols} ${rows}\n`);
  }

  /** The screen as a terminal of this size renders everything shown so far. */
  async screen(): Promise<Screen> {
    const term = new xterm.Terminal({ cols: this.opts.cols, rows: this.opts.rows, scrollback: 5000, allowProposedApi: true });
    // the pty turns \n into \r\n (onlcr); the replay gets the bytes as the terminal did, and
    // the window's resizes where they happened
    const write = (data: string) => new Promise<void>((resolve) => term.write(data, resolve));
    let from = 0;
    for (const r of this.resizes) {
      await write(this.output.slice(from, r.at));
      term.resize(r.cols, r.rows);
      from = r.at;
    }
    await write(this.output.slice(from));
    const buf = term.buffer.active;
    const row = (i: number) => buf.getLine(i)?.translateToString(true) ?? '';
    const lines: string[] = [];
    const wrapped: number[] = [];
    for (let i = 0; i < buf.length; i++) {
      lines.push(row(i));
      if (buf.getLine(i)?.isWrapped) wrapped.push(i);
    }
    const visible: string[] = [];
    for (let i = buf.viewportY; i < buf.viewportY + term.rows; i++) visible.push(row(i));
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    return {
      lines,
      visible,
      wrapped,
      cell(line, col) {
        const c = buf.getLine(line)?.getCell(col);
        if (!c) return { char: '', fg: -1, bg: -1 };
        return { char: c.getChars(), fg: c.isFgDefault() ? -1 : c.getFgColor(), bg: c.isBgDefault() ? -1 : c.getBgColor() };
      },
    };
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
