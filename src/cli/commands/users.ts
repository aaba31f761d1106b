import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { registerUsersList } from './users/list.js';

/** `users`: the portal-wide user report. */
export function registerUsers(program: CommandUnknownOpts, act: Act): void {
  const users = program.command('users').description('the portal-wide user report (support)');
  registerUsersList(users, act);
}
