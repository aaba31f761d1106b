import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/recoveryCodes.js');

export function registerRecoveryCodesCommand(program: CommandUnknownOpts, act: Act): void {
  const rc = program.command('recovery-codes').description('single-use recovery codes');
  rc.command('regenerate')
    .description('replace your recovery codes with ten new ones, shown once')
    .action(act(lazy(load, 'regenerate')));
}
