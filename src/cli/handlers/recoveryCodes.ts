import { portal, reauthPassword, resolveActor } from '../actor.js';
import type { CommandContext } from '../context.js';
import { showRecoveryCodes } from '../enrolFlow.js';

export async function regenerate(ctx: CommandContext): Promise<void> {
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, { action: 'recovery-codes.regenerate' });
  const { email, codes } = await mfa.regenerateRecoveryCodes(actor, { password: await reauthPassword(ctx, mfa, actor) });
  if (ctx.out.json) {
    ctx.out.printJson({ email, recoveryCodes: codes });
    return;
  }
  showRecoveryCodes(ctx, codes);
  ctx.out.line('Any earlier recovery codes no longer work.');
}
