import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { withExamples } from '../examples.js';

export function registerServiceKeyRevoke(group: CommandUnknownOpts, act: Act): void {
  withExamples(
    group
      .command('revoke')
      .description('revoke a service key: it is refused from the next request on (needs --yes without a terminal)')
      .argument('<name>', 'the service'),
    ['portal-mfa service-key revoke laravel-portal', 'portal-mfa service-key revoke reporting --yes'],
  ).action(act(revoke));
}

async function revoke(ctx: CommandContext, _opts: unknown, args: string[]): Promise<void> {
  const { revokeServiceKey, validateServiceName } = await import('../../../core/usecases/serviceKeys.js');
  const { confirmOrCancel, requireConfirmable } = await import('../../confirm.js');
  const name = validateServiceName(args[0]);
  requireConfirmable(ctx);
  const { supportOrOperator } = await import('../service-key.js');
  const { deps, actor } = await supportOrOperator(ctx, 'service-key.revoke');
  await confirmOrCancel(ctx, `Revoke the service key ${name}? The service's calls are refused from then on.`);
  await revokeServiceKey(deps, actor, { name });
  if (ctx.out.json) ctx.out.printJson({ revoked: true, name });
  else ctx.out.success(`service key ${name} revoked`);
}
