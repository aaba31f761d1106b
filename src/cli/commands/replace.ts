import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { type OptionsOf, QR_MODES } from './flags.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/replace.js');

const define = (program: CommandUnknownOpts) =>
  program
    .command('replace')
    .description('move MFA to a new device: prove the old one with a code, then enrol the new one (the old stays valid until then)')
    .option('--confirm <code>', 'activate the pending new device with a code from it (scriptable form)')
    .option('--no-confirm', 'prove the old device and start the new enrolment, leaving it pending (use with --json)')
    .addOption(new Option('--qr <mode>', 'QR code: utf8 (compact), ansi (full size) or none').choices(QR_MODES))
    .addHelpText('after', "\nThe old device's code comes from --code CODE (or a prompt); with --as it is also your second factor.");
export type ReplaceOptions = OptionsOf<typeof define>;

export function registerReplaceCommand(program: CommandUnknownOpts, act: Act): void {
  define(program).action(act(lazy(load, 'replace')));
}
