import type { Knex } from 'knex';
import type {} from './tables.js';

export interface RecoveryCodeRow {
  id: number;
  code_hash: string;
}

export async function countUnusedRecoveryCodes(knex: Knex, userId: number): Promise<number> {
  const r = await knex('recovery_codes').where('user_id', userId).whereNull('used_at').count({ n: '*' }).first();
  return Number(r?.n ?? 0);
}

export async function unusedRecoveryCodes(knex: Knex, userId: number): Promise<RecoveryCodeRow[]> {
  const rows = await knex('recovery_codes').where('user_id', userId).whereNull('used_at').orderBy('id').select('id', 'code_hash');
  return rows.map((r) => ({ id: Number(r.id), code_hash: String(r.code_hash) }));
}

export async function replaceRecoveryCodes(trx: Knex.Transaction, userId: number, hashes: string[], now: number): Promise<void> {
  await trx('recovery_codes').where('user_id', userId).delete();
  await trx('recovery_codes').insert(hashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: now, used_at: null })));
}

/** Use a code at most once: conditional on it still being unused. */
export async function markRecoveryCodeUsed(trx: Knex | Knex.Transaction, id: number, now: number): Promise<boolean> {
  return Number(await trx('recovery_codes').where('id', id).whereNull('used_at').update({ used_at: now })) === 1;
}

export async function deleteRecoveryCodesOfUser(trx: Knex.Transaction, userId: number): Promise<number> {
  return Number(await trx('recovery_codes').where('user_id', userId).delete());
}
