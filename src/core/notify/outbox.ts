// PLACEHOLDER on main until the notifications branch lands (same API).
import type { Knex } from 'knex';
import type { NotificationEvent } from './events.js';

export interface NotifyDeps {
  clock: () => number;
  settings: { issuer: string };
  origin: { host: string; osUser: string };
  queuedNotifications?: number[];
}

export async function queueNotification(_db: Knex | Knex.Transaction, _deps: NotifyDeps, _to: { id: number; email: string }, _event: NotificationEvent): Promise<void> {}
