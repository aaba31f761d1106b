/**
 * The storage handle every repository takes (SPEC §5): a knex connection (or the transaction in
 * progress), the names of portal-mfa's own tables — each carrying the configured prefix — and the
 * identity mapping through which the portal's users, organisations and memberships are read.
 * Repositories name tables only through `db.t`; the portal's tables only through `db.identity`.
 */
import type { Knex } from 'knex';
import { configError } from '../core/errors.js';
import type { IdentityMapping } from './identity/mapping.js';

export const DEFAULT_TABLE_PREFIX = 'mfa_';

/** portal-mfa's own tables, by their role. */
const OWN_TABLES = [
  'credentials',
  'trusted_devices',
  'recovery_codes',
  'access_codes',
  'sessions',
  'rate_limits',
  'audit_events',
  'notifications',
  'maintenance_locks',
  'settings',
  'org_policies',
  'email_index',
  'challenges',
  'service_keys',
  'knex_migrations',
  'knex_migrations_lock',
] as const;

export type OwnTable = (typeof OWN_TABLES)[number];
export type OwnTables = Readonly<Record<OwnTable, string>>;

/** A prefix is lower-case letters, digits and underscores, so every name it makes is a plain identifier. */
export function checkTablePrefix(prefix: string): string {
  if (!/^[a-z][a-z0-9_]{0,15}$/.test(prefix)) {
    throw configError(`not a valid table prefix: ${JSON.stringify(prefix.slice(0, 40))}`, {
      code: 'invalid_config',
      hint: 'use 1–16 lower-case letters, digits or underscores, starting with a letter (default mfa_)',
    });
  }
  return prefix;
}

export function ownTables(prefix: string = DEFAULT_TABLE_PREFIX): OwnTables {
  checkTablePrefix(prefix);
  return Object.freeze(Object.fromEntries(OWN_TABLES.map((t) => [t, `${prefix}${t}`])) as Record<OwnTable, string>);
}

export interface Db {
  /** the connection, or the transaction this handle was made for */
  knex: Knex | Knex.Transaction;
  /** the connection itself (transactions, streaming) */
  root: Knex;
  dialect: 'sqlite' | 'mysql';
  prefix: string;
  t: OwnTables;
  /** the stored identity mapping; null until `db init` stored one */
  mapping: IdentityMapping | null;
}

export function makeDb(knex: Knex, prefix: string, mapping: IdentityMapping | null): Db {
  const dialect = knex.client.config.client === 'better-sqlite3' ? 'sqlite' : 'mysql';
  return { knex, root: knex, dialect, prefix, t: ownTables(prefix), mapping };
}

/** The same handle, bound to a transaction. */
export function within(db: Db, trx: Knex.Transaction): Db {
  return { ...db, knex: trx };
}

/** The mapping, or the refusal an operator can act on (before `db init`). */
export function requireMapping(db: Db): IdentityMapping {
  if (!db.mapping) {
    throw configError('portal-mfa does not know where the portal keeps its users yet (no identity mapping)', {
      code: 'mapping_missing',
      hint: 'store one with: portal-mfa db init --detect (or portal-mfa demo for the sample portal)',
    });
  }
  return db.mapping;
}

/** The stored identity mapping of a database whose settings table may not exist yet (before `db migrate`). */
export async function loadMapping(knex: Knex, prefix: string): Promise<IdentityMapping | null> {
  const t = ownTables(prefix);
  // only a settings table portal-mfa made (its bookkeeping says so): a stranger's `mfa_settings` is
  // left alone, and db migrate refuses the name as taken
  if (!(await knex.schema.hasTable(t.knex_migrations)) || !(await knex.schema.hasTable(t.settings))) return null;
  const row = await knex(t.settings).where('name', 'identity').first('value');
  if (!row) return null;
  const { parseMapping } = await import('./identity/mapping.js');
  let raw: unknown;
  try {
    raw = JSON.parse(String(row.value));
  } catch {
    throw configError(`the stored identity mapping in ${t.settings} is not valid JSON`, {
      code: 'mapping_invalid',
      hint: 'store it again with: portal-mfa db init',
    });
  }
  return parseMapping(raw);
}
