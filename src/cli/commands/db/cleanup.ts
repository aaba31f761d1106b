import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import { confirmOrCancel } from '../../confirm.js';
import type { CommandContext } from '../../context.js';
import { withExamples } from '../examples.js';
import { dryRunOption, type OptionsOf } from '../flags.js';

const define = (db: CommandUnknownOpts) =>
  db
    .command('cleanup')
    .description('remove the MFA rows of users the portal has deleted (db check counts them)')
    .addOption(dryRunOption('list the user ids, remove nothing'));
type CleanupOptions = OptionsOf<typeof define>;

export function registerDbCleanup(db: CommandUnknownOpts, act: Act): void {
  withExamples(define(db), ['portal-mfa db cleanup --dry-run', 'portal-mfa db cleanup --yes']).action(act(cleanup));
}

async function cleanup(ctx: CommandContext, opts: CleanupOptions): Promise<void> {
  const db = await ctx.database();
  const { cleanupOrphans, orphanUserIds } = await import('../../../core/usecases/attach.js');
  const ids = await orphanUserIds(db.store);
  if (opts.dryRun || ids.length === 0) {
    if (ctx.out.json) ctx.out.printJson({ dryRun: Boolean(opts.dryRun), userIds: ids, removedRows: 0 });
    else
      ctx.out.line(
        ids.length === 0
          ? 'no MFA rows of deleted users'
          : `would remove the MFA rows of ${ids.length} deleted user(s): ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ', …' : ''}`,
      );
    return;
  }
  await confirmOrCancel(ctx, `Remove the MFA rows of ${ids.length} user(s) the portal no longer has?`);
  const done = await cleanupOrphans(db.store, ctx);
  if (ctx.out.json) ctx.out.printJson({ dryRun: false, userIds: done.userIds, removedRows: done.rows });
  else ctx.out.success(`removed ${done.rows} row(s) of ${done.userIds.length} deleted user(s)`);
}
