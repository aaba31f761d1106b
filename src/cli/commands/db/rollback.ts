import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import { confirmOrCancel } from '../../confirm.js';
import type { CommandContext } from '../../context.js';
import { withExamples } from '../examples.js';
import { dryRunOption, type OptionsOf } from '../flags.js';

const define = (db: CommandUnknownOpts) =>
  db
    .command('rollback')
    .description('undo the last batch of migrations (refuses to drop data without --force; needs --yes without a terminal)')
    .option('--all', 'undo every migration (drops all portal-mfa tables)')
    .addOption(dryRunOption('say which migrations would be undone and which tables (with their rows) dropped; change nothing'))
    .option('--force', 'drop tables even though they hold rows (the audit trail included)');
type RollbackOptions = OptionsOf<typeof define>;

export function registerDbRollback(db: CommandUnknownOpts, act: Act): void {
  withExamples(define(db), ['portal-mfa db rollback', 'portal-mfa db rollback --all --yes']).action(act(rollback));
}

async function rollback(ctx: CommandContext, opts: RollbackOptions): Promise<void> {
  const { describeTables, rollbackSchema } = await import('../../../core/usecases/schema.js');
  const db = await ctx.database({ checkSchema: false });
  const result = await rollbackSchema(db, ctx, {
    all: Boolean(opts.all),
    dryRun: Boolean(opts.dryRun),
    force: Boolean(opts.force),
    confirm: async (plan) => {
      await confirmOrCancel(ctx, `Roll back ${plan.migrations.length} migration(s)${plan.tables.length ? `, dropping ${describeTables(plan.tables)}` : ''}?`);
      return true;
    },
  });
  if (result.kind === 'cancelled') return;
  if (result.kind === 'dry-run') {
    if (ctx.out.json) {
      ctx.out.printJson({
        database: result.database,
        dryRun: true,
        wouldRollBack: result.wouldRollBack,
        tables: result.tables,
        needsForce: result.needsForce,
      });
      return;
    }
    if (result.wouldRollBack.length === 0) ctx.out.line('nothing to roll back');
    for (const name of result.wouldRollBack) ctx.out.line(`would roll back ${name}`);
    if (result.tables.length > 0) ctx.out.line(`would drop or alter: ${describeTables(result.tables)}`);
    if (result.needsForce) ctx.out.line('tables hold rows: the rollback needs --force');
    ctx.out.line('dry run: nothing was changed');
    return;
  }
  if (ctx.out.json) {
    ctx.out.printJson({ database: result.database, rolledBack: result.rolledBack });
    return;
  }
  if (result.rolledBack.length === 0) ctx.out.success('nothing to roll back');
  for (const name of result.rolledBack) ctx.out.line(`rolled back ${name}`);
}
