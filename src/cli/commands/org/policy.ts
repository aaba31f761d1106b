import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import { cancelled, usageError } from '../../../core/errors.js';
import type { Act } from '../../act.js';
import { confirmOrCancel, requireConfirmable } from '../../confirm.js';
import type { CommandContext } from '../../context.js';
import { humanTime, isoOrNull } from '../../render.js';
import { withExamples } from '../examples.js';
import { ADMINISTERED_ORG, dryRunOption, ON_OFF, type OptionsOf, orgOption, wholeNumber } from '../flags.js';

const define = (org: CommandUnknownOpts) =>
  org
    .command('policy')
    .description(
      'show the policy and who lacks MFA; or require MFA for every member (optionally after a grace period), or not; allow or forbid trusted devices',
    )
    .addOption(orgOption(ADMINISTERED_ORG))
    .option('--require', 'require MFA')
    .option('--no-require', 'stop requiring MFA')
    .addOption(new Option('--grace-days <n>', 'days members have to enrol after --require (0 = none)').argParser(wholeNumber({ min: 0, max: 3650 })))
    .addOption(new Option('--device-trust <on|off>', "whether trusted devices may skip the code (off revokes the members' devices)").choices(ON_OFF))
    .addOption(dryRunOption('show the effect of the change, change nothing'));
type PolicyOptions = OptionsOf<typeof define>;

export function registerOrgPolicy(org: CommandUnknownOpts, act: Act): void {
  withExamples(define(org), [
    'portal-mfa org policy --org acme --require --grace-days 14',
    'portal-mfa org policy --org acme --no-require --yes',
    'portal-mfa org policy --org acme --device-trust off',
  ]).action(act(policy));
}

async function policy(ctx: CommandContext, opts: PolicyOptions): Promise<void> {
  const { portal, reauthPassword, resolveActor } = await import('../../actor.js');
  // --grace-days 0: no grace period
  const change = {
    require: opts.require,
    graceDays: opts.graceDays === undefined ? undefined : opts.graceDays === 0 ? null : opts.graceDays,
    deviceTrust: opts.deviceTrust === undefined ? undefined : opts.deviceTrust === 'on',
  };
  const show = change.require === undefined && change.graceDays === undefined && change.deviceTrust === undefined;
  // (input is checked before the sign-in: a usage error spends no code)
  if (show && opts.dryRun) throw usageError('--dry-run goes with a change (--require, --no-require, --grace-days, --device-trust)');
  if (change.require === false && change.graceDays !== undefined) throw usageError('--grace-days goes with --require');
  if (!show && !opts.dryRun) requireConfirmable(ctx);
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'org.policy',
    // showing is open to support, changing is not
    precheck: { organisation: { orgSlug: opts.org, action: 'org.policy', supportAllowed: show } },
  });
  if (show) {
    const p = await mfa.showPolicy(actor, { orgSlug: opts.org });
    if (ctx.out.json) {
      ctx.out.printJson({
        organisation: p.organisation,
        portalRequiresMfa: p.portalRequiresMfa,
        mfaRequired: p.mfaRequired,
        graceDays: p.graceDays,
        deviceTrust: p.deviceTrust,
        requiredSince: isoOrNull(p.requiredSince),
        membersWithoutMfa: p.membersWithoutMfa.total,
        adminsWithoutMfa: p.membersWithoutMfa.admins,
        lacking: p.lacking.map((l) => ({ email: l.email, deadline: isoOrNull(l.deadline) })),
      });
      return;
    }
    ctx.out.fields([
      ['organisation', p.organisation],
      ['mfa', p.mfaRequired ? `required${p.graceDays ? ` (${p.graceDays}-day grace from ${humanTime(p.requiredSince)})` : ''}` : 'optional'],
      ['trusted devices', p.deviceTrust ? 'allowed' : 'off'],
      ['portal', p.portalRequiresMfa ? 'requires MFA for every account' : 'recommends MFA'],
      ['without mfa', `${p.membersWithoutMfa.total} member(s), ${p.membersWithoutMfa.admins} admin(s) among them`],
    ]);
    if (p.lacking.length > 0) {
      ctx.out.line('');
      ctx.out.table(
        [
          { header: 'member without mfa', value: (l: (typeof p.lacking)[number]) => l.email },
          { header: 'enrol by', value: (l) => (p.mfaRequired ? (l.deadline === null ? 'now' : humanTime(l.deadline)) : '-') },
        ],
        p.lacking,
      );
    }
    return;
  }
  const password = opts.dryRun ? undefined : await reauthPassword(ctx, mfa, actor, 'org.policy');
  const result = await mfa.setPolicy(actor, {
    orgSlug: opts.org,
    change,
    password,
    dryRun: opts.dryRun,
    confirm: async ({ lacking, requiring }) => {
      if (requiring) {
        // reported before the question only: a scripted run keeps stderr to one line
        if (ctx.globals.yes || ctx.io.canPrompt) {
          ctx.io.stderr.write(
            `${lacking.total} member(s) (${lacking.admins} admin(s) among them) have no MFA and will be made to enrol` +
              `${change.graceDays ? ` after a ${change.graceDays}-day grace period` : ' at their next login'}.\n`,
          );
        }
        await confirmOrCancel(ctx, 'Require MFA?');
      } else await confirmOrCancel(ctx, 'Change the MFA policy?');
      return true;
    },
  });
  if (result.kind === 'cancelled') throw cancelled('cancelled; nothing was changed');
  const a = result.after;
  if (ctx.out.json) {
    ctx.out.printJson({
      organisation: result.organisation,
      ...a,
      before: result.before,
      dryRun: result.kind === 'dry-run',
      membersWithoutMfa: result.membersWithoutMfa.total,
      adminsWithoutMfa: result.membersWithoutMfa.admins,
      noticesQueued: result.noticesQueued,
      devicesRevoked: result.devicesRevoked,
    });
    return;
  }
  const text = `${result.organisation}: MFA ${a.mfaRequired ? `required${a.graceDays ? ` (${a.graceDays}-day grace)` : ''}` : 'optional'}; trusted devices ${a.deviceTrust ? 'allowed' : 'off'}`;
  if (result.kind === 'dry-run') {
    ctx.out.line(`dry run: would set ${text}; ${result.membersWithoutMfa.total} member(s) lack MFA; nothing was changed`);
    return;
  }
  ctx.out.success(text);
  if (result.devicesRevoked > 0) ctx.out.line(`${result.devicesRevoked} trusted device(s) of members revoked.`);
}
