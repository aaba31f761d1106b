import { issueRecoveryCodes } from '../../core/recoveryCodes.js';
import { party } from '../../core/verification.js';
import { mfaDeps, resolveActor } from '../actor.js';
import type { CommandContext } from '../context.js';
import { showRecoveryCodes } from '../enrolFlow.js';


export async function regenerate(ctx: CommandContext): Promise<void> {
  const deps = await mfaDeps(ctx);
  const actor = await resolveActor(ctx, deps, { action: 'recovery-codes.regenerate', sensitive: true });
  const codes = await issueRecoveryCodes(deps, actor.user, party(actor.user));
  if (ctx.out.json) {
    ctx.out.printJson({ email: actor.user.email, recoveryCodes: codes });
    return;
  }
  showRecoveryCodes(ctx, codes);
  ctx.out.line('Any earlier recovery codes no longer work.');
}
