import { Argument, type CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { type OptionsOf, wholeNumbers } from './flags.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/devices.js');

const defineList = (devices: CommandUnknownOpts) =>
  devices
    .command('list')
    .description('list trusted devices')
    .option('--user <email>', 'whose devices (default: your own)')
    .option('--org <slug>', 'the organisation you act in (organisation admins)')
    .option('--all', 'include expired and revoked devices');
export type ListOptions = OptionsOf<typeof defineList>;

const defineRevoke = (devices: CommandUnknownOpts) =>
  devices
    .command('revoke')
    .description("revoke trusted devices by id, or --all of a user's")
    .addArgument(new Argument('[ids...]', 'device ids (from devices list)').argParser(wholeNumbers('a device id', 'ids are the numbers devices list shows')))
    .option('--all', 'revoke every device of the user')
    .option('--user <email>', 'with --all: whose devices (default: your own)')
    .option('--org <slug>', 'the organisation you act in (organisation admins)')
    .option('--ticket <ticket>', 'support ticket reference (required for support on another user)')
    .option('--reason <reason>', 'why, for the audit trail')
    .option('--dry-run', 'say what would be revoked, change nothing');
export type RevokeOptions = OptionsOf<typeof defineRevoke>;

export function registerDevicesCommands(program: CommandUnknownOpts, act: Act): void {
  const devices = program.command('devices').description('trusted devices (logins that skip the code for 30 days)');
  defineList(devices).action(act(lazy(load, 'list')));
  defineRevoke(devices).action(act(lazy(load, 'revoke')));
}
