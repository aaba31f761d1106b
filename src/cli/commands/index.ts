import type { Command } from 'commander';
import type { Act } from '../main.js';
import { registerDbCommands } from './db.js';
import { registerDemoCommand } from './demo.js';

/** Every command of portal-mfa, in the order `--help` lists them. */
export function registerCommands(program: Command, act: Act): void {
  registerDemoCommand(program, act);
  registerDbCommands(program, act);
}
