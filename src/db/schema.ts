import type { Knex } from 'knex';
import { MIGRATIONS } from '../../migrations/index.js';
import { configError } from '../core/errors.js';

const MIGRATION_TABLE = 'knex_migrations';

class StaticMigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return MIGRATIONS.map((m) => m.name);
  }
  getMigrationName(name: string): string {
    return name;
  }
  async getMigration(name: string): Promise<Knex.Migration> {
    const found = MIGRATIONS.find((m) => m.name === name);
    if (!found) throw configError(`unknown migration ${name}`);
    return found.module;
  }
}

function migratorConfig(): Knex.MigratorConfig {
  return { migrationSource: new StaticMigrationSource(), tableName: MIGRATION_TABLE };
}

export interface MigrationState {
  applied: { name: string; appliedAt: string | null }[];
  pending: string[];
  /** applied in the database but unknown to this version: the database was migrated by a newer portal-mfa */
  unknown: string[];
  current: boolean;
}

export async function migrationState(knex: Knex): Promise<MigrationState> {
  const known = MIGRATIONS.map((m) => m.name);
  let rows: { name: string; migration_time: unknown }[] = [];
  if (await knex.schema.hasTable(MIGRATION_TABLE)) {
    rows = await knex(MIGRATION_TABLE).select('name', 'migration_time').orderBy('id');
  }
  const appliedNames = new Set(rows.map((r) => r.name));
  const applied = rows.map((r) => ({ name: r.name, appliedAt: toIso(r.migration_time) }));
  const pending = known.filter((n) => !appliedNames.has(n));
  const unknown = rows.map((r) => r.name).filter((n) => !known.includes(n));
  return { applied, pending, unknown, current: pending.length === 0 && unknown.length === 0 };
}

function toIso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const d = v instanceof Date ? v : new Date(typeof v === 'number' ? v : String(v).replace(' ', 'T') + (String(v).includes('Z') ? '' : 'Z'));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function refuseNewer(state: MigrationState): void {
  if (state.unknown.length > 0) {
    throw configError(`the database schema was migrated by a newer version of portal-mfa (migration ${state.unknown[state.unknown.length - 1]})`, {
      hint: 'upgrade portal-mfa before using this database',
    });
  }
}

export async function migrateLatest(knex: Knex): Promise<string[]> {
  refuseNewer(await migrationState(knex));
  const [, names] = (await knex.migrate.latest(migratorConfig())) as [number, string[]];
  return names;
}

export async function rollbackLast(knex: Knex, all = false): Promise<string[]> {
  refuseNewer(await migrationState(knex));
  const [, names] = (await knex.migrate.rollback(migratorConfig(), all)) as [number, string[]];
  return names;
}

/**
 * Every command but `db …` runs only on a current schema. The embedded default migrates itself;
 * anything else is a refusal with the command to run.
 */
export async function ensureSchemaCurrent(knex: Knex, opts: { autoMigrate: boolean }): Promise<void> {
  const state = await migrationState(knex);
  refuseNewer(state);
  if (state.pending.length === 0) return;
  if (opts.autoMigrate) {
    await migrateLatest(knex);
    return;
  }
  throw configError(
    state.applied.length === 0
      ? 'the database has no portal-mfa schema yet'
      : `the database schema is out of date (${state.pending.length} migration(s) pending)`,
    { hint: 'run: portal-mfa db migrate' },
  );
}
