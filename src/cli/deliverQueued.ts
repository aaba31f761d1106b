/**
 * After a command: deliver the notices it queued (SPEC §7). Loaded only when a command queued any.
 * Whatever happens here is reported on stderr and never changes the command's exit code: the change
 * is committed and its notice is safe in the outbox, so `notify send` (or the portal's own mailer)
 * can still deliver it.
 */
import { deliverNotifications } from '../core/notify/delivery.js';
import type { Db } from '../db/store.js';
import type { Relay } from '../mail/relay.js';
import type { CommandContext } from './context.js';
import { DELIVERY_CONCURRENCY, deliveryProgress } from './deliveryProgress.js';
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
  let store: Db;
  let relay: Relay;
  try {
    ({ store } = await ctx.database({ checkSchema: false }));
    const { readPolicy } = await import('../core/rules/policy.js');
    const { resolveRelay } = await import('../mail/relay.js');
    relay = resolveRelay((await readPolicy(store)).delivery, ctx.smtp);
  } catch (e) {
    // The database went away (with the command, or after it): the notices are committed and wait in
    // the outbox. Thrown from here, this would replace the command's own outcome — its error, which
    // already names the server, or its success.
    if (!opts.commandFailed) notSent(`${notices} not sent (${await unreadablePolicy(ctx, e)}); kept in the outbox: ${notifySend} delivers them`);
    return;
  }
  // (said only to whoever configured an SMTP URL of their own: an operator)
  if (relay.ignored && !ctx.out.json && !opts.commandFailed) ctx.out.info(`note: ${relay.ignored}`);
  if (!relay.smtp) {
    // Nothing to tell the user: an outbox read by the portal's own mailer is a supported set-up. An
    // operator asks with --verbose — not with --quiet or --json (stderr then carries only a JSON
    // error, if any), nor after a failed command (its error stays the one line on stderr).
    if (!ctx.globals.verbose || ctx.out.json || opts.commandFailed) return;
    ctx.out.info(
      `verbose: ${notices} to users ${n === 1 ? 'stays' : 'stay'} pending in the outbox (the portal's delivery policy names no SMTP relay; ${notifySend} delivers them once it does)`,
    );
    return;
  }
  let mailer: Awaited<ReturnType<typeof import('../mail/smtpMailer.js').createSmtpMailer>> | undefined;
  try {
    const { createSmtpMailer } = await import('../mail/smtpMailer.js');
    mailer = await createSmtpMailer(relay.smtp, { concurrency: DELIVERY_CONCURRENCY });
    const progress = await deliveryProgress(ctx, n);
    const result = await deliverNotifications(store, mailer, { ids, concurrency: DELIVERY_CONCURRENCY, now: ctx.clock, onProgress: progress.update });
    progress.stop();
    const undelivered = n - result.sent;
    if (result.errors.length > 0 && undelivered > 0) {
      const first = result.errors[0]!;
      notSent(
        `${undelivered} of ${notices} not sent (${oneLineMessage(first.error, 200)}); ${result.stillPending > 0 ? `kept in the outbox: ${notifySend} retries them` : `see ${commandLine(ctx, 'notify list', { as: false })}`}`,
        undelivered,
      );
    }
  } catch (e) {
    notSent(`${notices} not sent (${oneLineMessage((e as Error)?.message ?? String(e), 200)}); kept in the outbox: ${notifySend} retries them`);
  } finally {
    await mailer?.close().catch(() => undefined);
  }
}

/** Why the delivery policy could not be read, in one line naming the database (never SQL or a password). */
async function unreadablePolicy(ctx: CommandContext, e: unknown): Promise<string> {
  const { describeDatabaseError } = await import('../db/databaseErrors.js');
  let target: ReturnType<CommandContext['target']> | undefined;
  try {
    target = ctx.target();
  } catch {
    /* an unusable URL was reported by the command itself */
  }
  return `the portal's delivery policy could not be read: ${oneLineMessage(describeDatabaseError(e, target).message, 200)}`;
}
