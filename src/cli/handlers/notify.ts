import { recordAudit } from '../../core/audit.js';
import { configError } from '../../core/errors.js';
import { deliverNotifications } from '../../core/notify/delivery.js';
import { dueNotices, type NotificationRow } from '../../core/notify/outboxReport.js';
import { portal, resolveActor } from '../actor.js';
import type { ListOptions, SendOptions } from '../commands/notify.js';
import type { CommandContext } from '../context.js';
import { DELIVERY_CONCURRENCY, deliveryProgress } from '../deliveryProgress.js';
import { oneLineMessage } from '../oneLine.js';
import { humanTime, isoOrNull } from '../render.js';

function noticeJson(r: NotificationRow) {
  return {
    id: r.id,
    userId: r.user_id,
    email: r.email,
    event: r.event,
    subject: r.subject,
    body: r.body,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    nextAttemptAt: r.status === 'pending' ? isoOrNull(r.next_attempt_at) : null,
    createdAt: isoOrNull(r.created_at),
    sentAt: isoOrNull(r.sent_at),
  };
}

/** `notify list`: the outbox, for support (it names every user who was told about a change). */
export async function list(ctx: CommandContext, opts: ListOptions): Promise<void> {
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, { action: 'notify.list' });
  const rows = await mfa.listOutbox(actor, { status: opts.status, userEmail: opts.user, limit: opts.limit });
  if (ctx.out.json) {
    for (const r of rows) ctx.out.printJsonLine(noticeJson(r));
    return;
  }
  if (rows.length === 0) {
    ctx.out.info('no notices match');
    return;
  }
  ctx.out.table(
    [
      { header: 'id', value: (r: NotificationRow) => String(r.id) },
      { header: 'created', value: (r) => humanTime(r.created_at) },
      { header: 'to', value: (r) => r.email },
      { header: 'event', value: (r) => r.event },
      {
        header: 'status',
        value: (r) => r.status,
        color: (v, s) => (v === 'sent' ? s.green(v) : v === 'failed' ? s.red(v) : s.yellow(v)),
      },
      { header: 'attempts', value: (r) => String(r.attempts) },
      { header: 'sent / next try', value: (r) => (r.status === 'sent' ? humanTime(r.sent_at) : r.status === 'pending' ? humanTime(r.next_attempt_at) : '-') },
      { header: 'last error', value: (r) => (r.last_error ? oneLineMessage(r.last_error, 80) : '-') },
    ],
    rows,
  );
}

/**
 * `notify send`: an infrastructure operation like `keys rotate` — no actor, audited with the OS user
 * and host. Safe to run from several places at once: each notice is claimed before it is sent.
 */
export async function send(ctx: CommandContext, opts: SendOptions): Promise<void> {
  const limit = opts.limit;
  const { store } = await ctx.database();
  const { readPolicy } = await import('../../core/policy.js');
  const { resolveRelay } = await import('../../mail/relay.js');
  // the portal's relay only: whoever runs notify send cannot send the outbox anywhere else
  const relay = resolveRelay((await readPolicy(store)).delivery, ctx.smtp);
  if (relay.ignored) ctx.out.warn(relay.ignored);
  const smtp = relay.smtp;
  if (!smtp) {
    throw configError("the portal's delivery policy names no SMTP relay: there is no server to send notices to", {
      hint: "support sets one with: portal-mfa policy set --smtp-relay smtp://host:port --mail-from ADDRESS; or let the portal's own mailer read the notifications table",
    });
  }
  const { createSmtpMailer } = await import('../../mail/smtpMailer.js');
  const mailer = await createSmtpMailer(smtp, { concurrency: DELIVERY_CONCURRENCY });
  const due = await dueNotices({ db: store, clock: ctx.clock });
  const progress = await deliveryProgress(ctx, Math.min(due, limit ?? due));
  const result = await deliverNotifications(store, mailer, { limit, concurrency: DELIVERY_CONCURRENCY, now: ctx.clock, onProgress: progress.update }).finally(
    () => mailer.close(),
  );
  progress.stop();
  await recordAudit(store, ctx, {
    action: 'notify.send',
    outcome: result.unavailable ? 'failure' : 'success',
    detail: { sent: result.sent, failed: result.failed, errors: result.errors.length, stillPending: result.stillPending, smtp: smtp.display },
  });
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
        `sent ${result.sent} notice(s) through ${smtp.display}; ${result.errors.length} failed attempt(s), ${result.failed} given up; ${result.stillPending} still pending`,
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
