import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { cancelled } from '../../core/errors.js';
import type { Act } from '../act.js';
import { confirmOrCancel } from '../confirm.js';
import type { CommandContext } from '../context.js';
import { LocalStore } from '../localStore.js';
import { changeOnUserRequest } from '../targets.js';
import { withExamples } from './examples.js';
import { dryRunOption, type OptionsOf, orgOption, reasonOption, ticketOption } from './flags.js';

const define = (program: CommandUnknownOpts) =>
  program
    .command('disable')
    .description("disable MFA: your own, or (support, with --ticket; org admin) another user's — they then log in with password only and enrol again")
    .option('--user <email>', 'whose MFA (default: your own)')
    .addOption(orgOption())
    .addOption(ticketOption('support ticket reference (required for a support reset)'))
    .addOption(reasonOption())
    .addOption(dryRunOption('say what would be removed, change nothing'));
type DisableOptions = OptionsOf<typeof define>;

export function registerDisable(program: CommandUnknownOpts, act: Act): void {
  withExamples(define(program), [
    'portal-mfa disable                                       # your own MFA (asks for password and code)',
    'portal-mfa disable --user devon@example.com --ticket SUP-1234 --reason "lost phone"',
    'portal-mfa disable --user dave@acme.example --org acme --yes',
  ]).action(act(disable));
}

async function disable(ctx: CommandContext, opts: DisableOptions): Promise<void> {
  const { dbKey, signInToChangeUser } = await import('../actor.js');
  const { mfa, actor, password } = await signInToChangeUser(ctx, opts, { permission: 'disable', action: 'mfa.disable' });
  const result = await mfa.disableMfa(actor, {
    ...changeOnUserRequest(ctx, opts, password),
    confirm: async (p) => {
      // what will go, shown before the question only: scripted runs keep stderr to one line
      if (!ctx.globals.yes && ctx.io.canPrompt) {
        ctx.io.stderr.write(
          `This removes ${p.self ? 'your' : `${p.email}'s`} authenticator secret${p.state === 'pending' ? ' (pending enrolment)' : ''}, ` +
            `${p.recoveryCodes} recovery code(s), ${p.trustedDevices} trusted device(s) and all CLI sessions.\n`,
        );
      }
      await confirmOrCancel(ctx, `Disable MFA for ${p.email}?`);
      return true;
    },
  });
  if (result.kind === 'cancelled') throw cancelled('cancelled; nothing was changed');
  if (result.kind === 'dry-run') {
    const w = result.wouldRemove;
    if (ctx.out.json)
      ctx.out.printJson({
        email: result.email,
        dryRun: true,
        via: result.via,
        organisation: result.organisation,
        wouldRemove: { mfa: w.state, recoveryCodes: w.recoveryCodes, trustedDevices: w.trustedDevices },
      });
    else
      ctx.out.line(
        `dry run: would disable MFA for ${result.email} (${w.state}; ${w.recoveryCodes} recovery code(s), ${w.trustedDevices} trusted device(s), all CLI sessions); nothing was changed`,
      );
    return;
  }
  if (result.email === actor.user.email) new LocalStore(ctx.env).clearDevice(dbKey(ctx), result.email);
  if (ctx.out.json) {
    ctx.out.printJson({
      email: result.email,
      disabled: true,
      via: result.via,
      organisation: result.organisation,
      ticket: result.ticket,
      removed: result.removed,
    });
    return;
  }
  ctx.out.success(`MFA disabled for ${result.email}${result.ticket ? ` (ticket ${result.ticket})` : ''}`);
  if (result.email !== actor.user.email) ctx.out.line(`${result.email} can now log in with their password only and enrol again.`);
}
