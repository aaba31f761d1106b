import type { UserId } from '../core/domain.js';
import type { Db } from './store.js';
import { endRestrictedSessions } from './sessionRepository.js';
import type { AccessCodeTable } from './tables.js';

export type AccessCodeRow = Omit<AccessCodeTable, 'issued_by_user_id'>;

function toAccessCode(r: AccessCodeTable): AccessCodeRow {
  return {
    id: Number(r.id),
    user_id: String(r.user_id),
    code_hash: String(r.code_hash),
    created_at: Number(r.created_at),
    expires_at: Number(r.expires_at),
    uses_left: Number(r.uses_left),
    failed_attempts: Number(r.failed_attempts),
    issued_by_email: (r.issued_by_email as string | null) ?? null,
    ticket: (r.ticket as string | null) ?? null,
    revoked_at: r.revoked_at === null || r.revoked_at === undefined ? null : Number(r.revoked_at),
  };
}

/** The user's live code (not revoked, not expired, uses left — checked by the database). */
export async function liveAccessCode(db: Db, userId: UserId, now: number): Promise<AccessCodeRow | undefined> {
  const r = await db
    .knex(db.t.access_codes)
    .where('user_id', userId)
    .whereNull('revoked_at')
    .andWhere('expires_at', '>', now)
    .andWhere('uses_left', '>', 0)
    .first();
  return r ? toAccessCode(r) : undefined;
}

/** One live code per user: the new one replaces whatever was there, in the caller's transaction. */
export async function replaceAccessCode(
  db: Db,
  row: {
    user_id: string;
    code_hash: string;
    created_at: number;
    expires_at: number;
    uses_left: number;
    issued_by_user_id: string;
    issued_by_email: string;
    ticket: string | null;
  },
): Promise<void> {
  await db.knex(db.t.access_codes).where('user_id', row.user_id).delete();
  await db.knex(db.t.access_codes).insert({ ...row, failed_attempts: 0, revoked_at: null });
  await endRestrictedSessions(db, row.user_id, row.created_at);
}

/** Use one unit of the code, only while it is still live: of N parallel uses of the last unit, one wins. */
export async function consumeAccessCode(db: Db, id: number, now: number): Promise<boolean> {
  const changed = await db
    .knex(db.t.access_codes)
    .where('id', id)
    .whereNull('revoked_at')
    .andWhere('expires_at', '>', now)
    .andWhere('uses_left', '>', 0)
    .decrement('uses_left', 1);
  return Number(changed) === 1;
}

export async function countAccessCodeFailure(db: Db, id: number): Promise<number> {
  await db.knex(db.t.access_codes).where('id', id).increment('failed_attempts', 1);
  const r = await db.knex(db.t.access_codes).where('id', id).first('failed_attempts');
  return Number(r?.failed_attempts ?? 0);
}

export async function revokeAccessCodes(db: Db, userId: UserId, now: number): Promise<number> {
  // sessions opened with the code end with it
  await endRestrictedSessions(db, userId, now);
  return Number(
    await db
      .knex(db.t.access_codes)
      .where('user_id', userId)
      .whereNull('revoked_at')
      .andWhere('expires_at', '>', now)
      .andWhere('uses_left', '>', 0)
      .update({ revoked_at: now }),
  );
}
