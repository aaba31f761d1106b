import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { withExamples } from '../examples.js';
import { policyJson, printPolicy } from './render.js';

export function registerPolicyShow(policy: CommandUnknownOpts, act: Act): void {
  withExamples(policy.command('show').description('the portal-wide policy (support)'), [
    'portal-mfa policy show --as sam@support.example',
    'portal-mfa policy show --json',
  ]).action(act(show));
}

async function show(ctx: CommandContext): Promise<void> {
  const { portal, resolveActor } = await import('../../actor.js');
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, { action: 'policy.show' });
  const p = await mfa.showPortalPolicy(actor);
  if (ctx.out.json) ctx.out.printJson(policyJson(p));
  else printPolicy(ctx, p);
}
