import type { Knex } from 'knex';
import type { PortalUser, Removal, UserId } from '../core/domain.js';
import { findUsersByEmailKeys, membershipFacts } from './identity/reader.js';
import type { Db } from './store.js';

/**
 * Set-based reads and writes of the bulk `org disable-mfa` (src/core/usecases/organisations.ts): a few
 * statements per table for a chunk of users instead of several per user. The per-user decisions
 * are the core's; these only fetch what it decides on and remove what it decided.
 */

/** What the bulk decides on, for the users a chunk of (folded) emails names. */
export interface BulkTargets {
  /** by folded email: the accounts that fold to it (more than one is a conflict the core refuses) */
  users: Map<string, PortalUser[]>;
  /** ids of those users who are members of the organisation */
  members: Set<UserId>;
  /** ids of those users who are an admin of any organisation */
  admins: Set<UserId>;
  /** ids of those users with an active or pending credential */
  withMfa: Set<UserId>;
}

export async function findBulkTargets(db: Db, organisationId: string, emails: string[]): Promise<BulkTargets> {
  const withMfa = new Set<UserId>();
  const users = emails.length === 0 ? new Map<string, PortalUser[]>() : await findUsersByEmailKeys(db, emails);
  const ids = [...users.values()].flat().map((u) => u.id);
  const { members, admins } = await membershipFacts(db, organisationId, ids);
  for (let i = 0; i < ids.length; i += 500) {
    for (const r of await db
      .knex(db.t.credentials)
      .whereIn('user_id', ids.slice(i, i + 500))
      .whereIn('status', ['active', 'pending'])
      .distinct('user_id'))
      withMfa.add(String(r.user_id));
  }
  return { users, members, admins, withMfa };
}

/** user_id → COUNT(*) of the rows a query selects (locked on MySQL/MariaDB). */
async function countByUser(db: Db, q: Knex.QueryBuilder, lock: boolean): Promise<Map<UserId, number>> {
  q.groupBy('user_id').select('user_id', db.knex.raw('COUNT(*) as n'));
  const out = new Map<UserId, number>();
  for (const r of (await (lock ? q.forUpdate() : q)) as { user_id: unknown; n: unknown }[]) out.set(String(r.user_id), Number(r.n));
  return out;
}

/**
 * Rules 8 and 9 for many users in the caller's transaction: remove the secrets, pending
 * enrolments, recovery codes and trusted devices, and end the CLI sessions, of every user in
 * `userIds` who still has a credential (read under a lock, so of two concurrent removals only one
 * finds it). Returns what was removed per user; users without a credential are absent and untouched.
 */
export async function removeMfaOfUsers(db: Db, userIds: UserId[], now: number): Promise<Map<UserId, Removal>> {
  const removed = new Map<UserId, Removal>();
  if (userIds.length === 0) return removed;
  // SQLite: the write transaction already holds the database's write lock (withWriteTransaction)
  const lock = db.dialect !== 'sqlite';
  const credentials = await countByUser(db, db.knex(db.t.credentials).whereIn('user_id', userIds), lock);
  const ids = userIds.filter((id) => (credentials.get(id) ?? 0) > 0);
  if (ids.length === 0) return removed;
  await db.knex(db.t.credentials).whereIn('user_id', ids).delete();
  const codes = await countByUser(db, db.knex(db.t.recovery_codes).whereIn('user_id', ids), lock);
  if (codes.size > 0) await db.knex(db.t.recovery_codes).whereIn('user_id', ids).delete();
  const devices = await countByUser(db, db.knex(db.t.trusted_devices).whereIn('user_id', ids), lock);
  if (devices.size > 0) await db.knex(db.t.trusted_devices).whereIn('user_id', ids).delete();
  const sessions = await countByUser(db, db.knex(db.t.sessions).whereIn('user_id', ids).whereNull('ended_at'), lock);
  if (sessions.size > 0) await db.knex(db.t.sessions).whereIn('user_id', ids).whereNull('ended_at').update({ ended_at: now });
  for (const id of ids) {
    removed.set(id, {
      credentials: credentials.get(id) ?? 0,
      recoveryCodes: codes.get(id) ?? 0,
      trustedDevices: devices.get(id) ?? 0,
      sessions: sessions.get(id) ?? 0,
    });
  }
  return removed;
}
