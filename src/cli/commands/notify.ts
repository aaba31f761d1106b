import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { registerNotifyList } from './notify/list.js';
import { registerNotifySend } from './notify/send.js';

/** `notify`: the notification outbox: list it, send what is due. */
export function registerNotify(program: CommandUnknownOpts, act: Act): void {
  const notify = program.command('notify').description('the notification outbox: the mails that tell users about changes to their MFA');
  registerNotifyList(notify, act);
  registerNotifySend(notify, act);
}
