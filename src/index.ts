/**
 * portal-mfa as a library for the portal's own Node backend (SPEC §9): the same use cases the CLI
 * runs, each doing its own authorisation, re-authentication, lockout, audit and notification.
 *
 *   import { openPortalMfa } from 'portal-mfa';
 *   const mfa = await openPortalMfa({ databaseUrl: 'mysql://…', keys: [process.env.PORTAL_MFA_KEY!] });
 *   const step = await mfa.forRequest({ ip }).beginSignIn({ email, password });          // the password page
 *   const { actor } = await mfa.completeSignIn({ challenge, proof: { kind: 'code', code } }); // the code page
 *
 * docs/library.md is the guide; the PortalMfa interface (core/api.ts) documents every method.
 */
import { hostname, userInfo } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createPortalMfa, type PortalMfa } from './core/api.js';
import { checkLimit, CLIENT_TIGHTENABLE, effectiveSettings, LIMITS, type LimitName, readPolicy } from './core/rules/policy.js';
import { configError, isPortalMfaError, usageError, type PortalMfaError } from './core/errors.js';
import { keyFromBase64 } from './core/primitives/secretBox.js';
import { DEFAULT_SETTINGS, type Clock, type Origin, type RandomSource, type Settings } from './core/settings.js';
import type { Knex } from 'knex';
import { attachKnex, openDatabase, type Database, type PoolOptions } from './db/connect.js';
import { ensureSchemaCurrent, migrationState } from './db/schema.js';
import { migrateSchema } from './core/usecases/schema.js';
import { describeDatabaseError } from './db/databaseErrors.js';
import { parseDatabaseUrl, type DatabaseTarget } from './db/url.js';

export { SIGN_IN_ACTIONS, type Actor, type ReauthGrant, type SecondFactorSource, type SignInAction, type Vouch } from './core/rules/actor.js';
export type { BeginSignInRequest, ChallengeProof, CompletedSignIn, CompleteSignInRequest, SecondFactorKind, SignInStep } from './core/rules/challenge.js';
export type { PortalMfa } from './core/api.js';
export { PortalMfaError, isPortalMfaError, type ErrorCode, type ErrorKind } from './core/errors.js';
export type { RequestOrigin } from './core/primitives/audit.js';
export type { AuditView } from './core/usecases/auditTrail.js';
export type { IssuedDevice } from './core/rules/trustedDevices.js';
export type { SecondFactorProof } from './core/rules/secondFactor.js';
export type { AuditAction, AuditOutcome } from './core/primitives/audit.js';
export type { Origin, Settings } from './core/settings.js';
export type { PoolOptions } from './db/connect.js';

/** What openPortalMfa returns: the API, and `close()` (after it, every call throws code `closed`). */
export interface PortalMfaLibrary extends PortalMfa {
  /** Closes portal-mfa's pool (an application's own knex instance stays open); safe to call twice. Calls made after it throw `closed`. */
  close(): Promise<void>;
}

/** Where portal-mfa's tables and the portal's users are: a URL, or the application's own knex instance. */
export interface DatabaseOptions {
  /** `mysql://user:pass@host:port/db` or `sqlite:PATH` (portal-mfa opens, pools and closes the connection) */
  databaseUrl?: string;
  /**
   * The application's own knex instance (client `mysql2` or `better-sqlite3`) instead of a URL: its
   * pool is shared, nothing of it is patched, and `close()` leaves it open. Conflict retries apply to
   * portal-mfa's own transactions; failover between hosts is the application's.
   */
  knex?: Knex;
  /** the pool portal-mfa opens for a `databaseUrl` (MySQL/MariaDB; default 0–4 connections, 15 s to acquire) */
  pool?: PoolOptions;
  /** prefix of portal-mfa's own tables (default `mfa_`; the CLI's PORTAL_MFA_TABLE_PREFIX) */
  tablePrefix?: string;
}

export interface OpenOptions extends DatabaseOptions {
  /** base64 AES-256 keys: the first encrypts, all decrypt (PORTAL_MFA_KEY's format, split) */
  keys: string[];
  /**
   * Stricter limits than the portal's stored policy (never looser: a looser value is ignored in
   * favour of the policy); `issuer` names the account in authenticator apps.
   */
  settings?: Partial<Settings>;
  clock?: Clock;
  random?: RandomSource;
  /** recorded on every audit row (default: this host and OS user) */
  origin?: Origin;
}

/** How long a backend keeps the portal's policy before reading it again. */
const POLICY_CACHE_MS = 5_000;

/**
 * Open the portal database (schema must be current: `portal-mfa db migrate`) and return the core API.
 * Everything is checked before anything is opened: the database options, the keys (base64 of 32
 * bytes, at least one), the settings (only `issuer` and the limits a client may tighten — `window`,
 * `trustDays`, `sessionHours`, `reauthSeconds` — each in its range).
 * @throws `invalid_input` (options missing or ill-typed, no keys), `config` (a key that is not base64 of 32 bytes; the database cannot be opened or its schema is not current), `invalid_config` (a setting out of range, unknown, or the portal policy's alone), `driver_missing`
 */
export async function openPortalMfa(opts: OpenOptions): Promise<PortalMfaLibrary> {
  if (opts === null || typeof opts !== 'object') throw usageError('openPortalMfa needs { databaseUrl or knex, keys }', { code: 'invalid_input' });
  checkDatabaseOptions(opts, 'openPortalMfa');
  if (!Array.isArray(opts.keys) || opts.keys.length === 0)
    throw usageError('openPortalMfa needs keys: base64 AES-256 keys, the first encrypts', { code: 'invalid_input' });
  // the keys are checked before anything is opened (KeyFormatError is a PortalMfaError, code config)
  const keyring = opts.keys.map((k) => keyFromBase64(k));
  // so are the settings asked for (a client can only tighten the stored policy)
  const { issuer, requested } = checkSettings(opts.settings);
  const db = await connect(opts);
  const target = db.target;
  try {
    await ensureSchemaCurrent(db.store, { autoMigrate: false });
  } catch (e) {
    await db.close().catch(() => undefined);
    throw libraryError(e, target);
  }
  const clock = opts.clock ?? (() => Date.now());
  // the policy is re-read at most every few seconds: support's changes reach a running backend
  let cached: { at: number; settings: Settings } | undefined;
  const currentSettings = async () => {
    const now = Date.now();
    if (!cached || now - cached.at > POLICY_CACHE_MS) cached = { at: now, settings: effectiveSettings(await readPolicy(db.store), requested, issuer) };
    return cached.settings;
  };
  const mfa = createPortalMfa(
    {
      db: db.store,
      clock,
      random: opts.random ?? ((n) => randomBytes(n)),
      settings: await currentSettings(),
      origin: opts.origin ?? defaultOrigin(),
      keyring: () => keyring,
    },
    { currentSettings },
  );
  let closed: Promise<void> | undefined;
  const isClosed = () => closed !== undefined;
  return Object.assign(guarded(mfa, target, isClosed), {
    close: () => (closed ??= db.close()),
  });
}

/**
 * The library's `settings` option: `issuer` (a name for authenticator apps: 1–100 characters, no
 * colon) and the limits a client may tighten, each a whole number in its range. Anything else —
 * an unknown name, a limit that is the portal policy's alone (the lockout) — is refused, so a
 * backend never believes it set something it did not.
 */
function checkSettings(given: Partial<Settings> | undefined): { issuer: string; requested: Partial<Settings> } {
  if (given === undefined) return { issuer: DEFAULT_SETTINGS.issuer, requested: {} };
  if (given === null || typeof given !== 'object') throw configError('settings must be an object', { code: 'invalid_config' });
  const { issuer = DEFAULT_SETTINGS.issuer, ...limits } = given;
  // eslint-disable-next-line no-control-regex
  if (typeof issuer !== 'string' || issuer.trim() === '' || issuer.length > 100 || issuer.includes(':') || /[\u0000-\u001f\u007f]/.test(issuer))
    throw configError('settings.issuer must be 1–100 characters without a colon', { code: 'invalid_config' });
  for (const [name, value] of Object.entries(limits)) {
    if (!(name in LIMITS)) throw configError(`settings.${name.slice(0, 40)} is not a setting`, { code: 'invalid_config' });
    checkLimit(name as LimitName, value as number);
    if (!CLIENT_TIGHTENABLE.has(name as LimitName))
      throw configError(`settings.${name} is the portal policy's alone (a client cannot change the lockout); support changes it with policy set`, {
        code: 'invalid_config',
      });
  }
  return { issuer, requested: limits };
}

/**
 * Every method of the API, in one place: what it raises is a PortalMfaError with a stable code and
 * without hints written for the command line; after close() it raises `closed`. An API bound to a
 * request (forRequest) is guarded the same way.
 */
function guarded(api: PortalMfa, target: DatabaseTarget, isClosed: () => boolean): PortalMfa {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(api) as [keyof PortalMfa, (...args: unknown[]) => unknown][]) {
    out[name] = (...args: unknown[]) =>
      guard(() => {
        if (isClosed()) throw usageError('this portal-mfa instance is closed', { code: 'closed' });
        const result = method(...args);
        return name === 'forRequest' ? guarded(result as PortalMfa, target, isClosed) : result;
      }, target);
  }
  return out as unknown as PortalMfa;
}

/**
 * Create or bring up to date portal-mfa's own tables (what `portal-mfa db migrate` does), for an
 * application that migrates at deploy time without the CLI. Creates only `mfa_`-prefixed tables
 * (the configured prefix) and refuses, changing nothing, when one of their names is taken.
 * Audited as `db.migrate` when anything was applied. Throws `table_taken`, `config` (a newer schema),
 * `driver_missing` and database errors.
 */
export async function migrate(opts: DatabaseOptions & { origin?: Origin }): Promise<{ applied: string[] }> {
  checkDatabaseOptions(opts, 'migrate');
  const db = await connect(opts, { create: true });
  try {
    return await guard(async () => {
      // the CLI's db migrate: the same operation, audited the same way
      const done = await migrateSchema(db, { clock: () => Date.now(), origin: opts.origin ?? defaultOrigin() });
      return { applied: done.migrated };
    }, db.target);
  } finally {
    await db.close().catch(() => undefined);
  }
}

/** What `portal-mfa db status` reports: whether the schema is current, and the migrations applied and pending. Changes nothing. */
export async function schemaStatus(opts: DatabaseOptions): Promise<SchemaStatus> {
  checkDatabaseOptions(opts, 'schemaStatus');
  const db = await connect(opts);
  try {
    const state = await guard(() => migrationState(db.store), db.target);
    return { current: state.current, applied: state.applied, pending: state.pending, newer: state.unknown, legacy: state.legacy };
  } finally {
    await db.close().catch(() => undefined);
  }
}

export interface SchemaStatus {
  /** every migration of this version is applied, none unknown to it */
  current: boolean;
  applied: { name: string; appliedAt: string | null }[];
  pending: string[];
  /** applied by a newer portal-mfa: upgrade the library first */
  newer: string[];
  /** tables of a portal-mfa from before the table prefix: `migrate()` carries them forward */
  legacy: boolean;
}

function checkDatabaseOptions(opts: DatabaseOptions, fn: string): void {
  const given = (opts?.databaseUrl !== undefined ? 1 : 0) + (opts?.knex !== undefined ? 1 : 0);
  if (given !== 1 || (opts.databaseUrl !== undefined && typeof opts.databaseUrl !== 'string'))
    throw usageError(`${fn} needs exactly one of databaseUrl (a string) or knex (the application's knex instance)`, { code: 'invalid_input' });
  if (opts.pool !== undefined) {
    if (opts.knex) throw usageError('pool applies to a databaseUrl; a knex instance brings its own pool', { code: 'invalid_input' });
    const { min = 0, max = 4, acquireTimeoutMs = 15_000 } = opts.pool;
    const whole = (n: unknown, lo: number, hi: number) => Number.isInteger(n) && (n as number) >= lo && (n as number) <= hi;
    if (!whole(min, 0, 1000) || !whole(max, 1, 1000) || min > max || !whole(acquireTimeoutMs, 1, 600_000))
      throw usageError('pool needs whole numbers: 0 ≤ min ≤ max, 1 ≤ max ≤ 1000, 1 ≤ acquireTimeoutMs ≤ 600000', { code: 'invalid_input' });
  }
}

async function connect(opts: DatabaseOptions, how: { create?: boolean } = {}): Promise<Database> {
  if (opts.knex)
    return guard(() => attachKnex(opts.knex!, { tablePrefix: opts.tablePrefix }), { dialect: 'sqlite', filename: 'the application database', embedded: false });
  const target = parseDatabaseUrl(opts.databaseUrl!);
  return guard(() => openDatabase(target, { tablePrefix: opts.tablePrefix, pool: opts.pool, create: how.create }), target);
}

function defaultOrigin(): Origin {
  return { host: hostname(), osUser: safeUser() };
}

/**
 * What the library raises: a PortalMfaError as it is; an argument of the wrong type (a TypeError
 * from inside) an invalid_input usage error; anything else — a driver error such as ECONNREFUSED
 * when the server goes away — the same configuration error the CLI reports (exit 10 there), with
 * the database named but never its password.
 */
function libraryError(e: unknown, target: DatabaseTarget): PortalMfaError {
  if (isPortalMfaError(e)) return withoutCliHint(e);
  if (e instanceof TypeError) return usageError(`invalid arguments: ${e.message}`, { code: 'invalid_input', cause: e });
  return withoutCliHint(describeDatabaseError(e, target));
}

/** A hint that names a flag, a command or an environment variable of the CLI means nothing to a backend's user. */
const CLI_HINT = /--[a-z]|\bportal-mfa [a-z]|PORTAL_MFA_|\bon a terminal\b/;

/**
 * The error without a hint written for the command line (the core's refusals carry the CLI's
 * hints; the CLI is its main reader). The code, kind, message and details stay as they were.
 */
function withoutCliHint(e: PortalMfaError): PortalMfaError {
  if (e.hint === undefined || !CLI_HINT.test(e.hint)) return e;
  Object.defineProperty(e, 'hint', { value: undefined, enumerable: true, configurable: true });
  return e;
}

/** Run f (sync or async) with its errors — also those of a stream it returns, while iterated — turned into PortalMfaErrors. */
function guard<T>(f: () => T, target: DatabaseTarget): T {
  let value: T;
  try {
    value = f();
  } catch (e) {
    throw libraryError(e, target);
  }
  if (value instanceof Promise)
    return value.then(
      (v) => guardStreams(v, target),
      (e: unknown) => Promise.reject(libraryError(e, target)),
    ) as T;
  return value;
}

const isAsyncIterable = (v: unknown): v is AsyncIterable<unknown> =>
  v !== null && typeof v === 'object' && typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';

async function* guardIterable<T>(it: AsyncIterable<T>, target: DatabaseTarget): AsyncGenerator<T> {
  try {
    yield* it;
  } catch (e) {
    throw libraryError(e, target);
  }
}

/** A returned stream (org members, users, bulk results) raises PortalMfaErrors too. Actors and other results are returned as they are. */
function guardStreams<T>(v: T, target: DatabaseTarget): T {
  const wrap = (s: unknown) => {
    if (!isAsyncIterable(s)) return s;
    const pages = (s as { pages?: () => AsyncIterable<unknown> }).pages;
    const guarded = guardIterable(s, target);
    return typeof pages === 'function' ? Object.assign(guarded, { pages: () => guardIterable(pages.call(s), target) }) : guarded;
  };
  if (isAsyncIterable(v)) return wrap(v) as T;
  if (v === null || typeof v !== 'object' || Object.isFrozen(v) || !Object.values(v).some(isAsyncIterable)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, wrap(x)])) as T;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '';
  }
}
