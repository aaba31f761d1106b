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
import { checkLimit, effectiveSettings, LIMITS, type LimitName, readPolicy } from './core/policy.js';
import { keyFromBase64 } from './core/secretBox.js';
import { DEFAULT_SETTINGS, type Clock, type Origin, type RandomSource, type Settings } from './core/settings.js';
import { openDatabase } from './db/connect.js';
import { ensureSchemaCurrent } from './db/schema.js';
import { parseDatabaseUrl } from './db/url.js';

export type { Actor, SecondFactorSource } from './core/actor.js';
export type { PortalMfa } from './core/api.js';
export { PortalMfaError, isPortalMfaError, type ErrorCode, type ErrorKind } from './core/errors.js';
export type { SecondFactorProof } from './core/secondFactor.js';
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
  const db = await openDatabase(parseDatabaseUrl(opts.databaseUrl), { tablePrefix: opts.tablePrefix });
  try {
    await ensureSchemaCurrent(db.store, { autoMigrate: false });
  } catch (e) {
    await db.close();
    throw e;
  }
  const keyring = opts.keys.map((k) => keyFromBase64(k));
  const { issuer = DEFAULT_SETTINGS.issuer, ...requested } = opts.settings ?? {};
  for (const [name, value] of Object.entries(requested)) {
    if (name in LIMITS) checkLimit(name as LimitName, value as number);
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
  return { ...mfa, close: () => db.close() };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '';
  }
}
