import type { Knex } from 'knex';
import type {} from './tables.js';

export interface SessionRow {
  id: number;
  user_id: number;
  expires_at: number;
  /** 'access-code': opened with a temporary access code; enrol or replace first */
  restriction: string | null;
}

export async function insertSession(
  trx: Knex | Knex.Transaction,
  row: { user_id: number; token_hash: string; created_at: number; expires_at: number; host: string; os_user: string; restriction: string | null },
): Promise<number> {
  await trx('cli_sessions').insert({ ...row, ended_at: null });
  const r = await trx('cli_sessions').where('token_hash', row.token_hash).first('id');
  return Number(r!.id);
}

/** A session that is neither ended nor expired — expiry checked by the database. */
export async function findValidSession(knex: Knex, tokenHash: string, now: number): Promise<SessionRow | undefined> {
  const r = await knex('cli_sessions')
    .where('token_hash', tokenHash)
    .whereNull('ended_at')
    .andWhere('expires_at', '>', now)
    .first('id', 'user_id', 'expires_at', 'restriction');
  return r ? { id: Number(r.id), user_id: Number(r.user_id), expires_at: Number(r.expires_at), restriction: r.restriction ?? null } : undefined;
}

export async function endSession(knex: Knex | Knex.Transaction, tokenHash: string, now: number): Promise<boolean> {
  return Number(await knex('cli_sessions').where('token_hash', tokenHash).whereNull('ended_at').update({ ended_at: now })) > 0;
}

/** End the user's sessions, except one (the session doing the change keeps working). */
export async function endSessionsOfUser(trx: Knex | Knex.Transaction, userId: number, now: number, exceptId?: number): Promise<number> {
  const q = trx('cli_sessions').where('user_id', userId).whereNull('ended_at');
  if (exceptId !== undefined) q.whereNot('id', exceptId);
  return Number(await q.update({ ended_at: now }));
}

/**
 * Enrolled or replaced: the restriction of the session that did it is lifted; the user's other
 * restricted sessions (opened with the same access code, perhaps by someone else) end.
 */
export async function liftSessionRestriction(trx: Knex.Transaction, userId: number, sessionId: number | null, now: number): Promise<void> {
  if (sessionId !== null) await trx('cli_sessions').where({ id: sessionId, user_id: userId }).update({ restriction: null });
  await endRestrictedSessions(trx, userId, now);
}

/** End the user's sessions opened with an access code (the code was revoked or replaced). */
export async function endRestrictedSessions(trx: Knex.Transaction, userId: number, now: number): Promise<number> {
  return Number(await trx('cli_sessions').where('user_id', userId).whereNotNull('restriction').whereNull('ended_at').update({ ended_at: now }));
}
