import type { Command } from 'commander';
import type { Act } from '../main.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/org.js');

export function registerOrgCommands(program: Command, act: Act): void {
  const org = program.command('org').description('organisation administration: members\' MFA state, policy, disabling MFA in bulk');
  org.command('list').description('your organisations: your role, whether MFA is required, members and how many have MFA').action(act(lazy(load, 'list')));
  org
    .command('users')
    .description('every member with MFA state, enrolled / last-used times and trusted devices (streams)')
    .option('--org <slug>', 'the organisation (default: the one you administer)')
    .option('--mfa <state>', 'only members whose MFA is on (active), off (none) or pending')
    .option('--role <role>', 'only admins or members')
    .option('--csv', 'RFC 4180 CSV with a header row')
    .action(act(lazy(load, 'users')));
  org
    .command('policy')
    .description('show the policy and who lacks MFA; or require MFA for every member (optionally after a grace period), or not; allow or forbid trusted devices')
    .option('--org <slug>', 'the organisation (default: the one you administer)')
    .option('--require', 'require MFA')
    .option('--no-require', 'stop requiring MFA')
    .option('--grace-days <n>', 'days members have to enrol after --require (0 = none)')
    .option('--device-trust <on|off>', 'whether trusted devices may skip the code (off revokes the members\' devices)')
    .option('--dry-run', 'show the effect of the change, change nothing')
    .action(act(lazy(load, 'policy')));
  org
    .command('remind')
    .description('queue a reminder, with their enrolment deadline, to every member who lacks MFA')
    .option('--org <slug>', 'the organisation (default: the one you administer)')
    .option('--dry-run', 'list who would be reminded, queue nothing')
    .action(act(lazy(load, 'remind')));
  org
    .command('disable-mfa')
    .description('disable MFA for members (one password re-entry for the batch; one result per user)')
    .option('--org <slug>', 'the organisation (default: the one you administer)')
    .option('--user <email...>', 'the members')
    .option('--users-from <file>', 'emails, one a line, or CSV with an email column; - for stdin')
    .option('--dry-run', 'show what would change, change nothing')
    .option('--ticket <ticket>', 'ticket reference for the audit trail (required for support)')
    .option('--reason <reason>', 'why, for the audit trail')
    .action(act(lazy(load, 'disableMfaCommand')));
}
