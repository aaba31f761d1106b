import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { wrongState } from '../../../core/errors.js';
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
  const { recordAudit } = await import('../../../core/primitives/audit.js');
  const { describeTarget } = await import('../../../db/url.js');
  const { rollbackLast, migrationState } = await import('../../../db/schema.js');
  const { planRollback } = await import('../../../db/rollbackPlan.js');
  const db = await ctx.database({ checkSchema: false });
  // a schema from a newer portal-mfa is refused (by rollbackLast) before anything is planned
  if ((await migrationState(db.store)).unknown.length > 0) await rollbackLast(db.store, Boolean(opts.all));
  const plan = await planRollback(db.store, Boolean(opts.all));
  const withRows = plan.tables.filter((t) => t.rows > 0);
  const describe = (ts: { name: string; rows: number }[]) => ts.map((t) => `${t.name} (${t.rows} row(s))`).join(', ');
  if (opts.dryRun) {
    if (ctx.out.json) {
      ctx.out.printJson({
        database: describeTarget(db.target),
        dryRun: true,
        wouldRollBack: plan.migrations,
        tables: plan.tables,
        needsForce: withRows.length > 0,
      });
      return;
    }
    if (plan.migrations.length === 0) ctx.out.line('nothing to roll back');
    for (const name of plan.migrations) ctx.out.line(`would roll back ${name}`);
    if (plan.tables.length > 0) ctx.out.line(`would drop or alter: ${describe(plan.tables)}`);
    if (withRows.length > 0) ctx.out.line('tables hold rows: the rollback needs --force');
    ctx.out.line('dry run: nothing was changed');
    return;
  }
  if (withRows.length > 0 && !opts.force) {
    if (await db.store.knex.schema.hasTable(db.store.t.audit_events)) {
      await recordAudit(db.store, ctx, {
        action: 'db.rollback',
        outcome: 'refused',
        reason: 'tables hold rows',
        detail: { migrations: plan.migrations, tables: withRows },
      });
    }
    throw wrongState(`refusing to roll back: it would drop data in ${describe(withRows)}; nothing was changed`, {
      hint: 'see what would go with --dry-run; back up the database, then add --force',
    });
  }
  if (plan.migrations.length > 0) {
    await confirmOrCancel(ctx, `Roll back ${plan.migrations.length} migration(s)${plan.tables.length ? `, dropping ${describe(plan.tables)}` : ''}?`);
  }
  const undone = await rollbackLast(db.store, Boolean(opts.all));
  if (undone.length > 0 && (await db.store.knex.schema.hasTable(db.store.t.audit_events))) {
    await recordAudit(db.store, ctx, { action: 'db.rollback', outcome: 'success', detail: { migrations: undone, forced: Boolean(opts.force) } });
  }
  if (ctx.out.json) {
    ctx.out.printJson({ database: describeTarget(db.target), rolledBack: undone });
    return;
  }
  if (undone.length === 0) ctx.out.success('nothing to roll back');
  for (const name of undone) ctx.out.line(`rolled back ${name}`);
}
