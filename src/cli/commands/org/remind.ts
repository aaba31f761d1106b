import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { humanTime, isoOrNull, sanitizeCell } from '../../render.js';
import { withExamples } from '../examples.js';
import { ADMINISTERED_ORG, dryRunOption, type OptionsOf, orgOption } from '../flags.js';

const define = (org: CommandUnknownOpts) =>
  org
    .command('remind')
    .description('queue a reminder, with their enrolment deadline, to every member who lacks MFA')
    .addOption(orgOption(ADMINISTERED_ORG))
    .addOption(dryRunOption('list who would be reminded, queue nothing'));
type RemindOptions = OptionsOf<typeof define>;

export function registerOrgRemind(org: CommandUnknownOpts, act: Act): void {
  withExamples(define(org), ['portal-mfa org remind --org acme --dry-run', 'portal-mfa org remind --org acme']).action(act(remind));
}

async function remind(ctx: CommandContext, opts: RemindOptions): Promise<void> {
  const { portal, resolveActor } = await import('../../actor.js');
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'org.remind',
    precheck: { organisation: { orgSlug: opts.org, action: 'org.remind', supportAllowed: false } },
  });
  const result = await mfa.remindMembers(actor, { orgSlug: opts.org, dryRun: opts.dryRun });
  if (ctx.out.json) {
    ctx.out.printJson({
      organisation: result.organisation,
      dryRun: result.kind === 'dry-run',
      reminded: result.members.map((m) => ({ email: m.email, deadline: isoOrNull(m.deadline) })),
    });
    return;
  }
  const verb = result.kind === 'dry-run' ? 'dry run: would remind' : 'reminded';
  if (result.kind === 'queued') ctx.out.success(`${verb} ${result.members.length} member(s) of ${result.organisation} without MFA`);
  else ctx.out.line(`${verb} ${result.members.length} member(s) of ${result.organisation} without MFA; nothing was queued`);
  for (const m of result.members) ctx.out.line(`  ${sanitizeCell(m.email)}  enrol by ${m.deadline === null ? 'now' : humanTime(m.deadline)}`);
}
