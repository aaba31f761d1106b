import type { Command } from 'commander';
import type { Act } from '../main.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/db.js');

export function registerDbCommands(program: Command, act: Act): void {
  const db = program.command('db').description('database schema: migrate, rollback, status');
  db.command('migrate')
    .description('apply every pending migration')
    .action(act(lazy(load, 'migrate')));
  db.command('rollback')
    .description('undo the last batch of migrations (refuses to drop data without --force; needs --yes without a terminal)')
    .option('--all', 'undo every migration (drops all portal-mfa tables)')
    .option('--dry-run', 'say which migrations would be undone and which tables (with their rows) dropped; change nothing')
    .option('--force', 'drop tables even though they hold rows (the audit trail included)')
    .action(act(lazy(load, 'rollback')));
  db.command('status')
    .description('list applied and pending migrations')
    .action(act(lazy(load, 'status')));
}
