/**
 * The API keys of services calling `portal-mfa serve` (`<prefix>service_keys`): only the SHA-256 of
 * a key is stored. Keys are found by that hash; a revoked key is kept (the audit trail names it).
 */
import type { Db } from './store.js';
import type { ServiceKeyTable } from './tables.js';

export type ServiceKeyRow = ServiceKeyTable;

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function row(r: Record<string, unknown>): ServiceKeyRow {
  return {
    id: Number(r.id),
    name: String(r.name),
    key_hash: String(r.key_hash),
    scopes: String(r.scopes),
    created_at: Number(r.created_at),
    created_by: String(r.created_by),
    last_used_at: num(r.last_used_at),
    revoked_at: num(r.revoked_at),
    revoked_by: r.revoked_by === null || r.revoked_by === undefined ? null : String(r.revoked_by),
  };
}

export async function insertServiceKey(db: Db, k: Omit<ServiceKeyRow, 'id' | 'last_used_at' | 'revoked_at' | 'revoked_by'>): Promise<number> {
  await db.knex(db.t.service_keys).insert({ ...k, last_used_at: null, revoked_at: null, revoked_by: null });
  const r = await db.knex(db.t.service_keys).where('key_hash', k.key_hash).first('id');
  return Number(r!.id);
}

export async function findServiceKeyByName(db: Db, name: string): Promise<ServiceKeyRow | undefined> {
  const r = await db.knex(db.t.service_keys).where('name', name).first('*');
  return r ? row(r) : undefined;
}

/** A key that is not revoked, by the hash of its text. */
export async function findLiveServiceKey(db: Db, keyHash: string): Promise<ServiceKeyRow | undefined> {
  const r = await db.knex(db.t.service_keys).where('key_hash', keyHash).whereNull('revoked_at').first('*');
  return r ? row(r) : undefined;
}

export async function listServiceKeyRows(db: Db): Promise<ServiceKeyRow[]> {
  return (await db.knex(db.t.service_keys).orderBy('id').select('*')).map(row);
}

export async function revokeServiceKeyRow(db: Db, id: number, now: number, by: string): Promise<boolean> {
  return Number(await db.knex(db.t.service_keys).where('id', id).whereNull('revoked_at').update({ revoked_at: now, revoked_by: by })) > 0;
}

/** Last use, written at most once a minute per key (a busy backend must not turn every call into a write). */
export async function touchServiceKey(db: Db, id: number, now: number): Promise<void> {
  await db
    .knex(db.t.service_keys)
    .where('id', id)
    .andWhere((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', now - 60_000))
    .update({ last_used_at: now });
}
