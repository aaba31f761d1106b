import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { commandLine } from '../../invocation.js';
import { humanTime, isoOrNull } from '../../render.js';
import { withExamples } from '../examples.js';

export function registerDbStatus(db: CommandUnknownOpts, act: Act): void {
  withExamples(db.command('status').description('list applied and pending migrations'), ['portal-mfa db status', 'portal-mfa db status --json']).action(
    act(status),
  );
}

async function status(ctx: CommandContext): Promise<void> {
  const { schemaStatus } = await import('../../../core/usecases/schema.js');
  const state = await schemaStatus(ctx.target(), () => ctx.database({ checkSchema: false }));
  if (ctx.out.json) {
    ctx.out.printJson({
      database: state.database,
      dialect: state.dialect,
      // the server of the host list actually used (failover); null for SQLite
      host: state.server?.current ?? null,
      current: state.current,
      applied: state.applied.map((a) => ({ ...a, appliedAt: a.appliedAt ? isoOrNull(Date.parse(a.appliedAt)) : null })),
      pending: state.pending,
      unknown: state.unknown,
    });
    return;
  }
  ctx.out.line(`database  ${state.database}${state.absent ? ' (no file yet)' : ''}`);
  if (state.server) ctx.out.line(`server    ${state.server.current}${state.server.skipped.length ? ` (passed over ${state.server.skipped.join('; ')})` : ''}`);
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
  if (state.pending.length > 0) ctx.out.info(`run: ${commandLine(ctx, 'db migrate', { as: false })}`);
}
