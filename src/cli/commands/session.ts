import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { type OptionsOf, QR_MODES } from './flags.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/session.js');

const defineLogin = (program: CommandUnknownOpts) =>
  program
    .command('login')
    .description("start a CLI session: password, then a code (or this machine's trusted-device token)")
    .option('--trust-device', 'trust this machine for 30 days: later logins skip the code')
    .option('--label <label>', 'a name for this machine (default: its host name)')
    .addOption(new Option('--qr <mode>', 'QR code when login makes you enrol: utf8, ansi or none').choices(QR_MODES))
    .addHelpText('after', '\nThe email comes from --as EMAIL (or PORTAL_MFA_AS), or a prompt.');
export type LoginOptions = OptionsOf<typeof defineLogin>;

export function registerSessionCommands(program: CommandUnknownOpts, act: Act): void {
  defineLogin(program).action(act(lazy(load, 'login')));
  program
    .command('logout')
    .description('end the CLI session on this machine')
    .action(act(lazy(load, 'logoutCommand')));
}
