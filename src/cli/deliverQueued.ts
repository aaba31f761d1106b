/**
 * After a command: deliver the notices it queued (SPEC §7). Loaded only when a command queued any.
 * Whatever happens here is reported on stderr and never changes the command's exit code: the change
 * is committed and its notice is safe in the outbox, so `notify send` (or the portal's own mailer)
 * can still deliver it.
 */
import type { CommandContext } from './context.js';
import { DELIVERY_CONCURRENCY, deliveryProgress, type DeliveryProgress } from './deliveryProgress.js';
import { commandLine } from './invocation.js';
import { oneLineMessage } from './oneLine.js';

export async function deliverQueuedNotifications(ctx: CommandContext, opts: { commandFailed?: boolean } = {}): Promise<void> {
  const ids = [...new Set(ctx.queuedNotifications)];
  ctx.queuedNotifications.length = 0;
  if (ids.length === 0) return;
  const n = ids.length;
  const notices = n === 1 ? '1 notice' : `${n} notices`;
  const notifySend = commandLine(ctx, 'notify send', { as: false });
  /**
   * The person who ran the command hears about a notice not sent in their own words; how the outbox
   * and the relay stand is for operators, with --verbose (and in `notify list` / `notify send`).
   */
  const notSent = (operatorDetail: string, count = n) => {
    if (ctx.globals.verbose) ctx.out.warn(operatorDetail);
    else
      ctx.out.warn(
        count === 1
          ? 'the email about this change could not be sent yet; it stays queued to be sent later'
          : `${count} emails about this change could not be sent yet; they stay queued to be sent later`,
      );
  };
  const { deliverQueuedNotices } = await import('../core/notify/send.js');
  let progress: DeliveryProgress | undefined;
  const done = await deliverQueuedNotices(
    async () => (await ctx.database({ checkSchema: false })).store,
    () => ctx.target(),
    ids,
    ctx.smtp,
    {
      concurrency: DELIVERY_CONCURRENCY,
      now: ctx.clock,
      onStart: async (total) => {
        progress = await deliveryProgress(ctx, total);
      },
      onProgress: (d, total) => progress?.update(d, total),
    },
  );
  progress?.stop();
  if (done.kind === 'unreadable') {
    // The database went away (with the command, or after it): the notices are committed and wait in
    // the outbox. Said only after a success: a failed command's error already names the server.
    if (!opts.commandFailed)
      notSent(
        `${notices} not sent (the portal's delivery policy could not be read: ${oneLineMessage(done.reason, 200)}); kept in the outbox: ${notifySend} delivers them`,
      );
    return;
  }
  // (said only to whoever configured an SMTP URL of their own: an operator)
  if (done.ignored && !ctx.out.json && !opts.commandFailed) ctx.out.info(`note: ${done.ignored}`);
  if (done.kind === 'no-relay') {
    // Nothing to tell the user: an outbox read by the portal's own mailer is a supported set-up. An
    // operator asks with --verbose — not with --quiet or --json (stderr then carries only a JSON
    // error, if any), nor after a failed command (its error stays the one line on stderr).
    if (!ctx.globals.verbose || ctx.out.json || opts.commandFailed) return;
    ctx.out.info(
      `verbose: ${notices} to users ${n === 1 ? 'stays' : 'stay'} pending in the outbox (the portal's delivery policy names no SMTP relay; ${notifySend} delivers them once it does)`,
    );
    return;
  }
  if (done.kind === 'failed') {
    notSent(`${notices} not sent (${oneLineMessage(done.reason, 200)}); kept in the outbox: ${notifySend} retries them`);
    return;
  }
  const { result } = done;
  const undelivered = n - result.sent;
  if (result.errors.length > 0 && undelivered > 0) {
    const first = result.errors[0]!;
    notSent(
      `${undelivered} of ${notices} not sent (${oneLineMessage(first.error, 200)}); ${result.stillPending > 0 ? `kept in the outbox: ${notifySend} retries them` : `see ${commandLine(ctx, 'notify list', { as: false })}`}`,
      undelivered,
    );
  }
}
