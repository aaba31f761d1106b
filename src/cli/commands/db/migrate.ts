import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { withExamples } from '../examples.js';
import { dryRunOption, type OptionsOf } from '../flags.js';

const define = (db: CommandUnknownOpts) =>
  db
    .command('migrate')
    .description("create or bring up to date portal-mfa's own tables (never a table it does not own)")
    .addOption(dryRunOption('print the tables it would create, change nothing'));
type MigrateOptions = OptionsOf<typeof define>;

export function registerDbMigrate(db: CommandUnknownOpts, act: Act): void {
  withExamples(define(db), [
    'portal-mfa db migrate --dry-run',
    'portal-mfa --db mysql://mfa@db.internal:3306/portal db migrate',
    'portal-mfa --profile prod db migrate',
  ]).action(act(migrate));
}

async function migrate(ctx: CommandContext, opts: MigrateOptions): Promise<void> {
  const { recordAudit } = await import('../../../core/primitives/audit.js');
  const { describeTarget } = await import('../../../db/url.js');
  const { migrateLatest, migrationState, planMigration } = await import('../../../db/schema.js');
  if (opts.dryRun) {
    const target = ctx.target();
    const { sqliteFileAbsent } = await import('../../../db/connect.js');
    if (target.dialect === 'sqlite' && sqliteFileAbsent(target)) {
      // no file yet: everything would be created (and nothing is, not even the file)
      const { migrations } = await import('../../../../migrations/index.js');
      const { ownTables } = await import('../../../db/store.js');
      const steps = migrations(ownTables()).map((m) => ({ name: m.name, creates: m.creates }));
      if (ctx.out.json) ctx.out.printJson({ database: describeTarget(target), dryRun: true, legacyUpgrade: false, migrations: steps });
      else {
        for (const step of steps) ctx.out.line(`would apply ${step.name}: create ${step.creates.join(', ')}`);
        ctx.out.line('dry run: nothing was changed');
      }
      return;
    }
  }
  const db = await ctx.database({ checkSchema: false, create: !opts.dryRun });
  if (opts.dryRun) {
    // refuses, as migrate itself would, when a name it needs is taken
    const plan = await planMigration(db.store);
    if (ctx.out.json) {
      ctx.out.printJson({ database: describeTarget(db.target), dryRun: true, legacyUpgrade: plan.legacyUpgrade, migrations: plan.steps });
      return;
    }
    if (plan.legacyUpgrade) ctx.out.line("would carry portal-mfa's tables from before the table prefix into the prefixed ones");
    for (const step of plan.steps) ctx.out.line(`would apply ${step.name}: create ${step.creates.join(', ')}`);
    if (plan.steps.length === 0) ctx.out.line('schema already up to date');
    ctx.out.line('dry run: nothing was changed');
    return;
  }
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
