import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import type { OptionsOf } from './flags.js';
import { lazy } from './lazy.js';

// Definitions only: the command's code is loaded when it runs, so --help stays fast.
const load = () => import('../handlers/db.js');

const defineRollback = (db: CommandUnknownOpts) =>
  db
    .command('rollback')
    .description('undo the last batch of migrations (refuses to drop data without --force; needs --yes without a terminal)')
    .option('--all', 'undo every migration (drops all portal-mfa tables)')
    .option('--dry-run', 'say which migrations would be undone and which tables (with their rows) dropped; change nothing')
    .option('--force', 'drop tables even though they hold rows (the audit trail included)');
export type RollbackOptions = OptionsOf<typeof defineRollback>;

export function registerDbCommands(program: CommandUnknownOpts, act: Act): void {
  const db = program.command('db').description('database schema: migrate, rollback, status');
  db.command('migrate')
    .description('apply every pending migration')
    .action(act(lazy(load, 'migrate')));
  defineRollback(db).action(act(lazy(load, 'rollback')));
  db.command('status')
    .description('list applied and pending migrations')
    .action(act(lazy(load, 'status')));
}
