import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { withExamples } from '../examples.js';

export function registerProfileList(profile: CommandUnknownOpts, act: Act): void {
  withExamples(profile.command('list').description('the profiles of the config file; * marks the one in use (like kubectl config get-contexts)'), [
    'portal-mfa profile list',
    'portal-mfa profile list --json',
  ]).action(act(list));
}

/** Every profile with its database (password masked) and actor; no database is opened. */
async function list(ctx: CommandContext): Promise<void> {
  const { readConfigFile, selectedProfileName } = await import('../../profiles.js');
  const { maskDatabaseUrl } = await import('../../../db/url.js');
  const config = readConfigFile(ctx.env);
  const selected = selectedProfileName(ctx.globals.profile, ctx.env, config);
  const rows = (config?.profiles ?? []).map((p) => ({
    name: p.name,
    current: p.name === selected?.name,
    default: p.name === config?.defaultName,
    db: p.db === undefined ? null : maskDatabaseUrl(p.db),
    as: p.as ?? null,
  }));
  if (ctx.out.json) {
    ctx.out.printJson({ configFile: config?.file ?? null, selectedBy: selected?.source ?? null, profiles: rows });
    return;
  }
  if (!config) {
    const { configFilePath } = await import('../../profiles.js');
    ctx.out.info(`no config file (${configFilePath(ctx.env)}): no profiles; see docs/operator/configuration.md#profiles`);
    return;
  }
  ctx.out.table(
    [
      { header: 'current', value: (r: (typeof rows)[number]) => (r.current ? '*' : ''), whole: true },
      { header: 'name', value: (r) => r.name + (r.default ? ' (default)' : ''), whole: true },
      { header: 'database', value: (r) => r.db ?? '-' },
      { header: 'as', value: (r) => r.as ?? '-' },
    ],
    rows,
  );
  if (rows.length === 0) ctx.out.info(`${config.file} defines no [profiles.NAME] table`);
}
