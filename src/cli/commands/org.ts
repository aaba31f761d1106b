import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { MFA_FILTERS, ON_OFF, type OptionsOf, wholeNumber } from './flags.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/org.js');

const defineUsers = (org: CommandUnknownOpts) =>
  org
    .command('users')
    .description('every member with MFA state, enrolled / last-used times and trusted devices (streams)')
    .option('--org <slug>', 'the organisation (default: the one you administer)')
    .addOption(new Option('--mfa <state>', 'only members whose MFA is on (active), off (none) or pending').choices(MFA_FILTERS))
    .addOption(new Option('--role <role>', 'only admins or members').choices(['admin', 'member'] as const))
    .option('--csv', 'RFC 4180 CSV with a header row');
export type UsersOptions = OptionsOf<typeof defineUsers>;

const definePolicy = (org: CommandUnknownOpts) =>
  org
    .command('policy')
    .description(
      'show the policy and who lacks MFA; or require MFA for every member (optionally after a grace period), or not; allow or forbid trusted devices',
    )
    .option('--org <slug>', 'the organisation (default: the one you administer)')
    .option('--require', 'require MFA')
    .option('--no-require', 'stop requiring MFA')
    .addOption(new Option('--grace-days <n>', 'days members have to enrol after --require (0 = none)').argParser(wholeNumber({ min: 0, max: 3650 })))
    .addOption(new Option('--device-trust <on|off>', "whether trusted devices may skip the code (off revokes the members' devices)").choices(ON_OFF))
    .option('--dry-run', 'show the effect of the change, change nothing');
export type PolicyOptions = OptionsOf<typeof definePolicy>;

const defineRemind = (org: CommandUnknownOpts) =>
  org
    .command('remind')
    .description('queue a reminder, with their enrolment deadline, to every member who lacks MFA')
    .option('--org <slug>', 'the organisation (default: the one you administer)')
    .option('--dry-run', 'list who would be reminded, queue nothing');
export type RemindOptions = OptionsOf<typeof defineRemind>;

const defineDisableMfa = (org: CommandUnknownOpts) =>
  org
    .command('disable-mfa')
    .description('disable MFA for members (one password re-entry for the batch; one result per user)')
    .option('--org <slug>', 'the organisation (default: the one you administer)')
    .option('--user <email...>', 'the members')
    .option('--users-from <file>', 'emails, one a line, or CSV with an email column; - for stdin')
    .option('--dry-run', 'show what would change, change nothing')
    .option('--ticket <ticket>', 'ticket reference for the audit trail (required for support)')
    .option('--reason <reason>', 'why, for the audit trail');
export type DisableMfaOptions = OptionsOf<typeof defineDisableMfa>;

export function registerOrgCommands(program: CommandUnknownOpts, act: Act): void {
  const org = program.command('org').description("organisation administration: members' MFA state, policy, disabling MFA in bulk");
  org
    .command('list')
    .description('your organisations: your role, whether MFA is required, members and how many have MFA')
    .action(act(lazy(load, 'list')));
  defineUsers(org).action(act(lazy(load, 'users')));
  definePolicy(org).action(act(lazy(load, 'policy')));
  defineRemind(org).action(act(lazy(load, 'remind')));
  defineDisableMfa(org).action(act(lazy(load, 'disableMfaCommand')));
}
