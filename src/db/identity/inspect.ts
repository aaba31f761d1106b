/**
 * What the live database says about a table: its columns (with a coarse type), its indexes, and
 * — on MySQL/MariaDB — what the connected user may do to it. Used by `db init --detect` (which shape
 * is this portal?) and `db check` (does the mapping still hold?). Read-only: catalog queries only.
 */
import type { Knex } from 'knex';

export interface ColumnInfo {
  name: string;
  /** integer, text, other (dates, blobs, …) */
  kind: 'integer' | 'text' | 'other';
  type: string;
}

export interface TableInfo {
  /** the name as mapped (`users` or `portal.users`) */
  table: string;
  exists: boolean;
  columns: ColumnInfo[];
  /** each index as its column list, in order */
  indexes: string[][];
}

function split(table: string): { schema: string | null; name: string } {
  const parts = table.split('.');
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { schema: null, name: table };
}

function kindOf(type: string): ColumnInfo['kind'] {
  const t = type.toLowerCase();
  if (/int/.test(t)) return 'integer';
  if (/char|text|clob|uuid/.test(t)) return 'text';
  return 'other';
}

const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;

export async function inspectTable(knex: Knex, table: string): Promise<TableInfo> {
  const { schema, name } = split(table);
  if (knex.client.config.client === 'better-sqlite3') {
    const prefix = schema ? `${quote(schema)}.` : '';
    const cols = (await knex.raw(`PRAGMA ${prefix}table_info(${quote(name)})`)) as { name: string; type: string }[];
    if (cols.length === 0) return { table, exists: false, columns: [], indexes: [] };
    const indexes: string[][] = [];
    const list = (await knex.raw(`PRAGMA ${prefix}index_list(${quote(name)})`)) as { name: string }[];
    for (const ix of list) {
      const info = (await knex.raw(`PRAGMA ${prefix}index_info(${quote(ix.name)})`)) as { seqno: number; name: string }[];
      indexes.push(info.sort((a, b) => a.seqno - b.seqno).map((c) => c.name));
    }
    // an INTEGER PRIMARY KEY is the rowid: indexed without an index of its own
    const pk = (await knex.raw(`PRAGMA ${prefix}table_info(${quote(name)})`)) as { name: string; pk: number }[];
    const pkCols = pk.filter((c) => c.pk > 0).map((c) => c.name);
    if (pkCols.length > 0) indexes.push(pkCols);
    return { table, exists: true, columns: cols.map((c) => ({ name: c.name, type: c.type, kind: kindOf(c.type) })), indexes };
  }
  const [cols] = (await knex.raw(
    'SELECT column_name AS name, column_type AS type FROM information_schema.columns WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? ORDER BY ordinal_position',
    [schema, name],
  )) as [{ name: string; type: string }[]];
  if (cols.length === 0) return { table, exists: false, columns: [], indexes: [] };
  const [stats] = (await knex.raw(
    'SELECT index_name AS ix, column_name AS col, seq_in_index AS seq FROM information_schema.statistics WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? ORDER BY index_name, seq_in_index',
    [schema, name],
  )) as [{ ix: string; col: string; seq: number }[]];
  const byIndex = new Map<string, string[]>();
  for (const s of stats) byIndex.set(s.ix, [...(byIndex.get(s.ix) ?? []), s.col]);
  return { table, exists: true, columns: cols.map((c) => ({ name: c.name, type: c.type, kind: kindOf(c.type) })), indexes: [...byIndex.values()] };
}

/** Is there an index whose leading column is `column` (so a lookup by it does not scan)? */
export function hasLeadingIndex(info: TableInfo, column: string): boolean {
  return info.indexes.some((ix) => ix[0]?.toLowerCase() === column.toLowerCase());
}

export function hasColumn(info: TableInfo, column: string): boolean {
  return info.columns.some((c) => c.name.toLowerCase() === column.toLowerCase());
}

/**
 * MySQL/MariaDB: the privileges the connected user holds on a table, from every level that grants
 * them (global, database, table). SQLite has no privileges: null.
 */
export async function tablePrivileges(knex: Knex, table: string): Promise<Set<string> | null> {
  if (knex.client.config.client === 'better-sqlite3') return null;
  const { schema, name } = split(table);
  const [[who]] = (await knex.raw('SELECT CURRENT_USER() AS u')) as [[{ u: string }]];
  const at = who!.u.lastIndexOf('@');
  const grantee = `'${who!.u.slice(0, at)}'@'${who!.u.slice(at + 1)}'`;
  const out = new Set<string>();
  const [global] = (await knex.raw('SELECT privilege_type AS p FROM information_schema.user_privileges WHERE grantee = ?', [grantee])) as [{ p: string }[]];
  const [db] = (await knex.raw('SELECT privilege_type AS p FROM information_schema.schema_privileges WHERE grantee = ? AND ? LIKE table_schema', [
    grantee,
    schema ?? (await currentDatabase(knex)),
  ])) as [{ p: string }[]];
  const [tbl] = (await knex.raw(
    'SELECT privilege_type AS p FROM information_schema.table_privileges WHERE grantee = ? AND table_schema = COALESCE(?, DATABASE()) AND table_name = ?',
    [grantee, schema, name],
  )) as [{ p: string }[]];
  for (const r of [...global, ...db, ...tbl]) out.add(r.p.toUpperCase());
  return out;
}

async function currentDatabase(knex: Knex): Promise<string> {
  const [[r]] = (await knex.raw('SELECT DATABASE() AS d')) as [[{ d: string }]];
  return r!.d;
}
