import type { Knex } from 'knex';
import { migrations } from '../../migrations/index.js';
import { configError } from '../core/errors.js';
import type { Db } from './store.js';
import { listTables } from './tableList.js';

class StaticMigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly list: ReturnType<typeof migrations>) {}
  async getMigrations(): Promise<string[]> {
    return this.list.map((m) => m.name);
  }
  getMigrationName(name: string): string {
    return name;
  }
  async getMigration(name: string): Promise<Knex.Migration> {
    const found = this.list.find((m) => m.name === name);
    if (!found) throw configError(`unknown migration ${name}`);
    return found.module;
  }
}

/** This version's migrations for the handle's prefix. */
export function knownMigrations(db: Db) {
  return migrations(db.t);
}

function migratorConfig(db: Db): Knex.MigratorConfig {
  // knex keeps its bookkeeping (and its lock table) under the same prefix as everything else
  return { migrationSource: new StaticMigrationSource(knownMigrations(db)), tableName: db.t.knex_migrations };
}

export interface MigrationState {
  applied: { name: string; appliedAt: string | null }[];
  pending: string[];
  /** applied in the database but unknown to this version: the database was migrated by a newer portal-mfa */
  unknown: string[];
  current: boolean;
  /** the database holds portal-mfa's tables from before the identity mapping (unprefixed, knex_migrations) */
  legacy: boolean;
}

/** The first migration of installations before the table prefix (they kept bookkeeping in `knex_migrations`). */
export const LEGACY_FIRST_MIGRATION = '20261123000001_initial_schema';

export async function migrationState(db: Db): Promise<MigrationState> {
  const knex = db.root;
  const known = knownMigrations(db).map((m) => m.name);
  let rows: { name: string; migration_time: unknown }[] = [];
  if (await knex.schema.hasTable(db.t.knex_migrations)) {
    rows = await knex(db.t.knex_migrations).select('name', 'migration_time').orderBy('id');
  }
  let legacy = false;
  if (rows.length === 0 && db.t.knex_migrations !== 'knex_migrations' && (await knex.schema.hasTable('knex_migrations'))) {
    legacy = (await knex('knex_migrations').where('name', LEGACY_FIRST_MIGRATION).first('name')) !== undefined;
  }
  const appliedNames = new Set(rows.map((r) => r.name));
  const applied = rows.map((r) => ({ name: r.name, appliedAt: toIso(r.migration_time) }));
  const pending = known.filter((n) => !appliedNames.has(n));
  const unknown = rows.map((r) => r.name).filter((n) => !known.includes(n));
  return { applied, pending, unknown, current: pending.length === 0 && unknown.length === 0, legacy };
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

export interface MigrationPlan {
  /** migrations that would be applied, oldest first, with the tables each creates */
  steps: { name: string; creates: string[] }[];
  /** the tables of portal-mfa from before the prefix are carried over first */
  legacyUpgrade: boolean;
}

/** What `db migrate` would do; refuses (changing nothing) when a table it would create is taken. */
export async function planMigration(db: Db): Promise<MigrationPlan> {
  const state = await migrationState(db);
  refuseNewer(state);
  const steps = knownMigrations(db)
    .filter((m) => state.pending.includes(m.name))
    .map((m) => ({ name: m.name, creates: m.creates }));
  const existing = new Set((await listTables(db.root)).map((t) => t.toLowerCase()));
  const taken = steps.flatMap((s) => s.creates).filter((t) => existing.has(t.toLowerCase()));
  // the legacy upgrade renames the one legacy table whose name the new schema reuses
  const reused = state.legacy ? taken.filter((t) => t !== db.t.credentials) : taken;
  if (reused.length > 0) {
    throw configError(`cannot create portal-mfa's tables: ${reused.join(', ')} already exist(s) and are not portal-mfa's; nothing was changed`, {
      code: 'table_taken',
      hint: 'choose another table prefix for portal-mfa (PORTAL_MFA_TABLE_PREFIX or the profile key table_prefix), or a database of its own',
      details: { tables: reused },
    });
  }
  return { steps, legacyUpgrade: state.legacy };
}

export async function migrateLatest(db: Db): Promise<string[]> {
  const plan = await planMigration(db);
  if (plan.legacyUpgrade) {
    const { upgradeLegacySchema } = await import('./legacyUpgrade.js');
    return upgradeLegacySchema(db, () => runLatest(db));
  }
  return runLatest(db);
}

async function runLatest(db: Db): Promise<string[]> {
  const [, names] = (await db.root.migrate.latest(migratorConfig(db))) as [number, string[]];
  return names;
}

export async function rollbackLast(db: Db, all = false): Promise<string[]> {
  refuseNewer(await migrationState(db));
  const [, names] = (await db.root.migrate.rollback(migratorConfig(db), all)) as [number, string[]];
  return names;
}

/**
 * Every command but `db …` runs only on a current schema. The embedded default migrates itself;
 * anything else is a refusal with the command to run.
 */
export async function ensureSchemaCurrent(db: Db, opts: { autoMigrate: boolean }): Promise<void> {
  const state = await migrationState(db);
  refuseNewer(state);
  if (state.pending.length === 0) return;
  if (opts.autoMigrate) {
    await migrateLatest(db);
    return;
  }
  throw configError(
    state.legacy
      ? "the database holds portal-mfa's tables from an earlier version"
      : state.applied.length === 0
        ? 'the database has no portal-mfa schema yet'
        : `the database schema is out of date (${state.pending.length} migration(s) pending)`,
    { hint: 'run: portal-mfa db migrate' },
  );
}
