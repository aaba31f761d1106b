import type { CommandContext } from './context.js';

/** Below this many notices a delivery is quick enough to need no progress bar. */
const PROGRESS_FROM = 20;

export interface DeliveryProgress {
  update(done: number, total: number): void;
  stop(): void;
}

/** A progress bar on stderr for a large delivery, on a terminal only (never with --quiet). */
export async function deliveryProgress(ctx: CommandContext, total: number): Promise<DeliveryProgress> {
  if (!ctx.io.stderrIsTTY || ctx.globals.quiet || total < PROGRESS_FROM) return { update() {}, stop() {} };
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar(
    { stream: ctx.io.stderr as NodeJS.WritableStream, format: 'sending notices {bar} {value}/{total}', clearOnComplete: true, hideCursor: true },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    update: (done, t) => {
      bar.setTotal(t);
      bar.update(done);
    },
    stop: () => bar.stop(),
  };
}

/** SMTP connections used at once: enough to be quick, few enough for a relay's per-client limit. */
export const DELIVERY_CONCURRENCY = 5;
