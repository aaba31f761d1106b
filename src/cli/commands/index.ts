import type { Command } from 'commander';
import type { Act } from '../main.js';
import { registerDbCommands } from './db.js';
import { registerDemoCommand } from './demo.js';
import { registerEnrollCommand } from './enroll.js';
import { registerSessionCommands } from './session.js';
import { registerStatusCommand } from './status.js';
import { registerVerifyCommand } from './verify.js';

/** Every command of portal-mfa, in the order `--help` lists them. */
export function registerCommands(program: Command, act: Act): void {
  registerEnrollCommand(program, act);
  registerVerifyCommand(program, act);
  registerSessionCommands(program, act);
  registerStatusCommand(program, act);
  registerDemoCommand(program, act);
  registerDbCommands(program, act);
}
