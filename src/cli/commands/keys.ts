import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import type { OptionsOf } from './flags.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/keys.js');

const defineRotate = (keys: CommandUnknownOpts) =>
  keys
    .command('rotate')
    .description('re-encrypt every secret under a new key, in batches (resumable; one rotation at a time; needs --yes without a terminal)')
    .requiredOption('--new-key-file <file>', 'file with the new base64 key (e.g. from: openssl rand -base64 32)')
    .option('--dry-run', 'say how many secrets would be re-encrypted, change nothing');
export type RotateOptions = OptionsOf<typeof defineRotate>;

export function registerKeysCommands(program: CommandUnknownOpts, act: Act): void {
  const keys = program.command('keys').description('the key that encrypts TOTP secrets at rest');
  defineRotate(keys).action(act(lazy(load, 'rotate')));
  keys
    .command('check')
    .description('decrypt every stored secret with the configured key(s): counts per key id, failures by user id (exit 10 if any); changes nothing')
    .action(act(lazy(load, 'check')));
}
