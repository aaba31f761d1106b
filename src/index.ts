/**
 * portal-mfa as a library for the portal's own Node backend (SPEC §9): the same use cases the CLI
 * runs, each doing its own authorisation, re-authentication, lockout, audit and notification.
 *
 *   import { openPortalMfa } from 'portal-mfa';
 *   const mfa = await openPortalMfa({ databaseUrl: 'mysql://…', keys: [process.env.PORTAL_MFA_KEY!] });
 *   const actor = await mfa.signIn({ email, password, action: 'portal.login', secondFactor: { proof: { kind: 'code', code } } });
 */
import { hostname, userInfo } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createPortalMfa, type PortalMfa } from './core/api.js';
import { checkLimit, effectiveSettings, LIMITS, type LimitName, readPolicy } from './core/rules/policy.js';
import { isPortalMfaError, usageError, type PortalMfaError } from './core/errors.js';
import { keyFromBase64 } from './core/primitives/secretBox.js';
import { DEFAULT_SETTINGS, type Clock, type Origin, type RandomSource, type Settings } from './core/settings.js';
import { openDatabase } from './db/connect.js';
import { describeDatabaseError } from './db/databaseErrors.js';
import { ensureSchemaCurrent } from './db/schema.js';
import { parseDatabaseUrl, type DatabaseTarget } from './db/url.js';

export type { Actor, SecondFactorSource } from './core/rules/actor.js';
export type { PortalMfa } from './core/api.js';
export { PortalMfaError, isPortalMfaError, type ErrorCode, type ErrorKind } from './core/errors.js';
export type { SecondFactorProof } from './core/rules/secondFactor.js';
export type { AuditAction, AuditOutcome } from './core/primitives/audit.js';
export type { Settings } from './core/settings.js';

export interface OpenOptions {
  /** `mysql://user:pass@host:port/db` or `sqlite:PATH` */
  databaseUrl: string;
  /** base64 AES-256 keys: the first encrypts, all decrypt (PORTAL_MFA_KEY's format, split) */
  keys: string[];
  /** prefix of portal-mfa's own tables (default `mfa_`; the CLI's PORTAL_MFA_TABLE_PREFIX) */
  tablePrefix?: string;
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

/** Open the portal database (schema must be current: `portal-mfa db migrate`) and return the core API. */
export async function openPortalMfa(opts: OpenOptions): Promise<PortalMfa & { close(): Promise<void> }> {
  if (opts === null || typeof opts !== 'object' || typeof opts.databaseUrl !== 'string')
    throw usageError('openPortalMfa needs { databaseUrl, keys }', { code: 'invalid_input' });
  if (!Array.isArray(opts.keys) || opts.keys.length === 0)
    throw usageError('openPortalMfa needs keys: base64 AES-256 keys, the first encrypts', { code: 'invalid_input' });
  // the keys are checked before anything is opened (KeyFormatError is a PortalMfaError, code config)
  const keyring = opts.keys.map((k) => keyFromBase64(k));
  // so are the limits asked for (a client can only tighten the stored policy)
  const { issuer = DEFAULT_SETTINGS.issuer, ...requested } = opts.settings ?? {};
  for (const [name, value] of Object.entries(requested)) {
    if (name in LIMITS) checkLimit(name as LimitName, value as number);
  }
  const target = parseDatabaseUrl(opts.databaseUrl);
  const db = await guard(() => openDatabase(target, { tablePrefix: opts.tablePrefix }), target);
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
      origin: opts.origin ?? { host: hostname(), osUser: safeUser() },
      keyring: () => keyring,
    },
    { currentSettings },
  );
  const api = { ...mfa, close: () => db.close() };
  // every method, in one place: what it raises is a PortalMfaError with a stable code
  for (const name of Object.keys(api) as (keyof typeof api)[]) {
    const method = api[name] as (...args: unknown[]) => unknown;
    (api as Record<string, unknown>)[name] = (...args: unknown[]) => guard(() => method(...args), target);
  }
  return api;
}

/**
 * What the library raises: a PortalMfaError as it is; an argument of the wrong type (a TypeError
 * from inside) an invalid_input usage error; anything else — a driver error such as ECONNREFUSED
 * when the server goes away — the same configuration error the CLI reports (exit 10 there), with
 * the database named but never its password.
 */
function libraryError(e: unknown, target: DatabaseTarget): PortalMfaError {
  if (isPortalMfaError(e)) return e;
  if (e instanceof TypeError) return usageError(`invalid arguments: ${e.message}`, { code: 'invalid_input', cause: e });
  return describeDatabaseError(e, target);
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
