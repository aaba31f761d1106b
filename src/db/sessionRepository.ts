import type { UserId } from '../core/domain.js';
import type { Db } from './store.js';
import type {} from './tables.js';

export interface SessionRow {
  id: number;
  user_id: string;
  expires_at: number;
  /** 'access-code': opened with a temporary access code; enrol or replace first */
  restriction: string | null;
}

export async function insertSession(
  db: Db,
  row: { user_id: string; token_hash: string; created_at: number; expires_at: number; host: string; os_user: string; restriction: string | null },
): Promise<number> {
  await db.knex(db.t.sessions).insert({ ...row, ended_at: null });
  const r = await db.knex(db.t.sessions).where('token_hash', row.token_hash).first('id');
  return Number(r!.id);
}

/** A session that is neither ended nor expired — expiry checked by the database. */
export async function findValidSession(db: Db, tokenHash: string, now: number): Promise<SessionRow | undefined> {
  const r = await db
    .knex(db.t.sessions)
    .where('token_hash', tokenHash)
    .whereNull('ended_at')
    .andWhere('expires_at', '>', now)
    .first('id', 'user_id', 'expires_at', 'restriction');
  return r ? { id: Number(r.id), user_id: String(r.user_id), expires_at: Number(r.expires_at), restriction: r.restriction ?? null } : undefined;
}

export async function endSession(db: Db, tokenHash: string, now: number): Promise<boolean> {
  return Number(await db.knex(db.t.sessions).where('token_hash', tokenHash).whereNull('ended_at').update({ ended_at: now })) > 0;
}

/** End the user's sessions, except one (the session doing the change keeps working). */
export async function endSessionsOfUser(db: Db, userId: UserId, now: number, exceptId?: number): Promise<number> {
  const q = db.knex(db.t.sessions).where('user_id', userId).whereNull('ended_at');
  if (exceptId !== undefined) q.whereNot('id', exceptId);
  return Number(await q.update({ ended_at: now }));
}

/**
 * Enrolled or replaced: the restriction of the session that did it is lifted; the user's other
 * restricted sessions (opened with the same access code, perhaps by someone else) end.
 */
export async function liftSessionRestriction(db: Db, userId: UserId, sessionId: number | null, now: number): Promise<void> {
  if (sessionId !== null) await db.knex(db.t.sessions).where({ id: sessionId, user_id: userId }).update({ restriction: null });
  await endRestrictedSessions(db, userId, now);
}

/** End the user's sessions opened with an access code (the code was revoked or replaced). */
export async function endRestrictedSessions(db: Db, userId: UserId, now: number): Promise<number> {
  return Number(await db.knex(db.t.sessions).where('user_id', userId).whereNotNull('restriction').whereNull('ended_at').update({ ended_at: now }));
}
