/**
 * portal-mfa's own tables as operations (SPEC §3 `db migrate`, `db status`, `db rollback`): run by
 * whoever holds the database credentials — no actor — and audited with the OS user and host. The
 * database is opened by the caller, and only when the operation needs it: a SQLite file that does
 * not exist yet is described as empty and never created by a status or a dry run.
 */
import { migrations } from '../../../migrations/index.js';
import { type Database, sqliteFileAbsent } from '../../db/connect.js';
import { planRollback } from '../../db/rollbackPlan.js';
import { ensureSchemaCurrent, migrateLatest, migrationState, planMigration, rollbackLast } from '../../db/schema.js';
import { loadMapping, makeDb, ownTables } from '../../db/store.js';
import { describeTarget, type DatabaseTarget } from '../../db/url.js';
import { wrongState } from '../errors.js';
import { type AuditDeps, recordAudit } from '../primitives/audit.js';

/** Opens the database when an operation needs it (the CLI's context opens it once). */
export type OpenDatabase = () => Promise<Database>;

const absentFile = (target: DatabaseTarget) => target.dialect === 'sqlite' && sqliteFileAbsent(target);

/** Every migration of this version, as a database without our tables would get them. */
const everyMigration = () => migrations(ownTables()).map((m) => ({ name: m.name, creates: m.creates }));

export interface SchemaStatus {
  /** the database, without credentials */
  database: string;
  dialect: DatabaseTarget['dialect'];
  /** SQLite: the file does not exist yet (nothing was created) */
  absent: boolean;
  /** MySQL/MariaDB: the server of the host list used, and why earlier ones were passed over */
  server: { current: string; skipped: string[] } | null;
  applied: { name: string; appliedAt: string | null }[];
  pending: string[];
  /** applied by a newer portal-mfa */
  unknown: string[];
  current: boolean;
}

/** `db status`: applied and pending migrations. */
export async function schemaStatus(target: DatabaseTarget, open: OpenDatabase): Promise<SchemaStatus> {
  const base = { database: describeTarget(target), dialect: target.dialect };
  if (absentFile(target)) {
    return { ...base, absent: true, server: null, applied: [], pending: everyMigration().map((m) => m.name), unknown: [], current: false };
  }
  const db = await open();
  const state = await migrationState(db.store);
  const f = db.failover;
  return {
    ...base,
    absent: false,
    server: f ? { current: f.current, skipped: f.skipped } : null,
    applied: state.applied,
    pending: state.pending,
    unknown: state.unknown,
    current: state.current,
  };
}

export interface MigrationPlanView {
  database: string;
  /** portal-mfa's tables from before the table prefix are carried over first */
  legacyUpgrade: boolean;
  migrations: { name: string; creates: string[] }[];
}

/** `db migrate --dry-run`: what would be created; refuses, as the migration would, when a table name is taken. Changes nothing. */
export async function planSchema(target: DatabaseTarget, open: OpenDatabase): Promise<MigrationPlanView> {
  // no file yet: everything would be created (and nothing is, not even the file)
  if (absentFile(target)) return { database: describeTarget(target), legacyUpgrade: false, migrations: everyMigration() };
  const db = await open();
  const plan = await planMigration(db.store);
  return { database: describeTarget(db.target), legacyUpgrade: plan.legacyUpgrade, migrations: plan.steps };
}

/** `db migrate`: create or bring up to date portal-mfa's tables (never one it does not own); audited when anything was applied. */
export async function migrateSchema(db: Database, audit: AuditDeps): Promise<{ database: string; migrated: string[]; current: boolean }> {
  const migrated = await migrateLatest(db.store);
  if (migrated.length > 0) await recordAudit(db.store, audit, { action: 'db.migrate', outcome: 'success', detail: { migrations: migrated } });
  const state = await migrationState(db.store);
  return { database: describeTarget(db.target), migrated, current: state.current };
}

/**
 * What every command but `db …` runs on: a current schema (the embedded default migrates itself;
 * anything else is refused naming `db migrate`), with the identity mapping a migration may just have stored.
 */
export async function requireCurrentSchema(db: Database, opts: { autoMigrate: boolean }): Promise<void> {
  await ensureSchemaCurrent(db.store, opts);
  if (!db.store.mapping) db.store = makeDb(db.knex, db.store.prefix, await loadMapping(db.knex, db.store.prefix));
}

export interface RollbackRequest {
  /** every migration, not only the last batch */
  all: boolean;
  dryRun: boolean;
  /** drop tables that hold rows */
  force: boolean;
  /** asked before anything is undone, with what will go; throws (or false) to cancel */
  confirm?: (plan: { migrations: string[]; tables: { name: string; rows: number }[] }) => Promise<boolean>;
}

export type RollbackResult =
  | { kind: 'dry-run'; database: string; wouldRollBack: string[]; tables: { name: string; rows: number }[]; needsForce: boolean }
  | { kind: 'rolled-back'; database: string; rolledBack: string[] }
  | { kind: 'cancelled' };

/** Tables with their row counts, in words. */
export function describeTables(ts: { name: string; rows: number }[]): string {
  return ts.map((t) => `${t.name} (${t.rows} row(s))`).join(', ');
}

/**
 * `db rollback`: undo the last batch of migrations (or all), never dropping rows without `force`
 * (the refusal is audited while the audit table stands), never a schema from a newer version.
 */
export async function rollbackSchema(db: Database, audit: AuditDeps, req: RollbackRequest): Promise<RollbackResult> {
  const store = db.store;
  const database = describeTarget(db.target);
  // a schema from a newer portal-mfa is refused (by rollbackLast) before anything is planned
  if ((await migrationState(store)).unknown.length > 0) await rollbackLast(store, req.all);
  const plan = await planRollback(store, req.all);
  const withRows = plan.tables.filter((t) => t.rows > 0);
  if (req.dryRun) return { kind: 'dry-run', database, wouldRollBack: plan.migrations, tables: plan.tables, needsForce: withRows.length > 0 };
  const auditable = () => store.knex.schema.hasTable(store.t.audit_events);
  if (withRows.length > 0 && !req.force) {
    if (await auditable()) {
      await recordAudit(store, audit, {
        action: 'db.rollback',
        outcome: 'refused',
        reason: 'tables hold rows',
        detail: { migrations: plan.migrations, tables: withRows },
      });
    }
    throw wrongState(`refusing to roll back: it would drop data in ${describeTables(withRows)}; nothing was changed`, {
      hint: 'see what would go with --dry-run; back up the database, then add --force',
    });
  }
  if (plan.migrations.length > 0 && req.confirm && !(await req.confirm(plan))) return { kind: 'cancelled' };
  const undone = await rollbackLast(store, req.all);
  if (undone.length > 0 && (await auditable())) {
    await recordAudit(store, audit, { action: 'db.rollback', outcome: 'success', detail: { migrations: undone, forced: req.force } });
  }
  return { kind: 'rolled-back', database, rolledBack: undone };
}
