import type { Db } from '../../db/store.js';
import { insertNotification, insertNotifications, type NewNotificationRow } from '../../db/notificationRepository.js';
import { renderNotification, type NotificationEvent } from './events.js';

export interface NotifyDeps {
  clock: () => number;
  settings: { issuer: string };
  origin: { host: string; osUser: string };
  /** when present, the id of every notice queued is pushed here (the CLI delivers them after the command) */
  queuedNotifications?: number[];
}

/**
 * Insert one pending row in the caller's transaction (db is a Knex or Knex.Transaction); pushes the new
 * id to deps.queuedNotifications when present.
 *
 * Written in the same transaction as the change it reports (SPEC §7): a change never commits without
 * its notice, and a rolled-back change leaves no notice. The text is rendered now, so the row is
 * complete for any mailer (portal-mfa's or the portal's own) and says when the change happened.
 */
export async function queueNotification(db: Db, deps: NotifyDeps, to: { id: string; email: string }, event: NotificationEvent): Promise<void> {
  const id = await insertNotification(db, noticeRow(deps, deps.clock(), to, event));
  // Known only after commit: if the transaction rolls back the id no longer exists, and delivering
  // it finds nothing to claim, which is harmless.
  deps.queuedNotifications?.push(id);
}

/**
 * queueNotification for many users at once (one notice each, bulk commands): one multi-row INSERT
 * in the caller's transaction, the ids pushed to deps.queuedNotifications in the given order.
 */
export async function queueNotifications(db: Db, deps: NotifyDeps, notices: { to: { id: string; email: string }; event: NotificationEvent }[]): Promise<void> {
  if (notices.length === 0) return;
  const at = deps.clock();
  const ids = await insertNotifications(
    db,
    notices.map(({ to, event }) => noticeRow(deps, at, to, event)),
  );
  if (deps.queuedNotifications) {
    for (const n of notices) {
      const id = ids.get(n.to.id);
      if (id !== undefined) deps.queuedNotifications.push(id);
    }
  }
}

/** The outbox row of one notice: rendered now, due now. */
function noticeRow(deps: NotifyDeps, at: number, to: { id: string; email: string }, event: NotificationEvent): NewNotificationRow {
  const { subject, text } = renderNotification(event, { issuer: deps.settings.issuer, to: to.email, at, host: deps.origin.host });
  return { user_id: to.id, email: to.email, event: event.kind, subject: subject.slice(0, 255), body: text, created_at: at, next_attempt_at: at };
}
