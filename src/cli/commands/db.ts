import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { registerDbMigrate } from './db/migrate.js';
import { registerDbRollback } from './db/rollback.js';
import { registerDbStatus } from './db/status.js';

/** `db`: the database schema: migrate, rollback, status. */
export function registerDb(program: CommandUnknownOpts, act: Act): void {
  const db = program.command('db').description('database schema: migrate, rollback, status');
  registerDbMigrate(db, act);
  registerDbRollback(db, act);
  registerDbStatus(db, act);
}
