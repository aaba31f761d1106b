import { recordAudit } from '../../core/audit.js';
import { describeTarget } from '../../db/url.js';
import type { CommandContext } from '../context.js';
import { humanTime, isoOrNull } from '../render.js';


export async function migrate(ctx: CommandContext): Promise<void> {
  const { migrateLatest, migrationState } = await import('../../db/schema.js');
  const db = await ctx.database({ checkSchema: false });
  const applied = await migrateLatest(db.knex);
  if (applied.length > 0) {
    await recordAudit(db.knex, ctx, { action: 'db.migrate', outcome: 'success', detail: { migrations: applied } });
  }
  const state = await migrationState(db.knex);
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

export async function rollback(ctx: CommandContext, opts: { all?: boolean }): Promise<void> {
  const { rollbackLast } = await import('../../db/schema.js');
  const db = await ctx.database({ checkSchema: false });
  const undone = await rollbackLast(db.knex, Boolean(opts.all));
  if (undone.length > 0 && (await db.knex.schema.hasTable('audit_events'))) {
    await recordAudit(db.knex, ctx, { action: 'db.rollback', outcome: 'success', detail: { migrations: undone } });
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
  const db = await ctx.database({ checkSchema: false });
  const state = await migrationState(db.knex);
  if (ctx.out.json) {
    ctx.out.printJson({
      database: describeTarget(db.target),
      dialect: db.dialect,
      current: state.current,
      applied: state.applied.map((a) => ({ ...a, appliedAt: a.appliedAt ? isoOrNull(Date.parse(a.appliedAt)) : null })),
      pending: state.pending,
      unknown: state.unknown,
    });
    return;
  }
  ctx.out.line(`database  ${describeTarget(db.target)}`);
  ctx.out.table(
    [
      { header: 'migration', value: (r: { name: string; state: string; at: string }) => r.name },
      { header: 'state', value: (r) => r.state, color: (v, s) => (v === 'applied' ? s.green(v) : s.yellow(v)) },
      { header: 'applied at', value: (r) => r.at },
    ],
    [
      ...state.applied.map((a) => ({ name: a.name, state: state.unknown.includes(a.name) ? 'unknown (newer version)' : 'applied', at: a.appliedAt ? humanTime(Date.parse(a.appliedAt)) : '-' })),
      ...state.pending.map((p) => ({ name: p, state: 'pending', at: '-' })),
    ],
  );
  if (state.pending.length > 0) ctx.out.info('run: portal-mfa db migrate');
}
