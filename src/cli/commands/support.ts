import type { Command } from 'commander';
import type { Act } from '../main.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/support.js');

export function registerSupportCommands(program: Command, act: Act): void {
  program
    .command('unlock')
    .description('clear a lockout (also a hard lock) and the failure count; support (with --ticket) or an org admin for a member')
    .requiredOption('--user <email>', 'the locked user')
    .option('--org <slug>', 'the organisation you act in (organisation admins)')
    .option('--ticket <ticket>', 'support ticket reference (required for support)')
    .option('--reason <reason>', 'why, for the audit trail')
    .option('--dry-run', 'say what would be cleared, change nothing')
    .action(act(lazy(load, 'unlock')));
  const ac = program.command('access-code').description("temporary access codes: a one-time code a user types at login instead of a lost phone's code");
  ac.command('issue')
    .description('issue a temporary access code (shown once; replaces any live one)')
    .requiredOption('--user <email>', 'who gets the code')
    .option('--org <slug>', 'the organisation you act in (organisation admins)')
    .option('--ticket <ticket>', 'support ticket reference (required for support)')
    .option('--reason <reason>', 'why, for the audit trail')
    .option('--minutes <m>', 'valid for this long (default 60, at most 10080 = 7 days)')
    .option('--uses <n>', 'how many logins it allows (default 1, at most 10)')
    .option('--dry-run', 'say what would be issued, issue nothing')
    .action(act(lazy(load, 'issueAccessCode')));
  ac.command('revoke')
    .description("revoke the user's live access code")
    .requiredOption('--user <email>', 'whose code')
    .option('--org <slug>', 'the organisation you act in (organisation admins)')
    .option('--ticket <ticket>', 'support ticket reference (required for support)')
    .option('--reason <reason>', 'why, for the audit trail')
    .option('--dry-run', 'say what would be revoked, change nothing')
    .action(act(lazy(load, 'revokeAccessCode')));
  const users = program.command('users').description('the portal-wide user report (support)');
  users
    .command('list')
    .description('every portal user with MFA state, users in no organisation included (streams; --json NDJSON, --csv)')
    .option('--mfa <state>', 'only users whose MFA is on, off or pending')
    .option('--org <slug>', 'only members of this organisation')
    .option('--role <role>', 'only developers or support representatives')
    .option('--locked', 'only users locked out now')
    .option('--csv', 'RFC 4180 CSV with a header row (formula-safe)')
    .action(act(lazy(load, 'listUsers')));
}
