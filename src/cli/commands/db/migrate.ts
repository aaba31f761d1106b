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
  const { migrateSchema, planSchema } = await import('../../../core/usecases/schema.js');
  if (opts.dryRun) {
    // refuses, as migrate itself would, when a name it needs is taken
    const plan = await planSchema(ctx.target(), () => ctx.database({ checkSchema: false }));
    if (ctx.out.json) {
      ctx.out.printJson({ database: plan.database, dryRun: true, legacyUpgrade: plan.legacyUpgrade, migrations: plan.migrations });
      return;
    }
    if (plan.legacyUpgrade) ctx.out.line("would carry portal-mfa's tables from before the table prefix into the prefixed ones");
    for (const step of plan.migrations) ctx.out.line(`would apply ${step.name}: create ${step.creates.join(', ')}`);
    if (plan.migrations.length === 0) ctx.out.line('schema already up to date');
    ctx.out.line('dry run: nothing was changed');
    return;
  }
  const done = await migrateSchema(await ctx.database({ checkSchema: false, create: true }), ctx);
  if (ctx.out.json) {
    ctx.out.printJson(done);
    return;
  }
  if (done.migrated.length === 0) ctx.out.success(`schema already up to date (${done.database})`);
  else {
    for (const name of done.migrated) ctx.out.line(`applied ${name}`);
    ctx.out.success(`schema up to date (${done.database})`);
  }
}
