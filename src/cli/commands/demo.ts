import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { type OptionsOf, wholeNumber } from './flags.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/demo.js');

const define = (program: CommandUnknownOpts) =>
  program
    .command('demo')
    .description('create (or --reset) sample portal data and print what to try next')
    .option('--reset', 'delete the demo accounts and organisations (with their MFA state) and create them again; needs --yes without a terminal')
    .option('--dry-run', 'say what would be deleted and created, change nothing')
    .addOption(new Option('--members <n>', 'also add N generated members to the first organisation (acme)').argParser(wholeNumber({ min: 0, max: 1_000_000 })));
export type DemoOptions = OptionsOf<typeof define>;

export function registerDemoCommand(program: CommandUnknownOpts, act: Act): void {
  define(program).action(act(lazy(load, 'demo')));
}
