import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { type OptionsOf, parseSince, wholeNumber } from './flags.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/audit.js');

const define = (program: CommandUnknownOpts) =>
  program
    .command('audit')
    .description('the audit trail, newest first (support: everything; org admins: their organisations; users: their own)')
    .option('--user <email>', 'events by or about this user')
    .option('--org <slug>', 'events in this organisation')
    .option('--action <action>', 'one action (e.g. mfa.reset), or a prefix with * (mfa.*)')
    .addOption(new Option('--since <when>', 'from this date (2026-11-01, ISO-8601) or age (30m, 24h, 7d)').argParser(parseSince))
    .addOption(new Option('--limit <n>', 'at most this many events').argParser(wholeNumber({ min: 1, max: 100_000 })).default(50))
    .option('--csv', 'RFC 4180 CSV with a header row (formula-safe)')
    .option('--follow', 'keep printing new events as they arrive, until Ctrl-C');
export type AuditOptions = OptionsOf<typeof define>;

export function registerAuditCommand(program: CommandUnknownOpts, act: Act): void {
  define(program).action(act(lazy(load, 'audit')));
}
