import { normaliseEmail } from '../core/email.js';
import { configError, usageError } from '../core/errors.js';
import { DEFAULT_SETTINGS, type Settings } from '../core/settings.js';
import { parseDatabaseUrl, type DatabaseTarget } from '../db/url.js';
import { embeddedDatabasePath } from './paths.js';

/** Global options shared by every command (SPEC §3 "Global"). */
export interface GlobalOptions {
  db?: string;
  keyFile?: string;
  as?: string;
  passwordStdin?: boolean;
  code?: string;
  recoveryCode?: string;
  json?: boolean;
  color?: boolean; // commander's --no-color
  yes?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/** Resolution order: --db, PORTAL_MFA_DB, then the embedded SQLite default. */
export function resolveDatabaseTarget(opts: GlobalOptions, env: NodeJS.ProcessEnv): DatabaseTarget {
  if (opts.db !== undefined) return parseDatabaseUrl(opts.db);
  if (env.PORTAL_MFA_DB !== undefined && env.PORTAL_MFA_DB.trim() !== '') return parseDatabaseUrl(env.PORTAL_MFA_DB);
  return { dialect: 'sqlite', filename: embeddedDatabasePath(env), embedded: true };
}

function intSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw configError(`${name} must be a whole number from ${min} to ${max} (got "${raw.slice(0, 40)}")`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw configError(`${name} must be from ${min} to ${max} (got ${n})`);
  return n;
}

/** Tunables from the environment (documented in the README), validated once here. */
export function resolveSettings(env: NodeJS.ProcessEnv): Settings {
  const issuer = env.PORTAL_MFA_ISSUER?.trim() || DEFAULT_SETTINGS.issuer;
  if (issuer.includes(':') || issuer.length > 100) {
    throw configError('PORTAL_MFA_ISSUER must be at most 100 characters and contain no colon');
  }
  return {
    ...DEFAULT_SETTINGS,
    issuer,
    window: intSetting(env, 'PORTAL_MFA_WINDOW', DEFAULT_SETTINGS.window, 0, 2),
    maxFailures: intSetting(env, 'PORTAL_MFA_MAX_FAILURES', DEFAULT_SETTINGS.maxFailures, 1, 100),
    lockMinutes: intSetting(env, 'PORTAL_MFA_LOCK_MINUTES', DEFAULT_SETTINGS.lockMinutes, 1, 24 * 60),
    trustDays: intSetting(env, 'PORTAL_MFA_TRUST_DAYS', DEFAULT_SETTINGS.trustDays, 1, 365),
    sessionHours: intSetting(env, 'PORTAL_MFA_SESSION_HOURS', DEFAULT_SETTINGS.sessionHours, 1, 24 * 30),
    hardLockFailures: intSetting(env, 'PORTAL_MFA_HARD_LOCK_FAILURES', DEFAULT_SETTINGS.hardLockFailures, 10, 1000),
  };
}

/** --as / --user: a usage error unless it is an email (see core/email.ts). */
export function parseEmail(raw: string, what = 'email'): string {
  if (raw.trim() === '') throw usageError(`the ${what} is empty`);
  const email = normaliseEmail(raw);
  if (email === null) throw usageError(`not a valid ${what}: ${JSON.stringify(raw.length > 60 ? raw.slice(0, 60) + '…' : raw)}`);
  return email;
}
