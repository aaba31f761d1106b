import { recordAudit } from '../../core/audit.js';
import { wrongState } from '../../core/errors.js';
import { describeTarget } from '../../db/url.js';
import type { RollbackOptions } from '../commands/db.js';
import { confirmOrCancel } from '../confirm.js';
import type { CommandContext } from '../context.js';
import { humanTime, isoOrNull } from '../render.js';

export async function migrate(ctx: CommandContext): Promise<void> {
  const { migrateLatest, migrationState } = await import('../../db/schema.js');
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

export async function rollback(ctx: CommandContext, opts: RollbackOptions): Promise<void> {
  const { rollbackLast, migrationState } = await import('../../db/schema.js');
  const { planRollback } = await import('../../db/rollbackPlan.js');
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

export async function status(ctx: CommandContext): Promise<void> {
  const { migrationState } = await import('../../db/schema.js');
  const { sqliteFileAbsent } = await import('../../db/connect.js');
  const target = ctx.target();
  // a SQLite file that does not exist yet is reported as an empty database, without creating it
  const absent = target.dialect === 'sqlite' && sqliteFileAbsent(target);
  const db = absent ? undefined : await ctx.database({ checkSchema: false });
  const state = db
    ? await migrationState(db.store)
    : {
        applied: [] as { name: string; appliedAt: string | null }[],
        pending: (await import('../../../migrations/index.js')).migrations((await import('../../db/store.js')).ownTables()).map((m) => m.name),
        unknown: [] as string[],
        current: false,
      };
  if (ctx.out.json) {
    ctx.out.printJson({
      database: describeTarget(target),
      dialect: target.dialect,
      // the server of the host list actually used (failover); null for SQLite
      host: db?.failover?.current ?? null,
      current: state.current,
      applied: state.applied.map((a) => ({ ...a, appliedAt: a.appliedAt ? isoOrNull(Date.parse(a.appliedAt)) : null })),
      pending: state.pending,
      unknown: state.unknown,
    });
    return;
  }
  ctx.out.line(`database  ${describeTarget(target)}${absent ? ' (no file yet)' : ''}`);
  if (db?.failover) ctx.out.line(`server    ${db.failover.current}${db.failover.skipped.length ? ` (passed over ${db.failover.skipped.join('; ')})` : ''}`);
  ctx.out.table(
    [
      { header: 'migration', value: (r: { name: string; state: string; at: string }) => r.name },
      { header: 'state', value: (r) => r.state, color: (v, s) => (v === 'applied' ? s.green(v) : s.yellow(v)) },
      { header: 'applied at', value: (r) => r.at },
    ],
    [
      ...state.applied.map((a) => ({
        name: a.name,
        state: state.unknown.includes(a.name) ? 'unknown (newer version)' : 'applied',
        at: a.appliedAt ? humanTime(Date.parse(a.appliedAt)) : '-',
      })),
      ...state.pending.map((p) => ({ name: p, state: 'pending', at: '-' })),
    ],
  );
  if (state.pending.length > 0) ctx.out.info('run: portal-mfa db migrate');
}
