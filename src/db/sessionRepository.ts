import type { Knex } from 'knex';

export interface SessionRow {
  id: number;
  user_id: number;
  expires_at: number;
  ended_at: number | null;
}

export async function insertSession(
  trx: Knex | Knex.Transaction,
  row: { user_id: number; token_hash: string; created_at: number; expires_at: number; host: string; os_user: string },
): Promise<void> {
  await trx('cli_sessions').insert({ ...row, ended_at: null });
}

/** A session that is neither ended nor expired — expiry checked by the database. */
export async function findValidSession(knex: Knex, tokenHash: string, now: number): Promise<SessionRow | undefined> {
  const r = await knex('cli_sessions').where('token_hash', tokenHash).whereNull('ended_at').andWhere('expires_at', '>', now).first('id', 'user_id', 'expires_at', 'ended_at');
  return r ? { id: Number(r.id), user_id: Number(r.user_id), expires_at: Number(r.expires_at), ended_at: null } : undefined;
}

export async function endSession(knex: Knex, tokenHash: string, now: number): Promise<boolean> {
  return Number(await knex('cli_sessions').where('token_hash', tokenHash).whereNull('ended_at').update({ ended_at: now })) > 0;
}

export async function endSessionsOfUser(trx: Knex | Knex.Transaction, userId: number, now: number): Promise<number> {
  return Number(await trx('cli_sessions').where('user_id', userId).whereNull('ended_at').update({ ended_at: now }));
}
