import type { Command } from 'commander';
import type { Act } from '../main.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/audit.js');

export function registerAuditCommand(program: Command, act: Act): void {
  program
    .command('audit')
    .description('the audit trail, newest first (support: everything; org admins: their organisations; users: their own)')
    .option('--user <email>', 'events by or about this user')
    .option('--org <slug>', 'events in this organisation')
    .option('--action <action>', 'one action (e.g. mfa.reset), or a prefix with * (mfa.*)')
    .option('--since <when>', 'from this date (2026-11-01, ISO-8601) or age (30m, 24h, 7d)')
    .option('--limit <n>', 'at most this many events (default 50)')
    .option('--csv', 'RFC 4180 CSV with a header row (formula-safe)')
    .option('--follow', 'keep printing new events as they arrive, until Ctrl-C')
    .action(act(lazy(load, 'audit')));
}
