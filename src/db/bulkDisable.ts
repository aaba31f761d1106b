import type { Knex } from 'knex';
import { isSqlite } from './transaction.js';
import type { UserRow } from './userRepository.js';

/**
 * Set-based reads and writes of the bulk `org disable-mfa` (src/core/organisations.ts): one
 * statement per table for a chunk of users instead of one per user. The per-user decisions are
 * the core's; these only fetch what it decides on and remove what it decided.
 */

/** What the bulk decides on, for the users a chunk of (folded) emails names. */
export interface BulkTargets {
  /** by (folded, exact) email */
  users: Map<string, UserRow>;
  /** ids of those users who are members of the organisation */
  members: Set<number>;
  /** ids of those users who are an admin of any organisation */
  admins: Set<number>;
  /** ids of those users with an active or pending credential */
  withMfa: Set<number>;
}

export async function findBulkTargets(knex: Knex, organisationId: number, emails: string[]): Promise<BulkTargets> {
  const users = new Map<string, UserRow>();
  const members = new Set<number>();
  const admins = new Set<number>();
  const withMfa = new Set<number>();
  if (emails.length === 0) return { users, members, admins, withMfa };
  // users.email has a binary collation (migration email_nfc) and is stored folded: IN compares exactly
  for (const r of await knex('users').whereIn('email', emails).select('id', 'email', 'name', 'password_hash', 'role')) {
    users.set(String(r.email), { ...(r as UserRow), id: Number(r.id) });
  }
  const ids = [...users.values()].map((u) => u.id);
  if (ids.length === 0) return { users, members, admins, withMfa };
  for (const r of await knex('organisation_members')
    .whereIn('user_id', ids)
    .andWhere((w) => w.where('organisation_id', organisationId).orWhere('role', 'admin'))
    .select('user_id', 'organisation_id', 'role')) {
    if (Number(r.organisation_id) === organisationId) members.add(Number(r.user_id));
    if (r.role === 'admin') admins.add(Number(r.user_id));
  }
  for (const r of await knex('mfa_credentials').whereIn('user_id', ids).whereIn('status', ['active', 'pending']).distinct('user_id'))
    withMfa.add(Number(r.user_id));
  return { users, members, admins, withMfa };
}

export interface UserRemoval {
  credentials: number;
  recoveryCodes: number;
  trustedDevices: number;
  sessions: number;
}

/** user_id → COUNT(*) of the rows a query selects (locked on MySQL/MariaDB). */
async function countByUser(trx: Knex.Transaction, q: Knex.QueryBuilder, lock: boolean): Promise<Map<number, number>> {
  q.groupBy('user_id').select('user_id', trx.raw('COUNT(*) as n'));
  const out = new Map<number, number>();
  for (const r of (await (lock ? q.forUpdate() : q)) as { user_id: unknown; n: unknown }[]) out.set(Number(r.user_id), Number(r.n));
  return out;
}

/**
 * Rules 8 and 9 for many users in the caller's transaction: remove the secrets, pending
 * enrolments, recovery codes and trusted devices, and end the CLI sessions, of every user in
 * `userIds` who still has a credential (read under a lock, so of two concurrent removals only one
 * finds it). Returns what was removed per user; users without a credential are absent and untouched.
 */
export async function removeMfaOfUsers(trx: Knex.Transaction, userIds: number[], now: number): Promise<Map<number, UserRemoval>> {
  const removed = new Map<number, UserRemoval>();
  if (userIds.length === 0) return removed;
  // SQLite: the write transaction already holds the database's write lock (withWriteTransaction)
  const lock = !isSqlite(trx);
  const credentials = await countByUser(trx, trx('mfa_credentials').whereIn('user_id', userIds), lock);
  const ids = userIds.filter((id) => (credentials.get(id) ?? 0) > 0);
  if (ids.length === 0) return removed;
  await trx('mfa_credentials').whereIn('user_id', ids).delete();
  const codes = await countByUser(trx, trx('recovery_codes').whereIn('user_id', ids), lock);
  if (codes.size > 0) await trx('recovery_codes').whereIn('user_id', ids).delete();
  const devices = await countByUser(trx, trx('trusted_devices').whereIn('user_id', ids), lock);
  if (devices.size > 0) await trx('trusted_devices').whereIn('user_id', ids).delete();
  const sessions = await countByUser(trx, trx('cli_sessions').whereIn('user_id', ids).whereNull('ended_at'), lock);
  if (sessions.size > 0) await trx('cli_sessions').whereIn('user_id', ids).whereNull('ended_at').update({ ended_at: now });
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
