import type { CommandContext } from './context.js';

/**
 * The one progress indicator of portal-mfa, for every long operation (bulk org disable-mfa,
 * demo --members, keys rotate, notify send). It is drawn on stderr only when stderr is a terminal
 * (and not with --quiet); otherwise every method does nothing but `result`, which prints.
 *
 * Results never mix with the bar: `result(line)` prints on stdout, and when stdout is the same
 * terminal it first clears the bar's line and redraws the bar below the result. `done()` clears
 * the bar for good, so what follows (the summary) starts on a clean line and nothing overwrites it.
 */
export interface Progress {
  /** `done` of `total` finished (total may change, e.g. once it is known) */
  update(done: number, total?: number): void;
  /** one more finished */
  increment(): void;
  /** a result line (without its newline) on stdout, kept apart from the bar; resolves when the reader keeps up */
  result(line: string): Promise<void>;
  /** remove the bar; call before the summary (also on error: the caller's finally) */
  done(): void;
}

export interface ProgressOptions {
  /** what is being done, shown before the bar: "disabling", "checking" (dry runs), "re-encrypting" */
  label: string;
  /** how many items; unknown (a counter without a bar) when not given */
  total?: number;
  /** below this many items there is no bar (it would only flash) */
  minTotal?: number;
}

// ANSI: carriage return + erase the whole line. Written before a result so it never lands on the bar.
const CLEAR_LINE = '\r\u001b[2K';

export async function startProgress(ctx: Pick<CommandContext, 'io' | 'globals'>, opts: ProgressOptions): Promise<Progress> {
  return (await progressFactory(ctx))(opts);
}

/**
 * For operations that learn their total only once running (keys rotate): load what a bar needs
 * now, start it synchronously later. cli-progress is loaded only when a bar can be shown.
 */
export async function progressFactory(ctx: Pick<CommandContext, 'io' | 'globals'>): Promise<(opts: ProgressOptions) => Progress> {
  const { io } = ctx;
  const show = io.stderrIsTTY && !ctx.globals.quiet;
  const cliProgress = show ? await import('cli-progress') : undefined;
  return (opts) => makeProgress(io, opts, cliProgress?.SingleBar);
}

function makeProgress(io: CommandContext['io'], opts: ProgressOptions, SingleBar: typeof import('cli-progress').SingleBar | undefined): Progress {
  // with back-pressure, so a slow reader (or `| head`) never makes us buffer the whole run
  const printResult = async (line: string) => {
    if (!io.stdout.write(line + '\n')) await new Promise<void>((resolve) => io.stdout.once('drain', resolve));
  };
  if (!SingleBar || (opts.total !== undefined && opts.total < (opts.minTotal ?? 2))) {
    return { update() {}, increment() {}, result: printResult, done() {} };
  }
  const stderr = io.stderr as NodeJS.WriteStream;
  const columns = stderr.columns || 80;
  // cli-progress saves the cursor when it starts and restores it when it stops, which would put the
  // cursor back above every result printed meanwhile: those two escapes are dropped here.
  const stream = {
    isTTY: true,
    get columns() {
      return stderr.columns || 80;
    },
    write(s: string) {
      if (s === '\u001b7' || s === '\u001b8') return true;
      return stderr.write(s);
    },
  };
  const counter = String(opts.total ?? 0).length * 2 + 1;
  const bar = new SingleBar({
    stream: stream as unknown as NodeJS.WritableStream,
    format: opts.total === undefined ? `${opts.label} {value}` : `${opts.label} {bar} {value}/{total}`,
    barsize: Math.max(10, Math.min(40, columns - opts.label.length - counter - 4)),
    barCompleteChar: '#',
    barIncompleteChar: '-',
    clearOnComplete: true,
    // nothing that would outlive a Ctrl-C: the cursor stays visible, line wrapping is left alone
    hideCursor: false,
    linewrap: true,
    gracefulExit: false,
    // redraw even when the text is unchanged: a result line may have just cleared it
    forceRedraw: true,
  });
  bar.start(opts.total ?? Number.MAX_SAFE_INTEGER, 0);
  let active = true;
  const shared = io.stdoutIsTTY; // both are terminals: in practice the same one
  return {
    update(done, total) {
      if (!active) return;
      if (total !== undefined && total !== bar.getTotal()) bar.setTotal(total);
      bar.update(done);
    },
    increment() {
      if (active) bar.increment();
    },
    async result(line) {
      if (active && shared) stderr.write(CLEAR_LINE);
      await printResult(line);
      if (active && shared) bar.render();
    },
    done() {
      if (!active) return;
      active = false;
      bar.stop();
    },
  };
}
