import type { CommandContext } from './context.js';
import { startProgress } from './progress.js';

/** Below this many notices a delivery is quick enough to need no progress bar. */
const PROGRESS_FROM = 20;

export interface DeliveryProgress {
  update(done: number, total: number): void;
  stop(): void;
}

/** The progress bar of src/cli/progress.ts for a large delivery (a terminal's stderr only, never with --quiet). */
export async function deliveryProgress(ctx: CommandContext, total: number): Promise<DeliveryProgress> {
  if (total < PROGRESS_FROM) return { update() {}, stop() {} };
  const bar = await startProgress(ctx, { label: 'sending notices', total });
  return { update: (done, all) => bar.update(done, all), stop: () => bar.done() };
}

/** SMTP connections used at once: enough to be quick, few enough for a relay's per-client limit. */
export const DELIVERY_CONCURRENCY = 5;
