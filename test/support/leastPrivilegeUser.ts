/**
 * A MariaDB account with exactly the privileges portal-mfa needs (issue 19, SPEC §5): SELECT on the
 * portal's mapped tables and nothing else of the portal's; everything on its own tables.
 *
 * Two layouts:
 * - **separate** (recommended): portal-mfa's tables in a database of their own (`mfaDb`):
 *     GRANT SELECT ON `portal`.`users` TO …            (one per mapped table)
 *     GRANT ALL PRIVILEGES ON `portal_mfa`.* TO …
 * - **shared**: portal-mfa's tables beside the portal's, in `portalDb`: table-level grants on each
 *   of portal-mfa's (prefixed) table names:
 *     GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX ON `portal`.`mfa_credentials` TO …
 *   MariaDB accepts a table-level grant on a table that does not exist yet only when CREATE is
 *   among the privileges (otherwise ERROR 1146), and keeps it when the table is dropped and
 *   created again — so the statements can be run before `db migrate`. A later version that adds a
 *   table needs its grant added (the operator re-runs the list for the new version).
 *
 * `leastPrivilegeSql()` returns the statements as text, so the README prints exactly what the tests
 * run; `leastPrivilegeUser()` runs them with an admin connection and returns the account's URL.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { dialectOf } from './shapes/sql.js';

export interface LeastPrivilegeOptions {
  /** the database holding the portal's tables */
  portalDb: string;
  /** portal-mfa's own database; omitted or equal to portalDb: portal-mfa's tables share the portal's database */
  mfaDb?: string;
  /** the mapped tables (`mappedTables(mapping)`), unqualified or qualified (`portal.users`) */
  portalTables: string[];
  /**
   * shared layout only: every table name portal-mfa owns, bookkeeping included
   * (`Object.values(ownTables(prefix))` from src/db/store.ts)
   */
  mfaTables?: string[];
  /** the prefix every name in `mfaTables` must carry (default `mfa_`) */
  tablePrefix?: string;
  /** account name (default `portal_mfa`; leastPrivilegeUser makes a unique one when omitted) */
  user?: string;
  /** account host (default `%`) */
  host?: string;
  /** default `change-me` in the printed SQL; leastPrivilegeUser makes a random one when omitted */
  password?: string;
}

/** the privileges on each of portal-mfa's tables when they share the portal's database */
const OWN_TABLE_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX';

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/;

function ident(what: string, v: string): string {
  if (!IDENT.test(v)) throw new Error(`leastPrivilege: ${what} is not a plain identifier: ${JSON.stringify(v)}`);
  return `\`${v}\``;
}

const sqlString = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function isSharedLayout(opts: Pick<LeastPrivilegeOptions, 'portalDb' | 'mfaDb'>): boolean {
  return opts.mfaDb === undefined || opts.mfaDb === opts.portalDb;
}

/** CREATE USER and the GRANTs, in order, as SQL text (one statement per string, no trailing `;`). */
export function leastPrivilegeSql(opts: LeastPrivilegeOptions): string[] {
  const account = `${sqlString(opts.user ?? 'portal_mfa')}@${sqlString(opts.host ?? '%')}`;
  const statements = [`CREATE USER ${account} IDENTIFIED BY ${sqlString(opts.password ?? 'change-me')}`];
  const portalTables = [...new Set(opts.portalTables)];
  if (portalTables.length === 0) throw new Error('leastPrivilege: no portal tables to grant SELECT on');
  for (const name of portalTables) {
    const [db, table] = name.includes('.') ? (name.split('.', 2) as [string, string]) : [opts.portalDb, name];
    statements.push(`GRANT SELECT ON ${ident('database', db)}.${ident('table', table)} TO ${account}`);
  }
  if (!isSharedLayout(opts)) {
    statements.push(`GRANT ALL PRIVILEGES ON ${ident('database', opts.mfaDb!)}.* TO ${account}`);
    return statements;
  }
  const prefix = opts.tablePrefix ?? 'mfa_';
  const own = opts.mfaTables ?? [];
  if (own.length === 0) throw new Error('leastPrivilege: portal-mfa shares the portal database: name its tables (mfaTables)');
  for (const table of own) {
    if (!table.startsWith(prefix)) throw new Error(`leastPrivilege: ${table} does not carry portal-mfa's prefix ${prefix}`);
    if (portalTables.some((p) => p === table || p.endsWith(`.${table}`))) throw new Error(`leastPrivilege: ${table} is both a portal table and portal-mfa's`);
    statements.push(`GRANT ${OWN_TABLE_PRIVILEGES} ON ${ident('database', opts.portalDb)}.${ident('table', table)} TO ${account}`);
  }
  return statements;
}

export interface LeastPrivilegeUser {
  user: string;
  host: string;
  password: string;
  /** mysql://user:password@host:port/<mfaDb, or portalDb in the shared layout> */
  url: string;
  /** exactly what was run (the password included) */
  statements: string[];
  /** DROP USER (idempotent) */
  drop(): Promise<void>;
}

/** host and port of the admin connection, for the new account's URL */
function serverOf(knex: Knex): { host: string; port: number } {
  const c = knex.client.config.connection as string | { host?: string; port?: number; uri?: string } | undefined;
  const uri = typeof c === 'string' ? c : c?.uri;
  if (uri) {
    const u = new URL(uri);
    return { host: u.hostname, port: u.port ? Number(u.port) : 3306 };
  }
  if (c && typeof c === 'object' && c.host) return { host: c.host, port: c.port ?? 3306 };
  throw new Error('leastPrivilegeUser: cannot tell the server address from the admin connection');
}

/**
 * Create the account (with an admin connection that may grant), returning its URL. In the
 * separate layout `mfaDb` is created when missing (utf8mb4, as portal-mfa's migrations expect).
 */
export async function leastPrivilegeUser(adminKnex: Knex, opts: LeastPrivilegeOptions): Promise<LeastPrivilegeUser> {
  if (dialectOf(adminKnex) !== 'mysql') throw new Error('leastPrivilegeUser: MariaDB/MySQL only');
  const user = opts.user ?? `pmfa_lp_${randomBytes(5).toString('hex')}`;
  const host = opts.host ?? '%';
  const password = opts.password ?? randomBytes(12).toString('base64url');
  const statements = leastPrivilegeSql({ ...opts, user, host, password });
  if (!isSharedLayout(opts))
    await adminKnex.raw(`CREATE DATABASE IF NOT EXISTS ${ident('database', opts.mfaDb!)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  for (const sql of statements) await adminKnex.raw(sql);
  const { host: serverHost, port } = serverOf(adminKnex);
  const url = `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${serverHost}:${port}/${isSharedLayout(opts) ? opts.portalDb : opts.mfaDb}`;
  const account = `${sqlString(user)}@${sqlString(host)}`;
  return {
    user,
    host,
    password,
    url,
    statements,
    drop: async () => {
      await adminKnex.raw(`DROP USER IF EXISTS ${account}`);
    },
  };
}
