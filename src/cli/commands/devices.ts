import type { Command } from 'commander';
import type { Act } from '../main.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/devices.js');

export function registerDevicesCommands(program: Command, act: Act): void {
  const devices = program.command('devices').description('trusted devices (logins that skip the code for 30 days)');
  devices
    .command('list')
    .description('list trusted devices')
    .option('--user <email>', 'whose devices (default: your own)')
    .option('--org <slug>', 'the organisation you act in (organisation admins)')
    .option('--all', 'include expired and revoked devices')
    .action(act(lazy(load, 'list')));
  devices
    .command('revoke [ids...]')
    .description('revoke trusted devices by id, or --all of a user\'s')
    .option('--all', 'revoke every device of the user')
    .option('--user <email>', 'with --all: whose devices (default: your own)')
    .option('--org <slug>', 'the organisation you act in (organisation admins)')
    .option('--ticket <ticket>', 'support ticket reference (required for support on another user)')
    .option('--reason <reason>', 'why, for the audit trail')
    .option('--dry-run', 'say what would be revoked, change nothing')
    .action(act(lazy(load, 'revoke')));
}
