import { Argument, type CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { withExamples } from '../examples.js';

export function registerProfileShow(profile: CommandUnknownOpts, act: Act): void {
  withExamples(
    profile
      .command('show')
      .description('the profile in use (or NAME) and where each setting comes from: a flag, the environment, the profile or the default (like gh auth status)')
      .addArgument(new Argument('[name]', 'a profile of the config file (default: the one in use)')),
    ['portal-mfa profile show', 'portal-mfa --profile prod profile show --json', 'portal-mfa profile show prod'],
  ).action(act(show));
}

interface Setting {
  setting: string;
  value: string | null;
  from: string;
}

/**
 * Which profile is in use and why, and each connection setting with its source — what a command
 * run with these flags and this environment would use. No database is opened; passwords in URLs
 * are masked and a key is never shown, only where it comes from.
 */
async function show(ctx: CommandContext, _opts: object, [name]: (string | undefined)[]): Promise<void> {
  const { configFilePath, loadProfile, readConfigFile, selectedProfileName } = await import('../../profiles.js');
  const { maskDatabaseUrl } = await import('../../../db/url.js');
  const { embeddedDatabasePath } = await import('../../paths.js');
  const { DEFAULT_SETTINGS } = await import('../../../core/settings.js');
  const { DEFAULT_TABLE_PREFIX } = await import('../../../db/store.js');
  const env = ctx.env;
  const config = readConfigFile(env);
  const selected = name !== undefined ? { name, source: 'argument' as const } : selectedProfileName(ctx.globals.profile, env, config);
  const profile = name !== undefined ? loadProfile(name, env) : ctx.profile;
  const fromProfile = profile ? `profile "${profile.name}"` : '';
  const envValue = (v: string) => env[v]?.trim() || undefined;
  // ctx.globals has the profile's as / key_file filled in under the flags and the environment
  // (config.ts withProfileDefaults): a value is the flag's only when neither of those gave it
  const g = ctx.globals;
  const flags = {
    db: g.db,
    as: g.as !== undefined && g.as !== envValue('PORTAL_MFA_AS') && g.as !== ctx.profile?.as ? g.as : undefined,
    keyFile: g.keyFile !== undefined && g.keyFile !== ctx.profile?.keyFile ? g.keyFile : undefined,
  };

  const pick = (setting: string, candidates: [string | undefined, string][], fallback: [string | null, string]): Setting => {
    for (const [value, from] of candidates) if (value !== undefined) return { setting, value, from };
    return { setting, value: fallback[0], from: fallback[1] };
  };
  const db = pick(
    'database',
    [
      [flags.db === undefined ? undefined : maskDatabaseUrl(flags.db), '--db'],
      [envValue('PORTAL_MFA_DB') && maskDatabaseUrl(envValue('PORTAL_MFA_DB')!), 'PORTAL_MFA_DB'],
      [profile?.db && maskDatabaseUrl(profile.db), fromProfile],
    ],
    [`sqlite:${embeddedDatabasePath(env)}`, 'default (embedded SQLite)'],
  );
  const settings: Setting[] = [db];
  if (profile?.dbPasswordFile !== undefined && /^mysql:/i.test(db.value ?? '') && !/:\*\*\*@/.test(db.value ?? ''))
    settings.push({ setting: 'database password', value: profile.dbPasswordFile, from: `db_password_file of ${fromProfile}` });
  settings.push(
    pick(
      'as',
      [
        [flags.as, '--as'],
        [envValue('PORTAL_MFA_AS'), 'PORTAL_MFA_AS'],
        [profile?.as, fromProfile],
      ],
      [null, 'the CLI session (portal-mfa login), else asked'],
    ),
    pick(
      'secrets key',
      [
        [flags.keyFile, '--key-file'],
        [envValue('PORTAL_MFA_KEY') && '(given inline)', 'PORTAL_MFA_KEY'],
        [envValue('PORTAL_MFA_KEY_FILE'), 'PORTAL_MFA_KEY_FILE'],
        [profile?.keyFile, fromProfile],
      ],
      [
        db.value?.startsWith('sqlite:') ? `${db.value.slice('sqlite:'.length)}.key` : null,
        db.value?.startsWith('sqlite:') ? 'default (beside the SQLite file)' : 'none configured',
      ],
    ),
    pick(
      'issuer',
      [
        [envValue('PORTAL_MFA_ISSUER'), 'PORTAL_MFA_ISSUER'],
        [profile?.issuer, fromProfile],
      ],
      [DEFAULT_SETTINGS.issuer, 'default'],
    ),
    pick(
      'smtp url',
      [
        [envValue('PORTAL_MFA_SMTP_URL') && maskDatabaseUrl(envValue('PORTAL_MFA_SMTP_URL')!), 'PORTAL_MFA_SMTP_URL'],
        [profile?.smtpUrl && maskDatabaseUrl(profile.smtpUrl), fromProfile],
      ],
      [null, "not set: the portal's delivery policy names the relay"],
    ),
    pick(
      'mail from',
      [
        [envValue('PORTAL_MFA_MAIL_FROM'), 'PORTAL_MFA_MAIL_FROM'],
        [profile?.mailFrom, fromProfile],
      ],
      [null, "not set: the portal's delivery policy"],
    ),
    pick(
      'table prefix',
      [
        [envValue('PORTAL_MFA_TABLE_PREFIX'), 'PORTAL_MFA_TABLE_PREFIX'],
        [profile?.tablePrefix, fromProfile],
      ],
      [DEFAULT_TABLE_PREFIX, 'default'],
    ),
  );
  const by = { '--profile': '--profile', PORTAL_MFA_PROFILE: 'PORTAL_MFA_PROFILE', default: `profile = "…" in the config file`, argument: 'named on the line' };
  if (ctx.out.json) {
    ctx.out.printJson({
      profile: profile ? { name: profile.name, selectedBy: selected?.source ?? null } : null,
      configFile: config?.file ?? null,
      settings: settings.map((s) => ({ setting: s.setting, value: s.value, from: s.from })),
    });
    return;
  }
  ctx.out.fields([
    ['profile', profile ? `${profile.name} (${by[selected!.source]})` : 'none in use'],
    ['config file', config ? config.file : `none (${configFilePath(env)})`],
  ]);
  ctx.out.line();
  ctx.out.table(
    [
      { header: 'setting', value: (s: Setting) => s.setting },
      { header: 'value', value: (s) => s.value ?? '-' },
      { header: 'from', value: (s) => s.from },
    ],
    settings,
  );
}
