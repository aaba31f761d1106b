import type { Command } from 'commander';
import type { Act } from '../main.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/demo.js');

export function registerDemoCommand(program: Command, act: Act): void {
  program
    .command('demo')
    .description('create (or --reset) sample portal data and print what to try next')
    .option('--reset', 'delete the demo accounts and organisations (with their MFA state) and create them again; needs --yes without a terminal')
    .option('--dry-run', 'say what would be deleted and created, change nothing')
    .option('--members <n>', 'also add N generated members to the first organisation (acme)')
    .action(act(lazy(load, 'demo')));
}
