import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { registerDevicesList } from './devices/list.js';
import { registerDevicesRevoke } from './devices/revoke.js';

/** `devices`: list and revoke trusted devices. */
export function registerDevices(program: CommandUnknownOpts, act: Act): void {
  const devices = program.command('devices').description('trusted devices (logins that skip the code for 30 days)');
  registerDevicesList(devices, act);
  registerDevicesRevoke(devices, act);
}
