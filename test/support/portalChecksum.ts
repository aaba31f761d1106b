/**
 * Checksums of the portal's tables, so a test can assert that portal-mfa left them byte-identical:
 *
 *   const before = await portalChecksum(knex, shape.tables, { schema: shape.schema });
 *   … run portal-mfa …
 *   expect(await portalChecksum(knex, shape.tables, { schema: shape.schema })).toEqual(before);
 *
 * Per table, a digest of
 * - its schema: SQLite — every `sqlite_master` row of the table (table, indexes, triggers) and
 *   `PRAGMA index_list` / `index_info` (which also covers the automatic indexes of UNIQUE and
 *   PRIMARY KEY constraints, which have no SQL text); MariaDB — `SHOW CREATE TABLE` with the
 *   AUTO_INCREMENT counter stripped, and the table's triggers;
 * - its data: every row, ordered by the primary key (all columns where there is none), each value
 *   tagged with its JavaScript type; on SQLite also the table's `sqlite_sequence` counter (an
 *   insert that was deleted again still shows).
 * A table name may be qualified (`portal.users`); `schema` qualifies the others.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { dialectOf } from './shapes/sql.js';

export interface TableChecksum {
  schema: string;
  data: string;
  rows: number;
}

export interface PortalChecksum {
  /** one digest over every table's schema and data */
  digest: string;
  /** per table (as named in the call), so a failed comparison says which table changed and how */
  tables: Record<string, TableChecksum>;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A value as a deterministic string: type-tagged, so 1, '1', 1n and a 1-byte blob differ. */
function serialise(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return { bigint: v.toString() };
  if (typeof v === 'number') return Number.isFinite(v) ? { n: v } : { n: String(v) };
  if (typeof v === 'string') return { s: v };
  if (typeof v === 'boolean') return { b: v };
  if (v instanceof Date) return { date: Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString() };
  if (Buffer.isBuffer(v)) return { hex: v.toString('hex') };
  if (typeof v === 'object') return { json: JSON.stringify(v) };
  return { other: String(v) };
}

/** Rows of a table without a primary key, in a fixed order of their own (by their serialised form). */
function sortUnkeyed(rows: unknown[][], unkeyed: boolean): unknown[][] {
  if (!unkeyed) return rows;
  return rows
    .map((r) => [JSON.stringify(r), r] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => r);
}

function split(name: string, schema: string | undefined): { schema?: string; table: string } {
  const dot = name.indexOf('.');
  return dot >= 0 ? { schema: name.slice(0, dot), table: name.slice(dot + 1) } : { schema, table: name };
}

const sqliteQuote = (id: string) => `"${id.replace(/"/g, '""')}"`;
const mysqlQuote = (id: string) => `\`${id.replace(/`/g, '``')}\``;

async function sqliteTable(knex: Knex, schema: string | undefined, table: string): Promise<{ schemaText: string; rows: unknown[][]; extra: unknown }> {
  const s = schema ? `${sqliteQuote(schema)}.` : '';
  const objects = (await knex.raw(`SELECT type, name, sql FROM ${s}sqlite_master WHERE tbl_name = ? ORDER BY type, name`, [table])) as {
    type: string;
    name: string;
    sql: string | null;
  }[];
  if (!objects.some((o) => o.type === 'table')) throw new Error(`portalChecksum: no table ${schema ? `${schema}.` : ''}${table}`);
  const indexes = (await knex.raw(`PRAGMA ${s}index_list(${sqliteQuote(table)})`)) as { name: string }[];
  const indexInfo = [];
  for (const ix of [...indexes].sort((a, b) => a.name.localeCompare(b.name))) {
    indexInfo.push({ ix, cols: await knex.raw(`PRAGMA ${s}index_info(${sqliteQuote(ix.name)})`) });
  }
  const columns = (await knex.raw(`PRAGMA ${s}table_info(${sqliteQuote(table)})`)) as { name: string; pk: number }[];
  const pk = columns
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => sqliteQuote(c.name));
  // a table without a declared key (never WITHOUT ROWID) is ordered by its rowid
  const order = pk.length > 0 ? pk : ['rowid'];
  const rows = (await knex.raw(`SELECT * FROM ${s}${sqliteQuote(table)} ORDER BY ${order.join(', ')}`)) as Record<string, unknown>[];
  const hasSequence = ((await knex.raw(`SELECT name FROM ${s}sqlite_master WHERE name = 'sqlite_sequence'`)) as unknown[]).length > 0;
  const sequence = hasSequence ? ((await knex.raw(`SELECT seq FROM ${s}sqlite_sequence WHERE name = ?`, [table])) as { seq: number }[])[0]?.seq : undefined;
  return {
    schemaText: JSON.stringify({ objects, indexInfo, columns }),
    rows: rows.map((r) => Object.entries(r).map(([k, v]) => [k, serialise(v)])),
    extra: { sequence: sequence ?? null },
  };
}

async function mysqlTable(knex: Knex, schema: string | undefined, table: string): Promise<{ schemaText: string; rows: unknown[][]; extra: unknown }> {
  const q = schema ? `${mysqlQuote(schema)}.${mysqlQuote(table)}` : mysqlQuote(table);
  const [created] = (await knex.raw(`SHOW CREATE TABLE ${q}`)) as [Record<string, string>[]];
  const ddl = created[0]?.['Create Table'];
  if (ddl === undefined) throw new Error(`portalChecksum: ${q} is not a table`);
  const where = [schema ?? null, table];
  const [triggers] = (await knex.raw(
    'SELECT TRIGGER_NAME, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER, ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = COALESCE(?, DATABASE()) AND EVENT_OBJECT_TABLE = ? ORDER BY TRIGGER_NAME',
    where,
  )) as [unknown[]];
  const [keyCols] = (await knex.raw(
    "SELECT COLUMN_NAME AS c FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
    where,
  )) as [{ c: string }[]];
  const order = keyCols.map((k) => mysqlQuote(k.c));
  // dates as the server prints them (a Date would drop microseconds and depend on the time zone),
  // big integers as exact strings
  const [rows] = (await knex
    .raw(`SELECT * FROM ${q}${order.length > 0 ? ` ORDER BY ${order.join(', ')}` : ''}`)
    .options({ dateStrings: true, supportBigNumbers: true, bigNumberStrings: true })) as [Record<string, unknown>[]];
  return {
    schemaText: JSON.stringify({ ddl: ddl.replace(/ AUTO_INCREMENT=\d+/, ''), triggers }),
    rows: sortUnkeyed(
      rows.map((r) => Object.entries(r).map(([k, v]) => [k, serialise(v)])),
      order.length === 0,
    ),
    extra: null,
  };
}

export async function portalChecksum(knex: Knex, tables: string[], opts: { schema?: string } = {}): Promise<PortalChecksum> {
  const dialect = dialectOf(knex);
  const result: Record<string, TableChecksum> = {};
  for (const name of [...tables].sort()) {
    const { schema, table } = split(name, opts.schema);
    const t = dialect === 'sqlite' ? await sqliteTable(knex, schema, table) : await mysqlTable(knex, schema, table);
    result[name] = { schema: sha256(t.schemaText), data: sha256(JSON.stringify({ rows: t.rows, extra: t.extra })), rows: t.rows.length };
  }
  return { digest: sha256(JSON.stringify(result)), tables: result };
}

/** The tables (not views) of a database/schema, sorted (by code unit) — to show that nothing was added beside the portal's. */
export async function schemaTables(knex: Knex, opts: { schema?: string } = {}): Promise<string[]> {
  if (dialectOf(knex) === 'sqlite') {
    const s = opts.schema ? `${sqliteQuote(opts.schema)}.` : '';
    const rows = (await knex.raw(`SELECT name FROM ${s}sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)) as { name: string }[];
    return rows.map((r) => r.name).sort();
  }
  const [rows] = (await knex.raw(
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [opts.schema ?? null],
  )) as [{ name: string }[]];
  return rows.map((r) => r.name).sort();
}
