import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import type { CommandContext } from '../context.js';
import { humanTimeUntil, isoOrNull } from '../render.js';
import { changeOnUserRequest } from '../targets.js';
import { withExamples } from './examples.js';
import { dryRunOption, type OptionsOf, orgOption, reasonOption, ticketOption } from './flags.js';

const define = (program: CommandUnknownOpts) =>
  program
    .command('unlock')
    .description('clear a lockout (also a hard lock) and the failure count; support (with --ticket) or an org admin for a member')
    .requiredOption('--user <email>', 'the locked user')
    .addOption(orgOption())
    .addOption(ticketOption())
    .addOption(reasonOption())
    .addOption(dryRunOption('say what would be cleared, change nothing'));
type UnlockOptions = OptionsOf<typeof define>;

export function registerUnlock(program: CommandUnknownOpts, act: Act): void {
  withExamples(define(program), [
    'portal-mfa unlock --user devon@example.com --ticket SUP-1234',
    'portal-mfa unlock --user dave@acme.example --org acme --reason "called in"',
  ]).action(act(unlock));
}

async function unlock(ctx: CommandContext, opts: UnlockOptions): Promise<void> {
  const { signInToChangeUser } = await import('../actor.js');
  const { mfa, actor, password } = await signInToChangeUser(ctx, opts, { permission: 'unlock', action: 'mfa.unlock', question: `Unlock ${opts.user}?` });
  const r = await mfa.unlock(actor, {
    ...changeOnUserRequest(ctx, opts, password),
  });
  if (ctx.out.json) {
    ctx.out.printJson({
      email: r.email,
      unlocked: r.kind === 'unlocked',
      dryRun: r.kind === 'dry-run',
      wasHardLocked: r.wasHardLocked,
      lockedUntil: isoOrNull(r.lockedUntil),
      consecutiveFailures: r.consecutiveFailures,
      passwordLocked: r.passwordLocked,
    });
    return;
  }
  const what = r.wasHardLocked ? 'hard lock' : r.lockedUntil !== null ? `lock until ${humanTimeUntil(r.lockedUntil)}` : `${r.consecutiveFailures} failure(s)`;
  if (r.kind === 'dry-run')
    ctx.out.line(`dry run: would clear ${r.email}'s ${what}${r.passwordLocked ? ' and wrong-password limit' : ''}; nothing was changed`);
  else ctx.out.success(`unlocked ${r.email} (cleared ${what}${r.passwordLocked ? ' and the wrong-password limit' : ''})`);
}
