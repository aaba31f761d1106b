import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import type { CommandContext } from '../context.js';
import { registerServiceKeyCreate } from './service-key/create.js';
import { registerServiceKeyList } from './service-key/list.js';
import { registerServiceKeyRevoke } from './service-key/revoke.js';

/** `service-key`: API keys of the services (the portal backend) that call `portal-mfa serve`. */
export function registerServiceKey(program: CommandUnknownOpts, act: Act): void {
  const group = program
    .command('service-key')
    .description('API keys of services that call portal-mfa serve (support, or the operator holding the database)')
    .addHelpText(
      'after',
      '\nWith --as or a CLI session the change is made as that support representative; without either, as the operator\n(audited with the OS user and host, like keys rotate).',
    );
  registerServiceKeyCreate(group, act);
  registerServiceKeyList(group, act);
  registerServiceKeyRevoke(group, act);
}

/** Support (--as or the CLI session) or, with neither, the operator (null). */
export async function supportOrOperator(ctx: CommandContext, action: 'service-key.create' | 'service-key.list' | 'service-key.revoke') {
  const { dbKey, mfaDeps, portal, resolveActor } = await import('../actor.js');
  const { LocalStore } = await import('../localStore.js');
  const deps = await mfaDeps(ctx);
  const asSomeone = ctx.globals.as !== undefined || new LocalStore(ctx.env).getSession(dbKey(ctx)) !== undefined;
  const actor = asSomeone ? await resolveActor(ctx, await portal(ctx), { action }) : null;
  return { deps, actor };
}
