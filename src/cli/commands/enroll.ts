import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { type OptionsOf, QR_MODES } from './flags.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/enroll.js');

const define = (program: CommandUnknownOpts) =>
  program
    .command('enroll')
    .alias('enrol')
    .description('enrol yourself: QR code in the terminal, then confirm with a code from the app')
    .option('--confirm <code>', 'activate a pending enrolment with a current code (scriptable form)')
    .option('--no-confirm', 'start the enrolment and leave it pending (use with --json to get the URI)')
    .addOption(new Option('--qr <mode>', 'QR code: utf8 (compact), ansi (full size) or none (default: utf8 on a terminal)').choices(QR_MODES));
export type EnrollOptions = OptionsOf<typeof define>;

export function registerEnrollCommand(program: CommandUnknownOpts, act: Act): void {
  define(program).action(act(lazy(load, 'enroll')));
}
