import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { MFA_FILTERS, type OptionsOf, wholeNumber } from './flags.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/support.js');

const defineUnlock = (program: CommandUnknownOpts) =>
  program
    .command('unlock')
    .description('clear a lockout (also a hard lock) and the failure count; support (with --ticket) or an org admin for a member')
    .requiredOption('--user <email>', 'the locked user')
    .option('--org <slug>', 'the organisation you act in (organisation admins)')
    .option('--ticket <ticket>', 'support ticket reference (required for support)')
    .option('--reason <reason>', 'why, for the audit trail')
    .option('--dry-run', 'say what would be cleared, change nothing');
export type UnlockOptions = OptionsOf<typeof defineUnlock>;

const defineIssue = (ac: CommandUnknownOpts) =>
  ac
    .command('issue')
    .description('issue a temporary access code (shown once; replaces any live one)')
    .requiredOption('--user <email>', 'who gets the code')
    .option('--org <slug>', 'the organisation you act in (organisation admins)')
    .option('--ticket <ticket>', 'support ticket reference (required for support)')
    .option('--reason <reason>', 'why, for the audit trail')
    // (their limits are the core's: src/core/support.ts)
    .addOption(new Option('--minutes <m>', 'valid for this long (default 60, at most 10080 = 7 days)').argParser(wholeNumber()))
    .addOption(new Option('--uses <n>', 'how many logins it allows (default 1, at most 10)').argParser(wholeNumber()))
    .option('--dry-run', 'say what would be issued, issue nothing');
export type IssueOptions = OptionsOf<typeof defineIssue>;

const defineRevoke = (ac: CommandUnknownOpts) =>
  ac
    .command('revoke')
    .description("revoke the user's live access code")
    .requiredOption('--user <email>', 'whose code')
    .option('--org <slug>', 'the organisation you act in (organisation admins)')
    .option('--ticket <ticket>', 'support ticket reference (required for support)')
    .option('--reason <reason>', 'why, for the audit trail')
    .option('--dry-run', 'say what would be revoked, change nothing');
export type RevokeOptions = OptionsOf<typeof defineRevoke>;

const defineUsersList = (users: CommandUnknownOpts) =>
  users
    .command('list')
    .description('every portal user with MFA state, users in no organisation included (streams; --json NDJSON, --csv)')
    .addOption(new Option('--mfa <state>', 'only users whose MFA is on, off or pending').choices(MFA_FILTERS))
    .option('--org <slug>', 'only members of this organisation')
    .addOption(new Option('--role <role>', 'only developers or support representatives').choices(['developer', 'support'] as const))
    .option('--locked', 'only users locked out now')
    .option('--csv', 'RFC 4180 CSV with a header row (formula-safe)');
export type UsersListOptions = OptionsOf<typeof defineUsersList>;

export function registerSupportCommands(program: CommandUnknownOpts, act: Act): void {
  defineUnlock(program).action(act(lazy(load, 'unlock')));
  const ac = program.command('access-code').description("temporary access codes: a one-time code a user types at login instead of a lost phone's code");
  defineIssue(ac).action(act(lazy(load, 'issueAccessCode')));
  defineRevoke(ac).action(act(lazy(load, 'revokeAccessCode')));
  const users = program.command('users').description('the portal-wide user report (support)');
  defineUsersList(users).action(act(lazy(load, 'listUsers')));
}
