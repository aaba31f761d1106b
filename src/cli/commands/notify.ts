import type { Command } from 'commander';
import type { Act } from '../main.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/notify.js');

export function registerNotifyCommands(program: Command, act: Act): void {
  const notify = program.command('notify').description('the notification outbox: the mails that tell users about changes to their MFA');
  notify
    .command('list')
    .description('list the outbox, newest first (support only)')
    .option('--status <status>', 'only pending, sent or failed notices')
    .option('--user <email>', 'only notices to this user')
    .option('--limit <n>', 'at most this many notices (default 50)')
    .addHelpText(
      'after',
      `
Examples:
  portal-mfa notify list --status pending
  portal-mfa notify list --user alice@acme.example --json
  portal-mfa notify list --status failed --limit 500`,
    )
    .action(act(lazy(load, 'list')));
  notify
    .command('send')
    .description('deliver the pending notices that are due, over SMTP (PORTAL_MFA_SMTP_URL, PORTAL_MFA_MAIL_FROM)')
    .option('--limit <n>', 'at most this many notices')
    .addHelpText(
      'after',
      `
Needs PORTAL_MFA_SMTP_URL (smtp:// or smtps://) and PORTAL_MFA_MAIL_FROM. A failed attempt is retried by a
later run with backoff (1, 2, 4 … minutes, at most 6 hours); after 10 attempts a notice is failed.

Examples:
  PORTAL_MFA_SMTP_URL=smtp://mail.internal:25 PORTAL_MFA_MAIL_FROM=no-reply@portal.example portal-mfa notify send
  portal-mfa notify send --limit 1000 --json`,
    )
    .action(act(lazy(load, 'send')));
}
