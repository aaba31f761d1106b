import type { Knex } from 'knex';
import { type MigrationNames as OwnTableNames, ownTablesMigration, tablesOf } from './20261203000001_own_tables.js';
import { type ChallengeNames, challengesMigration } from './20261204000001_challenges.js';
import { type ServiceKeyNames, serviceKeysMigration } from './20261204000002_service_keys.js';

/** The names of every table the migrations make, each with the prefix. */
export type MigrationNames = OwnTableNames & ChallengeNames & ServiceKeyNames;

/**
 * Every migration this version of portal-mfa knows, oldest first, for one table prefix. A static
 * list (rather than a directory scan) so the set is fixed at build time and a database migrated by a
 * newer version can be recognised by the names it holds that are not in this list. Each entry names
 * the tables its `up` creates (a migration refuses to run when one of them is taken) and its `down`
 * drops or alters (db rollback's guard).
 */
export function migrations(n: MigrationNames): ReadonlyArray<{ name: string; module: Knex.Migration; creates: string[]; touches: string[] }> {
  return [
    { name: '20261203000001_own_tables', module: ownTablesMigration(n), creates: tablesOf(n), touches: tablesOf(n) },
    { name: '20261204000001_challenges', module: challengesMigration(n), creates: [n.challenges], touches: [n.challenges] },
    { name: '20261204000002_service_keys', module: serviceKeysMigration(n), creates: [n.service_keys], touches: [n.service_keys] },
  ];
}
