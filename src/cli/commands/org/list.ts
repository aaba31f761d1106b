import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { withExamples } from '../examples.js';

export function registerOrgList(org: CommandUnknownOpts, act: Act): void {
  withExamples(org.command('list').description('your organisations: your role, whether MFA is required, members and how many have MFA'), [
    'portal-mfa org list',
    'portal-mfa org list --json',
  ]).action(act(list));
}

async function list(ctx: CommandContext): Promise<void> {
  const { portal, resolveActor } = await import('../../actor.js');
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, { action: 'org.list' });
  const rows = await mfa.listOrganisations(actor);
  if (ctx.out.json) {
    ctx.out.printJson(
      rows.map((r) => ({
        slug: r.slug,
        name: r.name,
        role: r.role,
        mfaRequired: r.mfaRequired,
        graceDays: r.graceDays,
        deviceTrust: r.deviceTrust,
        members: r.members,
        mfaActive: r.mfaActive,
      })),
    );
    return;
  }
  if (rows.length === 0) {
    ctx.out.info(`${actor.user.email} is in no organisation`);
    return;
  }
  ctx.out.table(
    [
      { header: 'org', value: (r: (typeof rows)[number]) => r.slug },
      { header: 'name', value: (r) => r.name },
      { header: 'role', value: (r) => r.role },
      { header: 'mfa required', value: (r) => (r.mfaRequired ? (r.graceDays ? `yes (${r.graceDays}d grace)` : 'yes') : 'no') },
      { header: 'device trust', value: (r) => (r.deviceTrust ? 'on' : 'off') },
      { header: 'members', value: (r) => String(r.members) },
      { header: 'mfa active', value: (r) => String(r.mfaActive) },
    ],
    rows,
  );
}
