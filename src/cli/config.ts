import { normaliseEmail } from '../core/email.js';
import { configError, isPortalMfaError, usageError } from '../core/errors.js';
import { DEFAULT_SETTINGS, type Settings } from '../core/settings.js';
import { parseDatabaseUrl, type DatabaseTarget } from '../db/url.js';
import { embeddedDatabasePath } from './paths.js';
import { readPasswordFile, type Profile } from './profiles.js';

import type { GlobalOptions } from './commands/globals.js';

/**
 * Resolution order: --db, PORTAL_MFA_DB, the profile's `db`, then the embedded SQLite default.
 * A bad --db is a usage error (exit 2); a bad value from the environment or the config file is a
 * configuration error (exit 10) naming where it came from, since no flag of this run is wrong.
 * The profile's db_password_file supplies the password of a mysql URL that has none.
 */
export function resolveDatabaseTarget(opts: GlobalOptions, env: NodeJS.ProcessEnv, profile?: Profile): DatabaseTarget {
  let target: DatabaseTarget;
  if (opts.db !== undefined) target = parseDatabaseUrl(opts.db);
  else if (env.PORTAL_MFA_DB !== undefined && env.PORTAL_MFA_DB.trim() !== '') target = parseFrom(env.PORTAL_MFA_DB, 'PORTAL_MFA_DB');
  else if (profile?.db !== undefined) target = parseFrom(profile.db, `db of profile "${profile.name}" in ${profile.file}`);
  else return { dialect: 'sqlite', filename: embeddedDatabasePath(env), embedded: true };
  if (target.dialect === 'mysql' && target.password === '' && profile?.dbPasswordFile !== undefined) {
    target = { ...target, password: readPasswordFile(profile) };
  }
  return target;
}

function parseFrom(raw: string, source: string): DatabaseTarget {
  try {
    return parseDatabaseUrl(raw);
  } catch (e) {
    if (isPortalMfaError(e) && e.kind === 'usage') throw configError(`${source}: ${e.message}`, { hint: e.hint });
    throw e;
  }
}

/** Where mail goes (SPEC §7): PORTAL_MFA_SMTP_URL / PORTAL_MFA_MAIL_FROM, else the profile's smtp_url / mail_from. */
export function resolveMailConfig(_globals: GlobalOptions, env: NodeJS.ProcessEnv, profile?: Profile): { smtpUrl?: string; mailFrom?: string } {
  const smtpUrl = env.PORTAL_MFA_SMTP_URL?.trim() || profile?.smtpUrl;
  const mailFrom = env.PORTAL_MFA_MAIL_FROM?.trim() || profile?.mailFrom;
  return { ...(smtpUrl ? { smtpUrl } : {}), ...(mailFrom ? { mailFrom } : {}) };
}

/**
 * The profile's `as` and `key_file` under the flags and the environment: filled into the global
 * options only where neither a flag nor a PORTAL_MFA_* variable gave a value.
 */
export function withProfileDefaults(globals: GlobalOptions, env: NodeJS.ProcessEnv, profile?: Profile): GlobalOptions {
  const out = { ...globals };
  if (out.as === undefined && env.PORTAL_MFA_AS) out.as = env.PORTAL_MFA_AS;
  if (out.as === undefined && profile?.as !== undefined) out.as = profile.as;
  const keyFromEnv = Boolean(env.PORTAL_MFA_KEY?.trim() || env.PORTAL_MFA_KEY_FILE?.trim());
  if (out.keyFile === undefined && !keyFromEnv && profile?.keyFile !== undefined) out.keyFile = profile.keyFile;
  return out;
}

function intSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw configError(`${name} must be a whole number from ${min} to ${max} (got "${raw.slice(0, 40)}")`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw configError(`${name} must be from ${min} to ${max} (got ${n})`);
  return n;
}

/** Tunables from the environment (documented in docs/operator/configuration.md), validated once here. */
export function resolveSettings(env: NodeJS.ProcessEnv, profile?: Profile): Settings {
  const fromEnv = env.PORTAL_MFA_ISSUER?.trim();
  const issuer = fromEnv || profile?.issuer || DEFAULT_SETTINGS.issuer;
  if (issuer.includes(':') || issuer.length > 100) {
    const source = fromEnv ? 'PORTAL_MFA_ISSUER' : `issuer of profile "${profile!.name}" in ${profile!.file}`;
    throw configError(`${source} must be at most 100 characters and contain no colon`);
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
