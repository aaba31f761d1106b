import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { usageError } from '../core/errors.js';
import type { SecretKey } from '../core/primitives/secretBox.js';
import { type Clock, DEFAULT_SETTINGS, type Origin, type RandomSource, type Settings } from '../core/settings.js';
import type { Database, PoolOptions } from '../db/connect.js';
import { describeTarget, type DatabaseTarget } from '../db/url.js';
import { resolveSmtpConfig, type SmtpConfig } from '../mail/smtpConfig.js';
import type { GlobalOptions } from './commands/globals.js';
import { resolveDatabaseTarget, resolveMailConfig, resolveSettings, resolveTablePrefix, withProfileDefaults } from './config.js';
import { readAll, type IOStreams } from './io.js';
import { keyFileStamp, loadKeyring, missingGeneratedKeyFile } from './keySource.js';
import { nonInteractivePrompter, terminalPrompter, type Prompter } from './prompter.js';
import { loadProfile, type Profile } from './profiles.js';
import { Output } from './render.js';
import { resolveServer } from './remote/server.js';

/** What every command runs with: streams, prompts, configuration and a lazily opened database. */
export interface CommandContext {
  env: NodeJS.ProcessEnv;
  io: IOStreams;
  out: Output;
  prompter: Prompter;
  /** flags, with the profile's `as` / `key_file` filled in under flags and environment */
  globals: GlobalOptions;
  /** the global flags as typed on this command line (no environment, no profile): what a printed command carries (invocation.ts) */
  typed: Pick<GlobalOptions, 'db' | 'profile' | 'keyFile' | 'as'>;
  /** the selected config profile (SPEC §8), if any */
  profile: Profile | undefined;
  /** SMTP settings: environment over profile */
  mail: { smtpUrl?: string; mailFrom?: string };
  /**
   * the settings this command runs with: until the database is opened, the defaults with this
   * client's issuer; then the portal's stored policy, tightened by `requestedLimits` (core/rules/policy.ts)
   */
  settings: Settings;
  /** limits this client's environment asks for: they can only make the stored policy stricter */
  requestedLimits: Partial<Settings>;
  clock: Clock;
  random: RandomSource;
  origin: Origin;
  /** SMTP for notices (PORTAL_MFA_SMTP_URL / PORTAL_MFA_MAIL_FROM), validated up front; undefined: not configured */
  smtp: SmtpConfig | undefined;
  /** ids of the notifications this command queued, delivered after it (SPEC §7, src/cli/deliverQueued.ts) */
  queuedNotifications: number[];
  target(): DatabaseTarget;
  /**
   * The database, opened once; checks (or, for the embedded default, applies) the schema unless told
   * not to. Only `create` (db migrate, demo) makes a new SQLite file, in an existing directory.
   */
  database(opts?: { checkSchema?: boolean; create?: boolean; pool?: PoolOptions }): Promise<Database>;
  keyring(): SecretKey[];
  /**
   * The portal-mfa service this command talks to instead of the database (--server,
   * PORTAL_MFA_SERVER or the profile's `server`: src/cli/remote/); then the database and the key
   * are never read.
   */
  server: URL | undefined;
  /** run when the command ends, before the database closes (the remote client ends a --as session) */
  onClose(f: () => Promise<void>): void;
  /** stdin split into lines, read once and handed out in order (password, then code, …). */
  nextStdinLine(what: string, hint: string): Promise<string>;
  /** stdin after its first `keep` lines, which stay queued for nextStdinLine (password, then a list). */
  readStdinAfter(keep: number): Promise<string>;
  close(): Promise<void>;
}

export interface ContextDeps {
  env: NodeJS.ProcessEnv;
  io: IOStreams;
  prompter?: Prompter;
  clock?: Clock;
  random?: RandomSource;
}

export function createContext(flags: GlobalOptions, deps: ContextDeps): CommandContext {
  const { env, io } = deps;
  const profile = loadProfile(flags.profile, env);
  const globals = withProfileDefaults(flags, env, profile);
  const { issuer, requested } = resolveSettings(env, profile);
  const settings: Settings = { ...DEFAULT_SETTINGS, issuer };
  const mail = resolveMailConfig(globals, env, profile);
  // the profile's smtp_url / mail_from stand in for the variables (environment wins, SPEC §8)
  const smtp = resolveSmtpConfig({ ...env, PORTAL_MFA_SMTP_URL: mail.smtpUrl, PORTAL_MFA_MAIL_FROM: mail.mailFrom });
  const server = resolveServer(globals, env, profile);
  const closers: (() => Promise<void>)[] = [];
  const out = new Output(io, { json: Boolean(globals.json), quiet: Boolean(globals.quiet) });
  const prompter = deps.prompter ?? (io.canPrompt ? terminalPrompter(io) : nonInteractivePrompter());
  let target: DatabaseTarget | undefined;
  let db: Database | undefined;
  let schemaChecked = false;
  let keys: SecretKey[] | undefined;
  /** counted when the database opens while its generated `<db>.key` does not exist yet */
  let storedSecrets: number | undefined;
  let keysStamp: string | undefined;
  let stdinLines: string[] | undefined;
  let stdinConsumed = false;

  const lines = async () => (stdinLines ??= (await readAll(io.stdin)).split(/\r?\n/));
  const getTarget = () => {
    // remote mode never reads a database URL (nor, through it, a key file)
    if (server) throw usageError(`this needs the database, and the CLI talks to ${server.origin}`, { hint: 'run it without --server / PORTAL_MFA_SERVER' });
    target ??= resolveDatabaseTarget(globals, env, profile);
    return target;
  };

  return {
    env,
    io,
    out,
    prompter,
    globals,
    typed: { db: flags.db, profile: flags.profile, keyFile: flags.keyFile, as: flags.as },
    profile,
    mail,
    settings,
    requestedLimits: requested,
    clock: deps.clock ?? (() => Date.now()),
    random: deps.random ?? ((n) => randomBytes(n)),
    origin: currentOrigin(),
    smtp,
    queuedNotifications: [],
    target: getTarget,
    server,
    onClose: (f) => void closers.push(f),
    async database(opts = {}) {
      if (!db) {
        const { openDatabase } = await import('../db/connect.js');
        db = await openDatabase(getTarget(), { create: opts.create, tablePrefix: resolveTablePrefix(env, profile), pool: opts.pool });
        if (globals.verbose) {
          const f = db.failover;
          const passed = f?.skipped.length ? ` (passed over ${f.skipped.join('; ')})` : '';
          io.stderr.write(`verbose: using ${f ? `the database server at ${f.current}` : describeTarget(db.target)}${passed}\n`);
        }
      }
      if (opts.checkSchema !== false && !schemaChecked) {
        const { requireCurrentSchema } = await import('../core/usecases/schema.js');
        const t = getTarget();
        await requireCurrentSchema(db, { autoMigrate: t.dialect === 'sqlite' && t.embedded });
        schemaChecked = true;
      }
      if (keys === undefined && missingGeneratedKeyFile({ keyFile: globals.keyFile }, env, getTarget())) {
        const { countStoredSecrets } = await import('../core/usecases/keyCheck.js');
        storedSecrets = await countStoredSecrets(db.store);
      }
      return db;
    },
    keyring() {
      // A key file is read again when it changed (keys rotate rewrites it by rename): a process that
      // started before a rotation finished encrypts new secrets with the key that is current now,
      // not with the one it read at start-up (issue 9, key rotation beside an enrolment).
      const stamp = keyFileStamp({ keyFile: globals.keyFile }, env, getTarget());
      if (keys === undefined || stamp !== keysStamp) {
        keys = loadKeyring({ keyFile: globals.keyFile }, env, getTarget(), storedSecrets);
        keysStamp = keyFileStamp({ keyFile: globals.keyFile }, env, getTarget());
      }
      return keys;
    },
    async nextStdinLine(what, hint) {
      const line = (await lines()).shift();
      if (line === undefined || (line === '' && stdinLines!.every((l) => l === ''))) {
        throw usageError(`${what} was expected on stdin but stdin ended`, { hint });
      }
      return line;
    },
    async readStdinAfter(keep) {
      if (stdinConsumed) throw new Error('stdin already consumed');
      const rest = (await lines()).splice(keep);
      stdinConsumed = true;
      return rest.join('\n');
    },
    async close() {
      for (const f of closers.splice(0)) await f().catch(() => undefined);
      if (db) await db.close().catch(() => undefined);
    },
  };
}

function currentOrigin(): Origin {
  let osUser = process.env.USER ?? '';
  try {
    osUser = userInfo().username;
  } catch {
    /* no passwd entry (containers): keep $USER */
  }
  return { host: hostname(), osUser };
}
