import type { Db } from './store.js';

/**
 * A named lock row with an expiry: acquired by inserting (the primary key makes a second insert
 * fail), or by taking over an expired one with a conditional update. Refreshed while held.
 */
export async function acquireLock(db: Db, name: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
  try {
    await db.knex(db.t.maintenance_locks).insert({ name, holder, acquired_at: now, expires_at: now + ttlMs });
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (!/ER_DUP_ENTRY|SQLITE_CONSTRAINT/.test(code)) throw e;
  }
  const taken = await db
    .knex(db.t.maintenance_locks)
    .where('name', name)
    .andWhere('expires_at', '<=', now)
    .update({ holder, acquired_at: now, expires_at: now + ttlMs });
  return Number(taken) === 1;
}

export async function refreshLock(db: Db, name: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
  return (
    Number(
      await db
        .knex(db.t.maintenance_locks)
        .where({ name, holder })
        .update({ expires_at: now + ttlMs }),
    ) === 1
  );
}

export async function releaseLock(db: Db, name: string, holder: string): Promise<void> {
  await db.knex(db.t.maintenance_locks).where({ name, holder }).delete();
}

export async function lockHolder(db: Db, name: string): Promise<{ holder: string; expires_at: number } | undefined> {
  const r = await db.knex(db.t.maintenance_locks).where('name', name).first('holder', 'expires_at');
  return r ? { holder: String(r.holder), expires_at: Number(r.expires_at) } : undefined;
}
