import { cancelled, usageError } from '../../core/errors.js';
import type { DeviceView } from '../../core/devices.js';
import { validateTicket } from '../../core/disable.js';
import { dbKey, portal, reauthPassword, resolveActor } from '../actor.js';
import type { ListOptions, RevokeOptions } from '../commands/devices.js';
import { confirmOrCancel, requireConfirmable } from '../confirm.js';
import type { CommandContext } from '../context.js';
import { LocalStore } from '../localStore.js';
import { humanTime, isoOrNull } from '../render.js';
import { organisationPicker } from '../targets.js';

function deviceJson(d: DeviceView) {
  return {
    id: d.id,
    label: d.label,
    state: d.state,
    thisMachine: d.thisMachine,
    createdAt: isoOrNull(d.createdAt),
    lastUsedAt: isoOrNull(d.lastUsedAt),
    expiresAt: isoOrNull(d.expiresAt),
    revokedAt: isoOrNull(d.revokedAt),
  };
}

export async function list(ctx: CommandContext, opts: ListOptions): Promise<void> {
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'device.list',
    precheck: { target: { targetEmail: opts.user, orgSlug: opts.org, permission: 'view', action: 'device.list', canPick: ctx.io.canPrompt } },
  });
  const store = new LocalStore(ctx.env);
  const whose = opts.user ?? actor.user.email;
  const { email, devices } = await mfa.listDevices(actor, {
    targetEmail: opts.user,
    orgSlug: opts.org,
    all: opts.all,
    machineToken: store.getDevice(dbKey(ctx), whose.trim().toLowerCase())?.token,
    pickOrganisation: organisationPicker(ctx),
  });
  if (ctx.out.json) {
    ctx.out.printJson({ email, devices: devices.map(deviceJson) });
    return;
  }
  if (devices.length === 0) {
    ctx.out.info(`no ${opts.all ? '' : 'active '}trusted devices for ${email}`);
    return;
  }
  ctx.out.table(
    [
      { header: 'id', value: (d: DeviceView) => `${d.id}${d.thisMachine ? ' *' : ''}` },
      { header: 'label', value: (d) => d.label },
      { header: 'state', value: (d) => d.state, color: (v, s) => (v === 'active' ? s.green(v) : s.dim(v)) },
      { header: 'created', value: (d) => humanTime(d.createdAt) },
      { header: 'last used', value: (d) => humanTime(d.lastUsedAt) },
      { header: 'expires', value: (d) => humanTime(d.expiresAt) },
    ],
    devices,
  );
  if (devices.some((d) => d.thisMachine)) ctx.out.info('* this machine');
}

/** `args`: the device ids, whole numbers (commander parsed them: src/cli/commands/devices.ts). */
export async function revoke(ctx: CommandContext, opts: RevokeOptions, args: number[]): Promise<void> {
  if (opts.all && args.length > 0) throw usageError('give device ids or --all, not both');
  if (!opts.all && args.length === 0) throw usageError('name the devices to revoke', { hint: 'devices revoke ID… or devices revoke --all' });
  if (!opts.all && opts.user !== undefined) throw usageError('--user goes with --all; ids already name their user');
  const ids = opts.all ? undefined : args;
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'device.revoke',
    // ids name their owners, who are authorised one by one; --all names one user
    precheck: opts.all
      ? {
          target: {
            targetEmail: opts.user,
            orgSlug: opts.org,
            permission: 'revoke-devices',
            action: 'device.revoke',
            ticket: validateTicket(opts.ticket),
            canPick: ctx.io.canPrompt,
          },
        }
      : undefined,
  });
  const password = opts.dryRun ? undefined : await reauthPassword(ctx, mfa, actor);
  if (!opts.dryRun && opts.user !== undefined && opts.user.trim().toLowerCase() !== actor.user.email) requireConfirmable(ctx);
  const result = await mfa.revokeDevices(actor, {
    ids,
    targetEmail: opts.user,
    orgSlug: opts.org,
    ticket: opts.ticket,
    reason: opts.reason,
    password,
    dryRun: opts.dryRun,
    pickOrganisation: organisationPicker(ctx),
    confirm: async (owners) => {
      await confirmOrCancel(ctx, `Revoke trusted devices of ${owners.join(', ')}?`);
      return true;
    },
  });
  if (result.kind === 'cancelled') throw cancelled('cancelled; nothing was changed');
  if (result.kind === 'dry-run') {
    if (ctx.out.json) ctx.out.printJson({ dryRun: true, users: result.users, deviceIds: result.deviceIds });
    else
      ctx.out.line(
        `dry run: would revoke ${result.deviceIds === 'all' ? 'every trusted device' : `device(s) ${result.deviceIds.join(', ')}`} of ${result.users.join(', ')}; nothing was changed`,
      );
    return;
  }
  const store = new LocalStore(ctx.env);
  for (const email of result.users) {
    const local = store.getDevice(dbKey(ctx), email);
    if (local && (result.deviceIds === 'all' || result.deviceIds.includes(local.deviceId))) store.clearDevice(dbKey(ctx), email);
  }
  if (ctx.out.json) ctx.out.printJson({ revoked: result.revoked, users: result.users });
  else ctx.out.success(`revoked ${result.revoked} trusted device(s)`);
}
