import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { registerAuditCommand } from './audit.js';
import { registerDbCommands } from './db.js';
import { registerDemoCommand } from './demo.js';
import { registerDevicesCommands } from './devices.js';
import { registerDisableCommand } from './disable.js';
import { registerEnrollCommand } from './enroll.js';
import { registerKeysCommands } from './keys.js';
import { registerNotifyCommands } from './notify.js';
import { registerOrgCommands } from './org.js';
import { registerRecoveryCodesCommand } from './recoveryCodes.js';
import { registerReplaceCommand } from './replace.js';
import { registerSessionCommands } from './session.js';
import { registerStatusCommand } from './status.js';
import { registerSupportCommands } from './support.js';
import { registerVerifyCommand } from './verify.js';

/** Every command of portal-mfa, in the order `--help` lists them. */
export function registerCommands(program: CommandUnknownOpts, act: Act): void {
  registerEnrollCommand(program, act);
  registerVerifyCommand(program, act);
  registerSessionCommands(program, act);
  registerStatusCommand(program, act);
  registerDevicesCommands(program, act);
  registerReplaceCommand(program, act);
  registerDisableCommand(program, act);
  registerRecoveryCodesCommand(program, act);
  registerSupportCommands(program, act);
  registerOrgCommands(program, act);
  registerAuditCommand(program, act);
  registerNotifyCommands(program, act);
  registerKeysCommands(program, act);
  registerDemoCommand(program, act);
  registerDbCommands(program, act);
}
