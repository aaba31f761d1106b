import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { registerAccessCode } from './access-code.js';
import { registerAudit } from './audit.js';
import { registerCompletion } from './completion.js';
import { registerDb } from './db.js';
import { registerDemo } from './demo.js';
import { registerDevices } from './devices.js';
import { registerDisable } from './disable.js';
import { registerEnroll } from './enroll.js';
import { registerHelp } from './help.js';
import { registerKeys } from './keys.js';
import { registerLogin } from './login.js';
import { registerLogout } from './logout.js';
import { registerNotify } from './notify.js';
import { registerOrg } from './org.js';
import { registerPolicy } from './policy.js';
import { registerRecoveryCodes } from './recovery-codes.js';
import { registerReplace } from './replace.js';
import { registerServe } from './serve.js';
import { registerServiceKey } from './service-key.js';
import { registerStatus } from './status.js';
import { registerUnlock } from './unlock.js';
import { registerUsers } from './users.js';
import { registerVerify } from './verify.js';

/**
 * Every command of portal-mfa, in the order `--help` lists them. A command's file is its path:
 * `portal-mfa org users` is ./org/users.ts, `portal-mfa org` (the group) ./org.ts, `portal-mfa enroll` ./enroll.ts.
 */
export function registerCommands(program: CommandUnknownOpts, act: Act): void {
  registerHelp(program);
  registerEnroll(program, act);
  registerVerify(program, act);
  registerLogin(program, act);
  registerLogout(program, act);
  registerStatus(program, act);
  registerDevices(program, act);
  registerReplace(program, act);
  registerDisable(program, act);
  registerRecoveryCodes(program, act);
  registerUnlock(program, act);
  registerAccessCode(program, act);
  registerUsers(program, act);
  registerOrg(program, act);
  registerPolicy(program, act);
  registerAudit(program, act);
  registerNotify(program, act);
  registerKeys(program, act);
  registerDemo(program, act);
  registerDb(program, act);
  registerServe(program, act);
  registerServiceKey(program, act);
  registerCompletion(program, act);
}
