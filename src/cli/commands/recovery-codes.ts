import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { registerRecoveryCodesRegenerate } from './recovery-codes/regenerate.js';

/** `recovery-codes`: single-use recovery codes. */
export function registerRecoveryCodes(program: CommandUnknownOpts, act: Act): void {
  const recoveryCodes = program.command('recovery-codes').description('single-use recovery codes');
  registerRecoveryCodesRegenerate(recoveryCodes, act);
}
