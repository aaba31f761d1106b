import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { withExamples } from '../examples.js';

export function registerDbMigrate(db: CommandUnknownOpts, act: Act): void {
  withExamples(db.command('migrate').description('apply every pending migration'), [
    'portal-mfa db migrate',
    'portal-mfa --db mysql://mfa@db.internal:3306/portal db migrate',
    'portal-mfa --profile prod db migrate',
  ]).action(act(migrate));
}

async function migrate(ctx: CommandContext): Promise<void> {
  const { recordAudit } = await import('../../../core/audit.js');
  const { describeTarget } = await import('../../../db/url.js');
  const { migrateLatest, migrationState } = await import('../../../db/schema.js');
  const db = await ctx.database({ checkSchema: false, create: true });
  const applied = await migrateLatest(db.store);
  if (applied.length > 0) {
    await recordAudit(db.store, ctx, { action: 'db.migrate', outcome: 'success', detail: { migrations: applied } });
  }
  const state = await migrationState(db.store);
  if (ctx.out.json) {
    ctx.out.printJson({ database: describeTarget(db.target), migrated: applied, current: state.current });
    return;
  }
  if (applied.length === 0) ctx.out.success(`schema already up to date (${describeTarget(db.target)})`);
  else {
    for (const name of applied) ctx.out.line(`applied ${name}`);
    ctx.out.success(`schema up to date (${describeTarget(db.target)})`);
  }
}
