import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { withExamples } from '../examples.js';

export function registerRecoveryCodesRegenerate(rc: CommandUnknownOpts, act: Act): void {
  withExamples(rc.command('regenerate').description('replace your recovery codes with ten new ones, shown once'), [
    'portal-mfa recovery-codes regenerate',
    'portal-mfa recovery-codes regenerate --json > codes.json',
  ]).action(act(regenerate));
}

async function regenerate(ctx: CommandContext): Promise<void> {
  const { portal, reauthPassword, resolveActor } = await import('../../actor.js');
  const { showRecoveryCodes } = await import('../../enrolFlow.js');
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, { action: 'recovery-codes.regenerate' });
  const { email, codes } = await mfa.regenerateRecoveryCodes(actor, { password: await reauthPassword(ctx, mfa, actor, 'recovery-codes.regenerate') });
  if (ctx.out.json) {
    ctx.out.printJson({ email, recoveryCodes: codes });
    return;
  }
  showRecoveryCodes(ctx, codes);
  ctx.out.line('Any earlier recovery codes no longer work.');
}
