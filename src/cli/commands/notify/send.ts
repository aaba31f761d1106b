import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import { configError } from '../../../core/errors.js';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { DELIVERY_CONCURRENCY, type DeliveryProgress, deliveryProgress } from '../../deliveryProgress.js';
import { oneLineMessage } from '../../oneLine.js';
import { withExamples } from '../examples.js';
import { NOTICE_LIMIT, type OptionsOf, wholeNumber } from '../flags.js';

const define = (notify: CommandUnknownOpts) =>
  notify
    .command('send')
    .description("deliver the pending notices that are due, to the portal's SMTP relay (policy set --smtp-relay)")
    .addOption(new Option('--limit <n>', 'at most this many notices').argParser(wholeNumber(NOTICE_LIMIT)))
    .addHelpText(
      'after',
      `
Notices go only to the relay and sender named in the portal's policy (support: policy set --smtp-relay
URL --mail-from ADDRESS). PORTAL_MFA_SMTP_URL (or a profile's smtp_url) naming the same host and port
lends the relay's user and password. A failed attempt is retried by a later run with backoff (1, 2,
4 … minutes, at most 6 hours); after 10 attempts a notice is failed.`,
    );
type SendOptions = OptionsOf<typeof define>;

export function registerNotifySend(notify: CommandUnknownOpts, act: Act): void {
  withExamples(define(notify), ['portal-mfa notify send', 'portal-mfa notify send --limit 1000 --json']).action(act(send));
}

/**
 * `notify send`: an infrastructure operation like `keys rotate` — no actor, audited with the OS user
 * and host. Safe to run from several places at once: each notice is claimed before it is sent.
 */
async function send(ctx: CommandContext, opts: SendOptions): Promise<void> {
  const { sendDueNotices } = await import('../../../core/notify/send.js');
  const { store } = await ctx.database();
  let progress: DeliveryProgress | undefined;
  // the portal's relay only: whoever runs notify send cannot send the outbox anywhere else
  const result = await sendDueNotices(store, ctx, ctx.smtp, {
    limit: opts.limit,
    concurrency: DELIVERY_CONCURRENCY,
    onStart: async (due) => {
      progress = await deliveryProgress(ctx, due);
    },
    onProgress: (done, total) => progress?.update(done, total),
    onIgnored: (why) => ctx.out.warn(why),
  });
  progress?.stop();
  if (ctx.out.json) {
    ctx.out.printJson({
      sent: result.sent,
      failed: result.failed,
      stillPending: result.stillPending,
      errors: result.errors.map((e) => ({ id: e.id, email: e.email, error: e.error })),
    });
  } else if (!result.unavailable) {
    // (when the server is unreachable, the error below is the whole story)
    const tried = result.sent + result.errors.length;
    if (tried === 0) {
      ctx.out.success(
        result.stillPending === 0 ? 'nothing to send: no notice is pending' : `nothing to send: ${result.stillPending} notice(s) pending, none due yet`,
      );
    } else {
      ctx.out.success(
        `sent ${result.sent} notice(s) through ${result.relay}; ${result.errors.length} failed attempt(s), ${result.failed} given up; ${result.stillPending} still pending`,
      );
    }
    for (const e of result.errors.slice(0, 5)) ctx.out.warn(`notice ${e.id} to ${e.email}: ${oneLineMessage(e.error, 200)}`);
    if (result.errors.length > 5) ctx.out.warn(`… and ${result.errors.length - 5} more (portal-mfa notify list --status pending)`);
  }
  if (result.unavailable) {
    throw configError(`the SMTP server could not be reached (${oneLineMessage(result.unavailable, 200)}); ${result.stillPending} notice(s) stay pending`, {
      hint: 'check PORTAL_MFA_SMTP_URL and the server, then run portal-mfa notify send again',
    });
  }
}
