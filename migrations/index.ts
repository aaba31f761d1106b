import type { Knex } from 'knex';
import * as initialSchema from './20261123000001_initial_schema.js';
import * as maintenanceLocks from './20261123000002_maintenance_locks.js';
import * as lockoutAndAccessCodes from './20261201000002_lockout_and_access_codes.js';
import * as joinedAt from './20261201000004_joined_at.js';

/**
 * Every migration this version of portal-mfa knows, oldest first. A static list (rather than a
 * directory scan) so the set is fixed at build time and a database migrated by a newer version
 * can be recognised by the names it holds that are not in this list.
 */
export const MIGRATIONS: ReadonlyArray<{ name: string; module: Knex.Migration }> = [
  { name: '20261123000001_initial_schema', module: initialSchema },
  { name: '20261123000002_maintenance_locks', module: maintenanceLocks },
  { name: '20261201000002_lockout_and_access_codes', module: lockoutAndAccessCodes },
  { name: '20261201000004_joined_at', module: joinedAt },
];
