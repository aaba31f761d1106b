import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { NOTICE_STATUSES, type OptionsOf, wholeNumber } from './flags.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/notify.js');

const LIMIT = { min: 1, max: 1_000_000 };

const defineList = (notify: CommandUnknownOpts) =>
  notify
    .command('list')
    .description('list the outbox, newest first (support only)')
    .addOption(new Option('--status <status>', 'only pending, sent or failed notices').choices(NOTICE_STATUSES))
    .option('--user <email>', 'only notices to this user')
    .addOption(new Option('--limit <n>', 'at most this many notices').argParser(wholeNumber(LIMIT)).default(50))
    .addHelpText(
      'after',
      `
Examples:
  portal-mfa notify list --status pending
  portal-mfa notify list --user alice@acme.example --json
  portal-mfa notify list --status failed --limit 500`,
    );
export type ListOptions = OptionsOf<typeof defineList>;

const defineSend = (notify: CommandUnknownOpts) =>
  notify
    .command('send')
    .description('deliver the pending notices that are due, over SMTP (PORTAL_MFA_SMTP_URL, PORTAL_MFA_MAIL_FROM)')
    .addOption(new Option('--limit <n>', 'at most this many notices').argParser(wholeNumber(LIMIT)))
    .addHelpText(
      'after',
      `
Needs PORTAL_MFA_SMTP_URL (smtp:// or smtps://) and PORTAL_MFA_MAIL_FROM. A failed attempt is retried by a
later run with backoff (1, 2, 4 … minutes, at most 6 hours); after 10 attempts a notice is failed.

Examples:
  PORTAL_MFA_SMTP_URL=smtp://mail.internal:25 PORTAL_MFA_MAIL_FROM=no-reply@portal.example portal-mfa notify send
  portal-mfa notify send --limit 1000 --json`,
    );
export type SendOptions = OptionsOf<typeof defineSend>;

export function registerNotifyCommands(program: CommandUnknownOpts, act: Act): void {
  const notify = program.command('notify').description('the notification outbox: the mails that tell users about changes to their MFA');
  defineList(notify).action(act(lazy(load, 'list')));
  defineSend(notify).action(act(lazy(load, 'send')));
}
