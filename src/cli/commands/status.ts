import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import type { OptionsOf } from './flags.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/status.js');

const define = (program: CommandUnknownOpts) =>
  program
    .command('status')
    .description('MFA state (none / pending / active), times, failures, lock, devices and recovery codes left')
    .option('--user <email>', 'whose status (default: the actor)')
    .option('--org <slug>', 'the organisation you act in, for an admin of several');
export type StatusOptions = OptionsOf<typeof define>;

export function registerStatusCommand(program: CommandUnknownOpts, act: Act): void {
  define(program).action(act(lazy(load, 'status')));
}
