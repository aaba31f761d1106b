/**
 * Dialect plumbing for the portal shape builders: which database a knex talks to, how a table of
 * the portal's schema is named in DDL and in queries, and the database the portal lives in.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

export type Dialect = 'sqlite' | 'mysql';

export function dialectOf(knex: Knex): Dialect {
  const client = String(knex.client.config.client);
  if (client === 'better-sqlite3' || client === 'sqlite3') return 'sqlite';
  if (client === 'mysql2' || client === 'mysql') return 'mysql';
  throw new Error(`portal shapes: unsupported knex client ${client}`);
}

/** `schema.table` for knex's query builder, or the bare name. */
export function qualify(schema: string | undefined, table: string): string {
  return schema ? `${schema}.${table}` : table;
}

/**
 * How DDL names a table of the portal. SQLite names the schema on the created object only
 * (`CREATE INDEX "s"."i" ON "t"`, `REFERENCES "t"`); MariaDB names it wherever a table is named.
 */
export interface DdlNames {
  /** the table being created or altered */
  table(name: string): string;
  /** an index in `CREATE INDEX <index> ON <on>` */
  index(name: string): string;
  on(name: string): string;
  /** the parent table of a foreign key */
  ref(name: string): string;
}

export function ddlNames(dialect: Dialect, schema?: string): DdlNames {
  if (dialect === 'sqlite') {
    const s = schema ? `"${schema}".` : '';
    return { table: (n) => `${s}"${n}"`, index: (n) => `${s}"${n}"`, on: (n) => `"${n}"`, ref: (n) => `"${n}"` };
  }
  const t = (n: string) => (schema ? `\`${schema}\`.\`${n}\`` : `\`${n}\``);
  return { table: t, index: (n) => `\`${n}\``, on: t, ref: t };
}

/** Each statement in order, as a migration runs them. */
export async function runStatements(knex: Knex, statements: string[]): Promise<void> {
  for (const sql of statements) await knex.raw(sql);
}

/**
 * Make room for the portal's tables. MariaDB: the database is created with the framework's
 * default character set (`CREATE DATABASE IF NOT EXISTS`), so the portal can live beside, not in,
 * portal-mfa's database. SQLite: a schema is a database the connection has ATTACHed (knex keeps
 * one better-sqlite3 connection), checked here.
 */
export async function preparePortalSchema(knex: Knex, schema: string | undefined, mysqlCharset: string): Promise<void> {
  if (!schema) return;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(schema)) throw new Error(`portal shapes: not a schema name: ${schema}`);
  if (dialectOf(knex) === 'mysql') {
    await knex.raw(`CREATE DATABASE IF NOT EXISTS \`${schema}\` ${mysqlCharset}`);
    return;
  }
  const attached = (await knex.raw('PRAGMA database_list')) as { name: string }[];
  if (!attached.some((d) => d.name === schema)) {
    throw new Error(`portal shapes: SQLite schema "${schema}" is not attached (ATTACH DATABASE '<file>' AS ${schema} first)`);
  }
}

/** Drop a portal database made by a builder's `schema` option (MariaDB; SQLite: DETACH). Idempotent. */
export async function dropPortalSchema(knex: Knex, schema: string): Promise<void> {
  if (dialectOf(knex) === 'mysql') {
    await knex.raw(`DROP DATABASE IF EXISTS \`${schema}\``);
    return;
  }
  const attached = (await knex.raw('PRAGMA database_list')) as { name: string }[];
  if (attached.some((d) => d.name === schema)) await knex.raw(`DETACH DATABASE "${schema}"`);
}

/**
 * Django's generated index and constraint names (`BaseDatabaseSchemaEditor._create_index_name`):
 * `<table>_<columns>_<md5 digest><suffix>`, shortened to the backend's identifier limit (64 on
 * MySQL/MariaDB, 200 where the backend has none, as on SQLite).
 * e.g. django_session's index is `django_session_expire_date_a5c62663`.
 */
export function djangoIndexName(table: string, columns: string[], suffix: string, maxLength: number): string {
  const digest = createHash('md5');
  for (const part of [table, ...columns]) digest.update(part);
  let hashSuffix = `${digest.digest('hex').slice(0, 8)}${suffix}`;
  const full = `${table}_${columns.join('_')}_${hashSuffix}`;
  if (full.length <= maxLength) return full;
  if (hashSuffix.length > maxLength / 3) hashSuffix = hashSuffix.slice(0, Math.floor(maxLength / 3));
  const other = Math.floor((maxLength - hashSuffix.length) / 2) - 1;
  const name = `${table.slice(0, other)}_${columns.join('_').slice(0, other)}_${hashSuffix}`;
  return /^[_0-9]/.test(name) ? `D${name.slice(0, -1)}` : name;
}

/** Django's foreign key constraint name (`_fk_<to_table>_<to_column>` suffix, then shortened). */
export function djangoFkName(table: string, column: string, toTable: string, toColumn: string, maxLength: number): string {
  return djangoIndexName(table, [column], `_fk_${toTable}_${toColumn}`, maxLength);
}

/** A stable UUID (version 4 layout) derived from a name, so fixtures are the same on every run. */
export function stableUuid(name: string): string {
  const h = createHash('sha256').update(`uuid:${name}`).digest('hex');
  const variant = ((Number.parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
