import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { registerPolicySet } from './policy/set.js';
import { registerPolicyShow } from './policy/show.js';

/** `policy`: the portal-wide policy (support): MFA for everyone or recommended, limits, notice delivery. */
export function registerPolicy(program: CommandUnknownOpts, act: Act): void {
  const policy = program
    .command('policy')
    .description('the portal-wide policy (support): MFA required or recommended, lockout limits, lifetimes, notice delivery');
  registerPolicyShow(policy, act);
  registerPolicySet(policy, act);
}
