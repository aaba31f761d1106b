/**
 * The built CLI on a real pseudo-terminal (test/support/pty_driver.py) of a given size, and what
 * a person would see on it: the output is replayed into a headless xterm (@xterm/headless), so
 * cursor moves, line clears and colours are interpreted as a terminal does — a result line that a
 * progress bar overwrote is gone from `screen()`, exactly as it would be from the user's view.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import xterm from '@xterm/headless';
import { nodeClockArgs } from './clock.js';
import { stripAnsi } from './qrScreen.js';

const BIN = fileURLToPath(new URL('../../bin/portal-mfa.js', import.meta.url));
const DRIVER = fileURLToPath(new URL('./pty_driver.py', import.meta.url));

export interface PtyOptions {
  cols: number;
  rows: number;
  /** colour on (no NO_COLOR); off by default */
  color?: boolean;
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
  cell(line: number, col: number): ScreenCell;
}

export class PtySession {
  private readonly child: ChildProcessWithoutNullStreams;
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
    // on the test clock (test/support/clock.ts), as every portal-mfa subprocess of the harness
    this.child = spawn('python3', [DRIVER, String(opts.cols), String(opts.rows), ...redirect, '--', process.execPath, ...nodeClockArgs(), BIN, ...args], {
      env: childEnv,
    });
    this.child.stdout.on('data', (b: Buffer) => {
      this.output += this.decoder.write(b);
      for (const w of this.waiters) w();
    });
    let driverErr = '';
    this.child.stderr.on('data', (b: Buffer) => (driverErr += b.toString()));
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
    this.child.stdin.write(keys);
  }

  /** The screen as a terminal of this size renders everything shown so far. */
  async screen(): Promise<Screen> {
    const term = new xterm.Terminal({ cols: this.opts.cols, rows: this.opts.rows, scrollback: 5000, allowProposedApi: true });
    // the pty turns \n into \r\n (onlcr); the replay gets the bytes as the terminal did
    await new Promise<void>((resolve) => term.write(this.output, resolve));
    const buf = term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    return {
      lines,
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
