import { normaliseEmail } from '../core/primitives/email.js';
import { configError, isPortalMfaError, usageError } from '../core/errors.js';
import { LIMITS, type LimitName } from '../core/rules/policy.js';
import { DEFAULT_SETTINGS, type Settings } from '../core/settings.js';
import { checkTablePrefix, DEFAULT_TABLE_PREFIX } from '../db/store.js';
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

/** The prefix of portal-mfa's own tables: PORTAL_MFA_TABLE_PREFIX, else the profile's table_prefix, else mfa_. */
export function resolveTablePrefix(env: NodeJS.ProcessEnv, profile?: Profile): string {
  const raw = env.PORTAL_MFA_TABLE_PREFIX?.trim() || profile?.tablePrefix || DEFAULT_TABLE_PREFIX;
  try {
    return checkTablePrefix(raw);
  } catch (e) {
    const source = env.PORTAL_MFA_TABLE_PREFIX?.trim() ? 'PORTAL_MFA_TABLE_PREFIX' : `table_prefix of profile "${profile!.name}" in ${profile!.file}`;
    throw configError(`${source}: ${(e as Error).message}`, { hint: (e as { hint?: string }).hint });
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

function intSetting(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^\d+$/.test(raw.trim())) throw configError(`${name} must be a whole number from ${min} to ${max} (got "${raw.slice(0, 40)}")`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw configError(`${name} must be from ${min} to ${max} (got ${n})`);
  return n;
}

/** The limits a client may tighten (never loosen) from its environment, and the variables that set them. */
const LIMIT_VARIABLES = {
  window: 'PORTAL_MFA_WINDOW',
  trustDays: 'PORTAL_MFA_TRUST_DAYS',
  sessionHours: 'PORTAL_MFA_SESSION_HOURS',
} as const satisfies Partial<Record<LimitName, string>>;

/**
 * Variables of earlier versions that set the lockout: that is the portal's policy alone now (a
 * client's value would lock someone else's account), so setting one is a configuration error
 * naming the command that changes the policy — never silently ignored.
 */
const POLICY_ONLY_VARIABLES = {
  PORTAL_MFA_MAX_FAILURES: '--max-failures',
  PORTAL_MFA_LOCK_MINUTES: '--lock-minutes',
  PORTAL_MFA_HARD_LOCK_FAILURES: '--hard-lock-failures',
} as const;

/**
 * The issuer (client configuration) and the limits this client asks for. The limits are the
 * portal's policy, stored in the database: what is asked here only ever tightens them
 * (core/rules/policy.ts effectiveSettings), so a variable cannot loosen a lockout or lengthen a token.
 */
export function resolveSettings(env: NodeJS.ProcessEnv, profile?: Profile): { issuer: string; requested: Partial<Settings> } {
  const fromEnv = env.PORTAL_MFA_ISSUER?.trim();
  const issuer = fromEnv || profile?.issuer || DEFAULT_SETTINGS.issuer;
  if (issuer.includes(':') || issuer.length > 100) {
    const source = fromEnv ? 'PORTAL_MFA_ISSUER' : `issuer of profile "${profile!.name}" in ${profile!.file}`;
    throw configError(`${source} must be at most 100 characters and contain no colon`);
  }
  for (const [variable, flag] of Object.entries(POLICY_ONLY_VARIABLES)) {
    if (env[variable]?.trim()) {
      throw configError(`${variable} is no longer read: the lockout is the portal's policy, the same for every client`, {
        code: 'invalid_config',
        hint: `unset it; support changes the policy with: portal-mfa policy set ${flag} N --ticket T`,
      });
    }
  }
  const requested: Partial<Settings> = {};
  for (const [name, variable] of Object.entries(LIMIT_VARIABLES) as [keyof typeof LIMIT_VARIABLES, string][]) {
    const value = intSetting(env, variable, LIMITS[name].min, LIMITS[name].max);
    if (value !== undefined) requested[name] = value;
  }
  return { issuer, requested };
}

/** --as / --user: a usage error unless it is an email (see core/primitives/email.ts). */
export function parseEmail(raw: string, what = 'email'): string {
  if (raw.trim() === '') throw usageError(`the ${what} is empty`);
  const email = normaliseEmail(raw);
  if (email === null) throw usageError(`not a valid ${what}: ${JSON.stringify(raw.length > 60 ? raw.slice(0, 60) + '…' : raw)}`);
  return email;
}
