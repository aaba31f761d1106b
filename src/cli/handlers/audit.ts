import { parseLimit, parseSince, readAuditTrail, validateAction } from '../../core/auditTrail.js';
import type { AuditRow } from '../../db/auditRepository.js';
import { mfaDeps, resolveActor } from '../actor.js';
import type { CommandContext } from '../context.js';
import { humanTime, isoOrNull } from '../render.js';
import { findTargetUser } from '../targets.js';

interface AuditOptions {
  user?: string;
  org?: string;
  action?: string;
  since?: string;
  limit?: string;
}


function eventJson(r: AuditRow) {
  return {
    id: Number(r.id),
    time: isoOrNull(Number(r.occurred_at)),
    actor: r.actor_email,
    target: r.target_email,
    organisation: r.organisation_slug,
    action: r.action,
    outcome: r.outcome,
    ticket: r.ticket,
    reason: r.reason,
    host: r.host,
    osUser: r.os_user,
    detail: r.detail ? JSON.parse(r.detail) : null,
  };
}

export async function audit(ctx: CommandContext, opts: AuditOptions): Promise<void> {
  const limit = parseLimit(opts.limit);
  const since = opts.since !== undefined ? parseSince(opts.since, ctx.clock()) : undefined;
  const action = opts.action !== undefined ? validateAction(opts.action) : undefined;
  const deps = await mfaDeps(ctx);
  const actor = await resolveActor(ctx, deps, { action: 'audit.read' });
  const user = opts.user !== undefined ? await findTargetUser(deps, opts.user) : undefined;
  const rows = await readAuditTrail(deps, actor.user, { user, orgSlug: opts.org, action, since, limit });
  if (ctx.out.json) {
    for (const r of rows) ctx.out.printJsonLine(eventJson(r));
    return;
  }
  if (rows.length === 0) {
    ctx.out.info('no audit events match');
    return;
  }
  ctx.out.table(
    [
      { header: 'time', value: (r: AuditRow) => humanTime(Number(r.occurred_at)) },
      { header: 'actor', value: (r) => r.actor_email ?? `(${r.os_user}@${r.host})` },
      { header: 'target', value: (r) => r.target_email ?? '-' },
      { header: 'org', value: (r) => r.organisation_slug ?? '-' },
      { header: 'action', value: (r) => r.action },
      { header: 'outcome', value: (r) => r.outcome, color: (v, s) => (v === 'success' ? s.green(v) : s.red(v)) },
      { header: 'ticket', value: (r) => r.ticket ?? '-' },
      { header: 'reason', value: (r) => r.reason ?? '-' },
      { header: 'from', value: (r) => `${r.os_user}@${r.host}` },
    ],
    rows,
  );
}
