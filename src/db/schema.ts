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
const LEGACY_FIRST_MIGRATION = '20261123000001_initial_schema';

export async function migrationState(db: Db): Promise<MigrationState> {
  const knex = db.root;
  const known = knownMigrations(db).map((m) => m.name);
  let rows: { name: string; migration_time: unknown }[] = [];
  if (await knex.schema.hasTable(db.t.knex_migrations)) {
    rows = await knex(db.t.knex_migrations).select('name', 'migration_time').orderBy('id');
  }
  // still legacy after the new migration ran, until the upgrade dropped the old bookkeeping (last):
  // on MySQL an interrupted upgrade is completed by the next db migrate (legacyUpgrade.ts)
  let legacy = false;
  if (db.t.knex_migrations !== 'knex_migrations' && (await knex.schema.hasTable('knex_migrations'))) {
    legacy = (await knex('knex_migrations').where('name', LEGACY_FIRST_MIGRATION).first('name')) !== undefined;
  }
  const appliedNames = new Set(rows.map((r) => r.name));
  const applied = rows.map((r) => ({ name: r.name, appliedAt: toIso(r.migration_time) }));
  const pending = known.filter((n) => !appliedNames.has(n));
  const unknown = rows.map((r) => r.name).filter((n) => !known.includes(n));
  return { applied, pending, unknown, current: pending.length === 0 && unknown.length === 0 && !legacy, legacy };
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
  // the legacy upgrade renames the one legacy table whose name the new schema reuses, and drops the
  // empty tables an interrupted upgrade left (MySQL)
  let reused = taken;
  if (state.legacy && taken.length > 0) {
    const { legacyLeftovers } = await import('./legacyUpgrade.js');
    const ours = await legacyLeftovers(db, taken);
    reused = taken.filter((t) => !ours.includes(t));
  }
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
    // SQLite: inside the upgrade's one transaction
    return upgradeLegacySchema(db, (trx) => runLatest(db, trx));
  }
  return runLatest(db);
}

async function runLatest(db: Db, on: Knex | Knex.Transaction = db.root): Promise<string[]> {
  const [, names] = (await on.migrate.latest(migratorConfig(db))) as [number, string[]];
  return names;
}

export async function rollbackLast(db: Db, all = false): Promise<string[]> {
  const state = await migrationState(db);
  refuseNewer(state);
  // mid-upgrade (MySQL) some old tables may be gone already: the new ones then hold the only copy
  if (state.legacy)
    throw configError("the upgrade from an earlier portal-mfa's tables is not finished; nothing was rolled back", { hint: 'run: portal-mfa db migrate' });
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
  if (state.pending.length === 0 && !state.legacy) return;
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
