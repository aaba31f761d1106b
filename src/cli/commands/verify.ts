import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import type { OptionsOf } from './flags.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/verify.js');

const define = (program: CommandUnknownOpts) =>
  program
    .command('verify')
    .description("check a code as the login's second step (exit 0 valid, 1 wrong or replayed, 4 locked); reports clock drift")
    .option('--user <email>', 'whose code (default: the actor)')
    .option('--org <slug>', 'the organisation you act in, for an admin of several')
    .addOption(new Option('--diagnose', "measure the device clock's offset (±10 min) without using up the code").conflicts('trustDevice'))
    .option('--trust-device', 'after a valid code, trust this device for 30 days (prints its token once)')
    .option('--label <label>', 'a name for the trusted device')
    .addHelpText('after', '\nThe code comes from --code CODE, --code - (stdin), or a prompt on a terminal.');
export type VerifyOptions = OptionsOf<typeof define>;

export function registerVerifyCommand(program: CommandUnknownOpts, act: Act): void {
  define(program).action(act(lazy(load, 'verify')));
}
