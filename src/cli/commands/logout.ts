import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import type { CommandContext } from '../context.js';
import { LocalStore } from '../localStore.js';
import { withExamples } from './examples.js';

export function registerLogout(program: CommandUnknownOpts, act: Act): void {
  withExamples(program.command('logout').description('end the CLI session on this machine'), ['portal-mfa logout', 'portal-mfa logout --quiet']).action(
    act(logoutCommand),
  );
}

async function logoutCommand(ctx: CommandContext): Promise<void> {
  const { dbKey, portal } = await import('../actor.js');
  const store = new LocalStore(ctx.env);
  const stored = store.getSession(dbKey(ctx));
  if (!stored) {
    if (ctx.out.json) ctx.out.printJson({ loggedOut: false });
    else ctx.out.info('not logged in');
    return;
  }
  const mfa = await portal(ctx);
  await mfa.closeSession(stored.token);
  store.clearSession(dbKey(ctx));
  if (ctx.out.json) ctx.out.printJson({ loggedOut: true, email: stored.email });
  else ctx.out.success(`logged out ${stored.email}`);
}
