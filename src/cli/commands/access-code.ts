import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { registerAccessCodeIssue } from './access-code/issue.js';
import { registerAccessCodeRevoke } from './access-code/revoke.js';

/** `access-code`: issue and revoke temporary access codes. */
export function registerAccessCode(program: CommandUnknownOpts, act: Act): void {
  const accessCode = program.command('access-code').description("temporary access codes: a one-time code a user types at login instead of a lost phone's code");
  registerAccessCodeIssue(accessCode, act);
  registerAccessCodeRevoke(accessCode, act);
}
