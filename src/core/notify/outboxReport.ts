import { listNotifications, type NotificationRow, type NotificationStatus } from '../../db/notificationRepository.js';
import { findUserByEmail } from '../rules/identity.js';
import { requireSupport } from '../rules/authorise.js';
import { admit, type Actor } from '../rules/actor.js';
import type { MfaDeps } from '../deps.js';
import { normaliseEmail } from '../primitives/email.js';
import { notFound, usageError } from '../errors.js';

export type { NotificationRow, NotificationStatus };

/** `notify list`: the outbox, for support only (it names every user who was told about a change). */
export async function listOutbox(
  deps: MfaDeps,
  actor: Actor,
  req: { status?: NotificationStatus; userEmail?: string; limit: number },
): Promise<NotificationRow[]> {
  const email = req.userEmail === undefined ? undefined : normaliseEmail(req.userEmail);
  if (email === null) throw usageError(`not a valid user email: ${JSON.stringify(req.userEmail!.slice(0, 60))}`);
  await admit(deps, actor, 'other');
  await requireSupport(deps, actor, { action: 'notify.list', message: 'only a support representative may list the notification outbox' });
  const user = email === undefined ? undefined : await findUserByEmail(deps.db, email);
  if (email !== undefined && !user) throw notFound(`no user ${email}`, { code: 'user_not_found' });
  return listNotifications(deps.db, { status: req.status, userId: user?.id, limit: req.limit });
}
