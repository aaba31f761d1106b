import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { configError } from '../core/errors.js';
import { configDir } from './paths.js';

/**
 * Named profiles (SPEC §8): `$XDG_CONFIG_HOME/portal-mfa/config.toml`
 *
 *     profile = "prod"            # the default profile (optional)
 *     [profiles.prod]
 *     db = "mysql://mfa_admin@db.internal:3306/portal"
 *     db_password_file = "/etc/portal-mfa/db-password"
 *
 * A profile is the lowest layer above the defaults: flags > PORTAL_MFA_* > profile > defaults.
 * The file is read only here; the rest of the CLI sees a validated `Profile`.
 */
export interface Profile {
  name: string;
  /** the config file, named in every error about a value that came from it */
  file: string;
  db?: string;
  dbPasswordFile?: string;
  keyFile?: string;
  issuer?: string;
  smtpUrl?: string;
  mailFrom?: string;
  as?: string;
  tablePrefix?: string;
  /** the portal-mfa service to talk to instead of the database (remote mode) */
  server?: string;
}

const KEYS = {
  db: 'db',
  db_password_file: 'dbPasswordFile',
  key_file: 'keyFile',
  issuer: 'issuer',
  smtp_url: 'smtpUrl',
  mail_from: 'mailFrom',
  as: 'as',
  table_prefix: 'tablePrefix',
  server: 'server',
} as const satisfies Record<string, keyof Profile>;

export function configFilePath(env: NodeJS.ProcessEnv): string {
  return join(configDir(env), 'config.toml');
}

/** The config file as a whole: every profile, and the one its top-level `profile` names. */
export interface ConfigFile {
  file: string;
  profiles: Profile[];
  defaultName?: string;
}

/** How the profile in use was chosen. */
export type ProfileSource = '--profile' | 'PORTAL_MFA_PROFILE' | 'default';

/**
 * The config file, read and checked; undefined when there is none. A file that cannot be read or
 * parsed, or credentials in a file others can read: exit 10 naming the file.
 */
export function readConfigFile(env: NodeJS.ProcessEnv): ConfigFile | undefined {
  const file = configFilePath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw configError(`cannot read the config file ${file}: ${code ?? 'error'}`);
  }
  // the TOML parser is loaded only when there is a config file: most runs have none (start-up time)
  const { parse, TomlError } = createRequire(import.meta.url)('smol-toml') as typeof import('smol-toml');
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    const where = e instanceof TomlError ? ` at line ${e.line}, column ${e.column}` : '';
    throw configError(`the config file ${file} is not valid TOML${where}`, { hint: 'fix it or move it away' });
  }
  const profiles = doc.profiles ?? {};
  if (!isTable(profiles)) throw configError(`${file}: "profiles" must be a table of [profiles.NAME] tables`);
  for (const key of Object.keys(doc)) {
    if (key !== 'profile' && key !== 'profiles')
      throw configError(`${file}: unknown top-level key "${key}"`, { hint: 'expected profile = "NAME" and [profiles.NAME] tables' });
  }
  if (doc.profile !== undefined && typeof doc.profile !== 'string') throw configError(`${file}: the top-level "profile" must be a string`);

  // Credentials anywhere in the file make it secret as a whole (another profile's password leaks as well).
  const parsed = Object.entries(profiles).map(([name, table]) => readProfile(file, name, table));
  if (parsed.some(holdsCredentials)) {
    const mode = statSync(file).mode & 0o777;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw configError(`the config file ${file} holds credentials but others can read it (mode ${mode.toString(8).padStart(4, '0')})`, {
        hint: `chmod 600 ${file}`,
      });
    }
  }
  return { file, profiles: parsed, ...(doc.profile !== undefined ? { defaultName: doc.profile as string } : {}) };
}

/** Which profile is asked for and by what: `--profile`, else PORTAL_MFA_PROFILE, else the file's top-level `profile`. */
export function selectedProfileName(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  config: ConfigFile | undefined,
): { name: string; source: ProfileSource } | undefined {
  if (flag !== undefined) return { name: flag, source: '--profile' };
  const fromEnv = env.PORTAL_MFA_PROFILE?.trim() || undefined;
  if (fromEnv !== undefined) return { name: fromEnv, source: 'PORTAL_MFA_PROFILE' };
  return config?.defaultName === undefined ? undefined : { name: config.defaultName, source: 'default' };
}

/**
 * The selected profile: `--profile`, else PORTAL_MFA_PROFILE, else the file's top-level
 * `profile`; none when nothing selects one. A named profile that does not exist, a file that
 * cannot be read or parsed, or credentials in a file others can read: exit 10 naming the file.
 */
export function loadProfile(flag: string | undefined, env: NodeJS.ProcessEnv): Profile | undefined {
  const config = readConfigFile(env);
  const asked = selectedProfileName(flag, env, config);
  if (asked === undefined) return undefined; // no file or nothing selected: defaults
  if (config === undefined) {
    throw configError(`profile "${asked.name}" asked for (${asked.source}) but there is no config file ${configFilePath(env)}`, {
      hint: 'create it with a [profiles.NAME] table; see docs/operator/configuration.md',
    });
  }
  const found = config.profiles.find((p) => p.name === asked.name);
  if (!found) {
    const names = config.profiles.map((p) => p.name);
    throw configError(`no profile "${asked.name}" in ${config.file}`, {
      hint: names.length ? `profiles there: ${names.join(', ')}` : 'the file defines no [profiles.NAME] table',
    });
  }
  return found;
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function readProfile(file: string, name: string, table: unknown): Profile {
  if (!isTable(table)) throw configError(`${file}: profiles.${name} must be a table`);
  const profile: Profile = { name, file };
  for (const [key, value] of Object.entries(table)) {
    const field = KEYS[key as keyof typeof KEYS];
    if (field === undefined) throw configError(`${file}: unknown key "${key}" in [profiles.${name}]`, { hint: `keys: ${Object.keys(KEYS).join(', ')}` });
    if (typeof value !== 'string' || value.trim() === '') throw configError(`${file}: profiles.${name}.${key} must be a non-empty string`);
    profile[field] = value.trim();
  }
  return profile;
}

function urlHasPassword(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  try {
    return new URL(raw.replace(/^mariadb:/i, 'mysql:')).password !== '';
  } catch {
    return /:\/\/[^/@]*:[^/@]*@/.test(raw); // unparsable: judge by shape, err on the side of secret
  }
}

function holdsCredentials(p: Profile): boolean {
  return urlHasPassword(p.db) || p.dbPasswordFile !== undefined || urlHasPassword(p.smtpUrl);
}

/** The database password from `db_password_file` (its first line), for a mysql URL given without one. */
export function readPasswordFile(profile: Profile): string {
  const path = profile.dbPasswordFile!;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw configError(`cannot read db_password_file ${path} (profile "${profile.name}" in ${profile.file}): ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password === '') throw configError(`db_password_file ${path} (profile "${profile.name}" in ${profile.file}) is empty`);
  return password;
}
