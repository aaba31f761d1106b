import type { CommandContext } from './context.js';

export interface Progress {
  increment(): void;
  /** print a result line without the bar garbling it (the bar is cleared first and redrawn after) */
  around(print: () => Promise<void> | void): Promise<void>;
  stop(): void;
}

const NONE: Progress = { increment() {}, around: async (print) => print(), stop() {} };

/** One progress bar for every long operation: on stderr, only when it is a terminal. */
export async function startProgress(ctx: CommandContext, total: number, label: string): Promise<Progress> {
  if (!ctx.io.stderrIsTTY || ctx.globals.quiet || total < 2) return NONE;
  const { SingleBar, Presets } = await import('cli-progress');
  const stream = ctx.io.stderr as NodeJS.WriteStream;
  const bar = new SingleBar({ stream, format: `${label} {bar} {value}/{total}`, clearOnComplete: true, hideCursor: true, linewrap: false }, Presets.shades_classic);
  bar.start(total, 0);
  const sameTerminal = ctx.io.stdoutIsTTY;
  return {
    increment: () => bar.increment(),
    async around(print) {
      // on one terminal: clear the bar's line, print the result, the next increment redraws the bar below it
      if (sameTerminal) stream.write('\r\u001b[2K');
      await print();
    },
    stop: () => bar.stop(),
  };
}
