import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { registerOrgList } from './org/list.js';
import { registerOrgUsers } from './org/users.js';
import { registerOrgPolicy } from './org/policy.js';
import { registerOrgRemind } from './org/remind.js';
import { registerOrgDisableMfa } from './org/disable-mfa.js';

/** `org`: members' MFA state, policy, reminders, disabling MFA in bulk. */
export function registerOrg(program: CommandUnknownOpts, act: Act): void {
  const org = program.command('org').description("organisation administration: members' MFA state, policy, disabling MFA in bulk");
  registerOrgList(org, act);
  registerOrgUsers(org, act);
  registerOrgPolicy(org, act);
  registerOrgRemind(org, act);
  registerOrgDisableMfa(org, act);
}
