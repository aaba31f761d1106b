import type { Command } from 'commander';
import type { Act } from '../main.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/status.js');

export function registerStatusCommand(program: Command, act: Act): void {
  program
    .command('status')
    .description('MFA state (none / pending / active), times, failures, lock, devices and recovery codes left')
    .option('--user <email>', 'whose status (default: the actor)')
    .option('--org <slug>', 'the organisation you act in, for an admin of several')
    .action(act(lazy(load, 'status')));
}
