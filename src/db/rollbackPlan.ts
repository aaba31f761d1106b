import { knownMigrations } from './schema.js';
import type { Db } from './store.js';
import { listTables } from './tableList.js';

/**
 * What `db rollback` would destroy, found before anything is undone (SPEC §3: rollback refuses to
 * drop tables that hold rows unless --force). Each migration names the tables its `down` drops or
 * alters — only portal-mfa's own, prefixed tables; a migration that names none is assumed to touch
 * every one of ours, so a new migration is guarded until it is described.
 */
export interface RollbackPlan {
  /** migrations that would be undone, newest first */
  migrations: string[];
  /** tables they drop or alter that exist, with their row counts */
  tables: { name: string; rows: number }[];
}

export async function planRollback(db: Db, all: boolean): Promise<RollbackPlan> {
  const knex = db.root;
  const bookkeeping = db.t.knex_migrations;
  if (!(await knex.schema.hasTable(bookkeeping))) return { migrations: [], tables: [] };
  let q = knex(bookkeeping).select('name').orderBy('id', 'desc');
  if (!all) q = q.where('batch', knex(bookkeeping).max('batch'));
  const migrations = ((await q) as { name: string }[]).map((r) => r.name);
  const ours = new Set(Object.values(db.t));
  const existing = (await listTables(knex)).filter((t) => ours.has(t));
  const known = knownMigrations(db);
  const touched = new Set<string>();
  for (const m of migrations) {
    const tables = known.find((k) => k.name === m)?.touches;
    for (const t of tables && tables.length > 0 ? tables : existing) touched.add(t);
  }
  const tables: RollbackPlan['tables'] = [];
  for (const name of existing.filter((t) => touched.has(t) && t !== db.t.knex_migrations && t !== db.t.knex_migrations_lock)) {
    const row = await knex(name).count({ n: '*' }).first();
    tables.push({ name, rows: Number(row?.n ?? 0) });
  }
  return { migrations, tables };
}
