import type { UserId } from '../core/domain.js';
import type { Db } from './store.js';
import type {} from './tables.js';

export interface RecoveryCodeRow {
  id: number;
  code_hash: string;
}

export async function countUnusedRecoveryCodes(db: Db, userId: UserId): Promise<number> {
  const r = await db.knex(db.t.recovery_codes).where('user_id', userId).whereNull('used_at').count({ n: '*' }).first();
  return Number(r?.n ?? 0);
}

export async function unusedRecoveryCodes(db: Db, userId: UserId): Promise<RecoveryCodeRow[]> {
  const rows = await db.knex(db.t.recovery_codes).where('user_id', userId).whereNull('used_at').orderBy('id').select('id', 'code_hash');
  return rows.map((r) => ({ id: Number(r.id), code_hash: String(r.code_hash) }));
}

export async function replaceRecoveryCodes(db: Db, userId: UserId, hashes: string[], now: number): Promise<void> {
  await db.knex(db.t.recovery_codes).where('user_id', userId).delete();
  await db.knex(db.t.recovery_codes).insert(hashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: now, used_at: null })));
}

/** Use a code at most once: conditional on it still being unused. */
export async function markRecoveryCodeUsed(db: Db, id: number, now: number): Promise<boolean> {
  return Number(await db.knex(db.t.recovery_codes).where('id', id).whereNull('used_at').update({ used_at: now })) === 1;
}
