import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { ensureDirectory } from '../core/primitives/ensureDirectory.js';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Knex } from 'knex';
import { configError } from '../core/errors.js';
import { describeDatabaseError } from './databaseErrors.js';
import { hostFailover, type Failover } from './failover.js';
import { type Db, DEFAULT_TABLE_PREFIX, loadMapping, makeDb } from './store.js';
import { retryConflicts } from './transaction.js';
import type { DatabaseTarget } from './url.js';

/** The MySQL/MariaDB connection pool (SQLite always uses one connection: one writer at a time). */
export interface PoolOptions {
  /** connections kept open when idle (default 0) */
  min?: number;
  /** connections at most (default 4) */
  max?: number;
  /** how long a call waits for a free connection before failing (default 15 000 ms) */
  acquireTimeoutMs?: number;
}

/**
 * The database drivers are optional peer dependencies (a MySQL-only backend need not build SQLite's
 * native addon): the one a target needs is looked up before knex would fail on it with a stack of its own.
 */
function requireDriver(dialect: 'sqlite' | 'mysql'): void {
  const name = dialect === 'sqlite' ? 'better-sqlite3' : 'mysql2';
  try {
    createRequire(import.meta.url).resolve(`${name}/package.json`);
  } catch {
    throw configError(`the ${dialect === 'sqlite' ? 'SQLite' : 'MySQL/MariaDB'} driver is not installed (the package ${name})`, {
      code: 'driver_missing',
      hint: `install it beside portal-mfa: npm install ${name}`,
    });
  }
}

/**
 * portal-mfa over a knex instance the application already has (SPEC §9: the app's own database
 * handle and pool). It is used as it is: never closed by us, and nothing of it patched — conflict
 * retries wrap portal-mfa's own transactions only (withWriteTransaction), and host failover is the
 * application's. SQLite needs the better-sqlite3 client; MySQL/MariaDB the mysql2 client.
 */
export async function attachKnex(knex: Knex, opts: { tablePrefix?: string } = {}): Promise<Database> {
  const client = String((knex as { client?: { config?: { client?: unknown } } })?.client?.config?.client ?? '');
  if (typeof knex !== 'function' || (client !== 'better-sqlite3' && client !== 'mysql2')) {
    throw configError(`portal-mfa works with a knex instance of the mysql2 or better-sqlite3 client, not ${JSON.stringify(client || typeof knex)}`, {
      code: 'invalid_config',
    });
  }
  const dialect = client === 'better-sqlite3' ? 'sqlite' : 'mysql';
  const connection = (knex.client.config.connection ?? {}) as { filename?: string; host?: string; port?: number; database?: string; user?: string };
  const target: DatabaseTarget =
    dialect === 'sqlite'
      ? { dialect: 'sqlite', filename: connection.filename ?? ':memory:', embedded: false }
      : (() => {
          const host = connection.host ?? 'localhost';
          const port = Number(connection.port ?? 3306);
          // the password is never copied: the target only names the database in messages
          return {
            dialect: 'mysql',
            host,
            port,
            hosts: [{ host, port }],
            database: connection.database ?? '',
            user: connection.user ?? '',
            password: '',
            params: {},
          };
        })();
  try {
    await knex.raw('select 1 as ok');
    const store = makeDb(knex, opts.tablePrefix ?? DEFAULT_TABLE_PREFIX, null);
    store.mapping = await loadMapping(knex, store.prefix);
    // the application's pool is the application's to close
    return { knex, target, dialect, store, close: async () => undefined };
  } catch (e) {
    throw describeDatabaseError(e, target);
  }
}

export interface Database {
  knex: Knex;
  target: DatabaseTarget;
  dialect: 'sqlite' | 'mysql';
  /** MySQL: the server of the host list the connection was made to, and why earlier ones were passed over. */
  failover?: Failover;
  /** portal-mfa's tables (under the prefix) and the identity mapping: what repositories take */
  store: Db;
  close(): Promise<void>;
}

/**
 * Check (and, where allowed, create) a SQLite file before opening it. SPEC §3: a `--db sqlite:PATH`
 * whose directory does not exist is exit 10, and only `db migrate` and `demo` (`create`) make a new
 * database file — so a typo in a path never builds a portal (schema, key file, audit trail) in a
 * place nobody looks. Only the embedded default creates its own data directory.
 */
function prepareSqliteFile(target: Extract<DatabaseTarget, { dialect: 'sqlite' }>, create: boolean): void {
  if (!sqliteFileAbsent(target)) return;
  if (!create && !target.embedded) {
    throw configError(`there is no SQLite database at ${target.filename}`, {
      hint: `check the path, or create one with: portal-mfa --db sqlite:${target.filename} db migrate`,
    });
  }
  try {
    // the database holds password hashes: create it private to this OS user
    closeSync(openSync(target.filename, 'a', 0o600));
  } catch (e) {
    throw configError(`cannot create the SQLite database ${target.filename}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'check that the directory is writable',
    });
  }
}

/**
 * True when a SQLite target's file does not exist yet (its directory does; the embedded default
 * creates its own). A missing directory of a `--db sqlite:PATH` is a configuration error.
 */
export function sqliteFileAbsent(target: Extract<DatabaseTarget, { dialect: 'sqlite' }>): boolean {
  const dir = dirname(resolve(target.filename));
  if (target.embedded) {
    try {
      ensureDirectory(dir);
    } catch (e) {
      throw configError(`cannot create the directory for ${target.filename}: ${(e as Error).message}`);
    }
  } else {
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw configError(`cannot open the SQLite database ${target.filename}: ${code ?? 'error'}`);
    }
    if (!isDir) {
      throw configError(`cannot open the SQLite database ${target.filename}: the directory ${dir} does not exist`, {
        hint: 'check the path given to --db / PORTAL_MFA_DB; create the directory first for a new database',
      });
    }
  }
  return !existsSync(target.filename);
}

/**
 * better-sqlite3's compiled addon, named directly: left to itself the driver finds it with the
 * `bindings` package, which probes a dozen paths on every start — and, inside the CLI's bundle,
 * probes from the bundle's directory instead of the driver's. So when the addon is not in the usual
 * place, `bindings` is asked here, with the driver's own directory as its root.
 */
function sqliteAddon(): string | undefined {
  const require = createRequire(import.meta.url);
  try {
    const root = dirname(require.resolve('better-sqlite3/package.json'));
    const release = join(root, 'build', 'Release', 'better_sqlite3.node');
    if (existsSync(release)) return release;
    // better-sqlite3's own dependency, resolved from the driver's directory
    const bindings = createRequire(join(root, 'package.json'))('bindings') as (o: { bindings: string; module_root: string; path: true }) => string;
    return bindings({ bindings: 'better_sqlite3.node', module_root: root, path: true });
  } catch {
    return undefined; // the driver's own search, and its own error if that fails too
  }
}

/**
 * Open a knex connection for a target. knex and the driver are imported here, lazily, so that
 * `--help` and usage errors never pay for loading them or touch a database.
 */
export async function openDatabase(target: DatabaseTarget, opts: { create?: boolean; tablePrefix?: string; pool?: PoolOptions } = {}): Promise<Database> {
  const { default: knexFactory } = await import('knex');
  requireDriver(target.dialect);
  // knex logs connection trouble with console.warn; errors are reported once, by the CLI
  const log = { warn() {}, error() {}, deprecate() {}, debug() {} };
  let knex: Knex;
  let failover: Failover | undefined;
  if (target.dialect === 'sqlite') {
    prepareSqliteFile(target, Boolean(opts.create));
    knex = knexFactory({
      log,
      client: 'better-sqlite3',
      connection: { filename: target.filename, options: { nativeBinding: sqliteAddon() } },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
          try {
            conn.pragma('busy_timeout = 20000');
            conn.pragma('foreign_keys = ON');
            // a 2 MB page cache keeps memory flat when streaming large organisations
            conn.pragma('cache_size = -2000');
            // WAL lets readers run beside the one writer; ignore failure on read-only media.
            try {
              conn.pragma('journal_mode = WAL');
            } catch {
              /* read-only file or directory: keep the rollback journal */
            }
            done(null, conn);
          } catch (e) {
            done(e as Error, conn);
          }
        },
      },
    });
  } else {
    failover = hostFailover(target);
    knex = knexFactory({
      log,
      client: 'mysql2',
      connection: {
        host: target.host,
        port: target.port,
        user: target.user,
        password: target.password,
        database: target.database,
        charset: 'utf8mb4',
        timezone: 'Z',
        supportBigNumbers: true,
        bigNumberStrings: false,
        connectTimeout: 10_000,
      },
      pool: { min: opts.pool?.min ?? 0, max: opts.pool?.max ?? 4 },
      acquireConnectionTimeout: opts.pool?.acquireTimeoutMs ?? 15_000,
    });
    failover.install(knex);
    retryConflicts(knex);
  }
  const db: Database = {
    knex,
    target,
    dialect: target.dialect,
    failover,
    store: makeDb(knex, opts.tablePrefix ?? DEFAULT_TABLE_PREFIX, null),
    close: () => knex.destroy(),
  };
  try {
    await knex.raw('select 1 as ok');
    db.store = makeDb(knex, db.store.prefix, await loadMapping(knex, db.store.prefix));
  } catch (e) {
    await knex.destroy().catch(() => undefined);
    throw describeDatabaseError(e, target);
  }
  return db;
}
