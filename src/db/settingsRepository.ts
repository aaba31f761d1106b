/**
 * portal-mfa's settings table: named JSON documents every client reads the same way — the identity
 * mapping (`identity`), the portal-wide policy (`policy`), the email index's high-water mark.
 */
import type { Db } from './store.js';

export async function readSetting(db: Db, name: string): Promise<string | undefined> {
  const r = await db.knex(db.t.settings).where('name', name).first('value');
  return r ? String(r.value) : undefined;
}

export async function writeSetting(db: Db, name: string, value: string, now: number, by: string | null = null): Promise<void> {
  await db.knex(db.t.settings).insert({ name, value, updated_at: now, updated_by: by }).onConflict('name').merge(['value', 'updated_at', 'updated_by']);
}
