import type { Command } from 'commander';
import type { Act } from '../main.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/disable.js');

export function registerDisableCommand(program: Command, act: Act): void {
  program
    .command('disable')
    .description('disable MFA: your own, or (support, with --ticket; org admin) another user\'s — they then log in with password only and enrol again')
    .option('--user <email>', 'whose MFA (default: your own)')
    .option('--org <slug>', 'the organisation you act in (organisation admins)')
    .option('--ticket <ticket>', 'support ticket reference (required for a support reset)')
    .option('--reason <reason>', 'why, for the audit trail')
    .option('--dry-run', 'say what would be removed, change nothing')
    .action(act(lazy(load, 'disable')));
}
