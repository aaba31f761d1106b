import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { DeviceView } from '../../../core/usecases/devices.js';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { LocalStore } from '../../localStore.js';
import { humanTime, isoOrNull } from '../../render.js';
import { organisationPicker } from '../../targets.js';
import { withExamples } from '../examples.js';
import { type OptionsOf, orgOption } from '../flags.js';

const define = (devices: CommandUnknownOpts) =>
  devices
    .command('list')
    .description('list trusted devices')
    .option('--user <email>', 'whose devices (default: your own)')
    .addOption(orgOption())
    .option('--all', 'include expired and revoked devices');
type ListOptions = OptionsOf<typeof define>;

export function registerDevicesList(devices: CommandUnknownOpts, act: Act): void {
  withExamples(define(devices), [
    'portal-mfa devices list                                  # your trusted devices',
    'portal-mfa devices list --user dave@acme.example --org acme --all',
    'portal-mfa devices list --json',
  ]).action(act(list));
}

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

async function list(ctx: CommandContext, opts: ListOptions): Promise<void> {
  const { dbKey, portal, resolveActor } = await import('../../actor.js');
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
      { header: 'id', value: (d: DeviceView) => `${d.id}${d.thisMachine ? ' *' : ''}`, whole: true },
      { header: 'label', value: (d) => d.label },
      { header: 'state', value: (d) => d.state, color: (v, s) => (v === 'active' ? s.green(v) : s.dim(v)), whole: true },
      { header: 'created', value: (d) => humanTime(d.createdAt), whole: true, drop: 1 },
      { header: 'last used', value: (d) => humanTime(d.lastUsedAt), whole: true },
      { header: 'expires', value: (d) => humanTime(d.expiresAt), whole: true },
    ],
    devices,
  );
  if (devices.some((d) => d.thisMachine)) ctx.out.info('* this machine');
}
