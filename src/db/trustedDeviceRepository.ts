import type { UserId } from '../core/domain.js';
import type { Db } from './store.js';
import type { TrustedDeviceTable } from './tables.js';

export type TrustedDeviceRow = TrustedDeviceTable;

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toTrustedDevice(r: TrustedDeviceTable): TrustedDeviceRow {
  return {
    id: Number(r.id),
    user_id: String(r.user_id),
    token_hash: String(r.token_hash),
    label: String(r.label ?? ''),
    created_at: Number(r.created_at),
    last_used_at: num(r.last_used_at),
    expires_at: Number(r.expires_at),
    revoked_at: num(r.revoked_at),
  };
}

export async function insertTrustedDevice(
  db: Db,
  row: { user_id: string; token_hash: string; label: string; created_at: number; expires_at: number },
): Promise<number> {
  await db.knex(db.t.trusted_devices).insert({ ...row, last_used_at: null, revoked_at: null });
  const r = await db.knex(db.t.trusted_devices).where('token_hash', row.token_hash).first('id');
  return Number(r!.id);
}

export async function findTrustedDeviceByHash(db: Db, tokenHash: string): Promise<TrustedDeviceRow | undefined> {
  const r = await db.knex(db.t.trusted_devices).where('token_hash', tokenHash).first();
  return r ? toTrustedDevice(r) : undefined;
}

/** Touch a device only while it is valid: the expiry is checked by the database, not the client. */
export async function touchValidTrustedDevice(db: Db, id: number, now: number): Promise<boolean> {
  const changed = await db.knex(db.t.trusted_devices).where('id', id).whereNull('revoked_at').andWhere('expires_at', '>', now).update({ last_used_at: now });
  return Number(changed) === 1;
}

export async function listTrustedDevices(db: Db, userId: UserId, opts: { all: boolean; now: number }): Promise<TrustedDeviceRow[]> {
  const q = db.knex(db.t.trusted_devices).where('user_id', userId);
  if (!opts.all) q.whereNull('revoked_at').andWhere('expires_at', '>', opts.now);
  return (await q.orderBy('id')).map(toTrustedDevice);
}

export async function countActiveTrustedDevices(db: Db, userId: UserId, now: number): Promise<number> {
  const r = await db.knex(db.t.trusted_devices).where('user_id', userId).whereNull('revoked_at').andWhere('expires_at', '>', now).count({ n: '*' }).first();
  return Number(r?.n ?? 0);
}

export async function revokeTrustedDevices(db: Db, userId: UserId, now: number, ids?: number[]): Promise<number> {
  const q = db.knex(db.t.trusted_devices).where('user_id', userId).whereNull('revoked_at');
  if (ids) q.whereIn('id', ids);
  return Number(await q.update({ revoked_at: now }));
}

export async function findTrustedDevicesByIds(db: Db, ids: number[]): Promise<TrustedDeviceRow[]> {
  return (await db.knex(db.t.trusted_devices).whereIn('id', ids).select('*')).map(toTrustedDevice);
}
