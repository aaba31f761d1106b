import type { Knex } from 'knex';
import { TABLES as INITIAL_TABLES } from '../../migrations/20261123000001_initial_schema.js';
import { isSqlite } from './transaction.js';

/**
 * What `db rollback` would destroy, found before anything is undone (SPEC §3: rollback refuses to
 * drop tables that hold rows unless --force). Each migration names the tables its `down` drops or
 * alters; a migration not listed here is assumed to touch every table, so a new migration is
 * guarded until it is described.
 */
const TABLES_OF: Record<string, string[] | 'data'> = {
  '20261123000001_initial_schema': INITIAL_TABLES,
  '20261123000002_maintenance_locks': ['maintenance_locks'],
  // a data migration: its down changes nothing but the MySQL collation
  '20261201000001_email_nfc': 'data',
  '20261201000002_lockout_and_access_codes': ['mfa_credentials', 'cli_sessions', 'rate_limits', 'access_codes'],
  '20261201000004_joined_at': ['organisation_members'],
};

export interface RollbackPlan {
  /** migrations that would be undone, newest first */
  migrations: string[];
  /** tables they drop or alter that exist, with their row counts */
  tables: { name: string; rows: number }[];
}

export async function planRollback(knex: Knex, all: boolean): Promise<RollbackPlan> {
  if (!(await knex.schema.hasTable('knex_migrations'))) return { migrations: [], tables: [] };
  let q = knex('knex_migrations').select('name').orderBy('id', 'desc');
  if (!all) q = q.where('batch', knex('knex_migrations').max('batch'));
  const migrations = ((await q) as { name: string }[]).map((r) => r.name);
  const existing = await tableNames(knex);
  const touched = new Set<string>();
  for (const m of migrations) {
    const tables = TABLES_OF[m];
    if (tables === 'data') continue;
    for (const t of tables ?? existing) touched.add(t);
  }
  const tables: RollbackPlan['tables'] = [];
  for (const name of existing.filter((t) => touched.has(t) && !t.startsWith('knex_migrations'))) {
    const row = await knex(name).count({ n: '*' }).first();
    tables.push({ name, rows: Number(row?.n ?? 0) });
  }
  return { migrations, tables };
}

async function tableNames(knex: Knex): Promise<string[]> {
  if (isSqlite(knex)) {
    const rows = (await knex.raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)) as { name: string }[];
    return rows.map((r) => r.name);
  }
  const [rows] = (await knex.raw('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name')) as [
    { name: string }[],
  ];
  return rows.map((r) => r.name);
}
