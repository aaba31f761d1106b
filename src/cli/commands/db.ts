import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { registerDbCheck } from './db/check.js';
import { registerDbCleanup } from './db/cleanup.js';
import { registerDbInit } from './db/init.js';
import { registerDbMigrate } from './db/migrate.js';
import { registerDbRollback } from './db/rollback.js';
import { registerDbStatus } from './db/status.js';

/** `db`: portal-mfa's schema (migrate, rollback, status) and its attachment to the portal (init, check, cleanup). */
export function registerDb(program: CommandUnknownOpts, act: Act): void {
  const db = program.command('db').description("portal-mfa's tables and the portal they attach to: migrate, rollback, status, init, check, cleanup");
  registerDbMigrate(db, act);
  registerDbRollback(db, act);
  registerDbStatus(db, act);
  registerDbInit(db, act);
  registerDbCheck(db, act);
  registerDbCleanup(db, act);
}
