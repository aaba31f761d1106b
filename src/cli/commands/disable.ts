import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import type { OptionsOf } from './flags.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/disable.js');

const define = (program: CommandUnknownOpts) =>
  program
    .command('disable')
    .description("disable MFA: your own, or (support, with --ticket; org admin) another user's — they then log in with password only and enrol again")
    .option('--user <email>', 'whose MFA (default: your own)')
    .option('--org <slug>', 'the organisation you act in (organisation admins)')
    .option('--ticket <ticket>', 'support ticket reference (required for a support reset)')
    .option('--reason <reason>', 'why, for the audit trail')
    .option('--dry-run', 'say what would be removed, change nothing');
export type DisableOptions = OptionsOf<typeof define>;

export function registerDisableCommand(program: CommandUnknownOpts, act: Act): void {
  define(program).action(act(lazy(load, 'disable')));
}
