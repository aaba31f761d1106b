import { Argument, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { cancelled, usageError } from '../../../core/errors.js';
import type { Act } from '../../act.js';
import { confirmOrCancel, requireConfirmable } from '../../confirm.js';
import type { CommandContext } from '../../context.js';
import { LocalStore } from '../../localStore.js';
import { changeOnUserRequest } from '../../targets.js';
import { withExamples } from '../examples.js';
import { dryRunOption, type OptionsOf, orgOption, reasonOption, ticketOption, wholeNumbers } from '../flags.js';

const define = (devices: CommandUnknownOpts) =>
  devices
    .command('revoke')
    .description("revoke trusted devices by id, or --all of a user's")
    .addArgument(new Argument('[ids...]', 'device ids (from devices list)').argParser(wholeNumbers('a device id', 'ids are the numbers devices list shows')))
    .option('--all', 'revoke every device of the user')
    .option('--user <email>', 'with --all: whose devices (default: your own)')
    .addOption(orgOption())
    .addOption(ticketOption('support ticket reference (required for support on another user)'))
    .addOption(reasonOption())
    .addOption(dryRunOption('say what would be revoked, change nothing'));
type RevokeOptions = OptionsOf<typeof define>;

export function registerDevicesRevoke(devices: CommandUnknownOpts, act: Act): void {
  withExamples(define(devices), [
    'portal-mfa devices revoke 12 14                          # by id (from devices list)',
    'portal-mfa devices revoke --all                          # every device of yours',
    'portal-mfa devices revoke --all --user dave@acme.example --org acme --yes',
  ]).action(act(revoke));
}

/** `args`: the device ids, whole numbers (commander parsed them: the argument above). */
async function revoke(ctx: CommandContext, opts: RevokeOptions, args: number[]): Promise<void> {
  const { dbKey, portal, reauthPassword, changeOnUserPrecheck, resolveActor } = await import('../../actor.js');
  if (opts.all && args.length > 0) throw usageError('give device ids or --all, not both');
  if (!opts.all && args.length === 0) throw usageError('name the devices to revoke', { hint: 'devices revoke ID… or devices revoke --all' });
  if (!opts.all && opts.user !== undefined) throw usageError('--user goes with --all; ids already name their user');
  const ids = opts.all ? undefined : args;
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'device.revoke',
    // ids name their owners, who are authorised one by one; --all names one user
    precheck: opts.all ? changeOnUserPrecheck(ctx, opts, 'revoke-devices', 'device.revoke') : undefined,
  });
  const password = opts.dryRun ? undefined : await reauthPassword(ctx, mfa, actor, 'device.revoke');
  if (!opts.dryRun && opts.user !== undefined && opts.user.trim().toLowerCase() !== actor.user.email) requireConfirmable(ctx);
  const result = await mfa.revokeDevices(actor, {
    ids,
    ...changeOnUserRequest(ctx, opts, password),
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
