import { recordAudit } from '../../core/audit.js';
import { authorise } from '../../core/authorise.js';
import { notFound, usageError } from '../../core/errors.js';
import { listDevices } from '../../core/trustedDevices.js';
import { party } from '../../core/verification.js';
import { findTrustedDevicesByIds, revokeTrustedDevices, type TrustedDeviceRow } from '../../db/trustedDeviceRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import { findUserById, type UserRow } from '../../db/userRepository.js';
import { dbKey, mfaDeps, resolveActor } from '../actor.js';
import { confirmOrCancel } from '../confirm.js';
import type { CommandContext } from '../context.js';
import { LocalStore } from '../localStore.js';
import { humanTime, isoOrNull } from '../render.js';
import { findTargetUser, organisationPicker } from '../targets.js';


function deviceState(d: TrustedDeviceRow, now: number): 'active' | 'expired' | 'revoked' {
  if (d.revoked_at !== null) return 'revoked';
  return d.expires_at > now ? 'active' : 'expired';
}

function deviceJson(d: TrustedDeviceRow, now: number) {
  return {
    id: d.id,
    label: d.label,
    state: deviceState(d, now),
    createdAt: isoOrNull(d.created_at),
    lastUsedAt: isoOrNull(d.last_used_at),
    expiresAt: isoOrNull(d.expires_at),
    revokedAt: isoOrNull(d.revoked_at),
  };
}

export async function list(ctx: CommandContext, opts: { user?: string; org?: string; all?: boolean }): Promise<void> {
  const deps = await mfaDeps(ctx);
  const actor = await resolveActor(ctx, deps, { action: 'device.list' });
  const target = opts.user !== undefined ? await findTargetUser(deps, opts.user) : actor.user;
  await authorise(deps, actor.user, target, 'device.list', { orgSlug: opts.org, pickOrganisation: organisationPicker(ctx) });
  const rows = await listDevices(deps, target, Boolean(opts.all));
  const now = deps.clock();
  if (ctx.out.json) {
    ctx.out.printJson({ email: target.email, devices: rows.map((d) => deviceJson(d, now)) });
    return;
  }
  if (rows.length === 0) {
    ctx.out.info(`no ${opts.all ? '' : 'active '}trusted devices for ${target.email}`);
    return;
  }
  ctx.out.table(
    [
      { header: 'id', value: (d: TrustedDeviceRow) => String(d.id) },
      { header: 'label', value: (d) => d.label },
      { header: 'state', value: (d) => deviceState(d, now), color: (v, s) => (v === 'active' ? s.green(v) : s.dim(v)) },
      { header: 'created', value: (d) => humanTime(d.created_at) },
      { header: 'last used', value: (d) => humanTime(d.last_used_at) },
      { header: 'expires', value: (d) => humanTime(d.expires_at) },
    ],
    rows,
  );
}

function parseIds(raw: string[]): number[] {
  return raw.map((r) => {
    if (!/^\d{1,12}$/.test(r.trim())) throw usageError(`not a device id: ${JSON.stringify(r.slice(0, 30))}`, { hint: 'ids are the numbers devices list shows' });
    return Number(r.trim());
  });
}

export async function revoke(ctx: CommandContext, opts: { all?: boolean; user?: string; org?: string }, args: string[]): Promise<void> {
  if (opts.all && args.length > 0) throw usageError('give device ids or --all, not both');
  if (!opts.all && args.length === 0) throw usageError('name the devices to revoke', { hint: 'devices revoke ID… or devices revoke --all' });
  if (!opts.all && opts.user !== undefined) throw usageError('--user goes with --all; ids already name their user');
  const ids = opts.all ? [] : parseIds(args);
  const deps = await mfaDeps(ctx);
  const actor = await resolveActor(ctx, deps, { action: 'device.revoke', sensitive: true });

  // work out whose devices these are and check the actor may act on each owner first
  const plan: { owner: UserRow; ids?: number[]; organisation: { id: number; slug: string } | null }[] = [];
  if (opts.all) {
    const owner = opts.user !== undefined ? await findTargetUser(deps, opts.user) : actor.user;
    const auth = await authorise(deps, actor.user, owner, 'device.revoke', { orgSlug: opts.org, pickOrganisation: organisationPicker(ctx) });
    plan.push({ owner, organisation: auth.organisation });
  } else {
    const rows = await findTrustedDevicesByIds(deps.knex, ids);
    const missing = ids.filter((id) => !rows.some((r) => r.id === id));
    if (missing.length > 0) throw notFound(`no trusted device ${missing.join(', ')}`);
    for (const ownerId of [...new Set(rows.map((r) => r.user_id))]) {
      const owner = (await findUserById(deps.knex, ownerId))!;
      const auth = await authorise(deps, actor.user, owner, 'device.revoke', { orgSlug: opts.org, pickOrganisation: organisationPicker(ctx) });
      plan.push({ owner, ids: rows.filter((r) => r.user_id === ownerId).map((r) => r.id), organisation: auth.organisation });
    }
  }
  const others = plan.filter((p) => p.owner.id !== actor.user.id).map((p) => p.owner.email);
  if (others.length > 0) await confirmOrCancel(ctx, `Revoke trusted devices of ${others.join(', ')}?`);

  const now = deps.clock();
  const revoked = await withWriteTransaction(deps.knex, async (trx) => {
    let n = 0;
    for (const p of plan) {
      const count = await revokeTrustedDevices(trx, p.owner.id, now, p.ids);
      n += count;
      await recordAudit(trx, deps, {
        action: 'device.revoke',
        outcome: 'success',
        actor: party(actor.user),
        target: party(p.owner),
        organisation: p.organisation,
        detail: { deviceIds: p.ids ?? 'all', revoked: count },
      });
    }
    return n;
  });
  const store = new LocalStore(ctx.env);
  for (const p of plan) {
    const local = store.getDevice(dbKey(ctx), p.owner.email);
    if (local && (p.ids === undefined || p.ids.includes(local.deviceId))) store.clearDevice(dbKey(ctx), p.owner.email);
  }
  if (ctx.out.json) ctx.out.printJson({ revoked, users: plan.map((p) => p.owner.email) });
  else ctx.out.success(`revoked ${revoked} trusted device(s)`);
}
