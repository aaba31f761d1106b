import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import type { NotificationRow } from '../../../core/notify/outboxReport.js';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { oneLineMessage } from '../../oneLine.js';
import { humanTime, isoOrNull } from '../../render.js';
import { withExamples } from '../examples.js';
import { NOTICE_STATUSES, NOTICE_LIMIT, type OptionsOf, wholeNumber } from '../flags.js';

const define = (notify: CommandUnknownOpts) =>
  notify
    .command('list')
    .description('list the outbox, newest first (support only)')
    .addOption(new Option('--status <status>', 'only pending, sent or failed notices').choices(NOTICE_STATUSES))
    .option('--user <email>', 'only notices to this user')
    .addOption(new Option('--limit <n>', 'at most this many notices').argParser(wholeNumber(NOTICE_LIMIT)).default(50));
type ListOptions = OptionsOf<typeof define>;

export function registerNotifyList(notify: CommandUnknownOpts, act: Act): void {
  withExamples(define(notify), [
    'portal-mfa notify list --status pending',
    'portal-mfa notify list --user alice@acme.example --json',
    'portal-mfa notify list --status failed --limit 500',
  ]).action(act(list));
}

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
async function list(ctx: CommandContext, opts: ListOptions): Promise<void> {
  const { portal, resolveActor } = await import('../../actor.js');
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
