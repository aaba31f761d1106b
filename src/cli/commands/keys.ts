import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { registerKeysRotate } from './keys/rotate.js';
import { registerKeysCheck } from './keys/check.js';

/** `keys`: the key that encrypts TOTP secrets at rest: rotate, check. */
export function registerKeys(program: CommandUnknownOpts, act: Act): void {
  const keys = program.command('keys').description('the key that encrypts TOTP secrets at rest');
  registerKeysRotate(keys, act);
  registerKeysCheck(keys, act);
}
