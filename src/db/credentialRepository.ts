import type { UserId } from '../core/domain.js';
import type { Db } from './store.js';
import type { CredentialTable } from './tables.js';

/** A credential as the repositories return it: the table's columns (hard_locked_at: rule 11, cleared only by unlock). */
export type CredentialRow = CredentialTable;

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toCredential(r: CredentialTable): CredentialRow {
  return {
    id: Number(r.id),
    user_id: String(r.user_id),
    status: r.status as CredentialRow['status'],
    secret_ciphertext: String(r.secret_ciphertext),
    key_id: String(r.key_id),
    created_at: Number(r.created_at),
    confirmed_at: num(r.confirmed_at),
    last_used_at: num(r.last_used_at),
    last_accepted_step: num(r.last_accepted_step),
    consecutive_failures: Number(r.consecutive_failures ?? 0),
    locked_until: num(r.locked_until),
    hard_locked_at: num(r.hard_locked_at),
    failures_at_lock: Number(r.failures_at_lock ?? 0),
    lock_count: Number(r.lock_count ?? 0),
  };
}

export async function credentialsOfUser(db: Db, userId: UserId): Promise<{ active?: CredentialRow; pending?: CredentialRow }> {
  const rows = await db.knex(db.t.credentials).where('user_id', userId).select('*');
  const result: { active?: CredentialRow; pending?: CredentialRow } = {};
  for (const r of rows) {
    const c = toCredential(r);
    if (c.status === 'active') result.active = c;
    else if (c.status === 'pending') result.pending = c;
  }
  return result;
}

export async function findCredential(db: Db, id: number): Promise<CredentialRow | undefined> {
  const r = await db.knex(db.t.credentials).where('id', id).first();
  return r ? toCredential(r) : undefined;
}

/** Start (or restart) a pending enrolment: any previous pending secret is replaced. */
export async function replacePendingCredential(db: Db, userId: UserId, sealed: { ciphertext: string; keyId: string }, now: number): Promise<number> {
  await db.knex(db.t.credentials).where({ user_id: userId, status: 'pending' }).delete();
  await db.knex(db.t.credentials).insert({
    user_id: userId,
    status: 'pending',
    secret_ciphertext: sealed.ciphertext,
    key_id: sealed.keyId,
    created_at: now,
    consecutive_failures: 0,
  });
  const row = await db.knex(db.t.credentials).where({ user_id: userId, status: 'pending' }).first('id');
  return Number(row!.id);
}

/**
 * Accept a time step for a credential: at most once per step, enforced by the database.
 * Returns false when another process (or an earlier request) already used this or a later step,
 * or the credential is locked — so 20 concurrent verifications of one code give one success.
 */
export async function acceptStep(db: Db, credentialId: number, step: number, now: number): Promise<boolean> {
  const changed = await db
    .knex(db.t.credentials)
    .where('id', credentialId)
    .andWhere((w) => w.whereNull('last_accepted_step').orWhere('last_accepted_step', '<', step))
    .andWhere((w) => w.whereNull('locked_until').orWhere('locked_until', '<=', now))
    .whereNull('hard_locked_at')
    .update({ last_accepted_step: step, last_used_at: now, consecutive_failures: 0, failures_at_lock: 0, lock_count: 0 });
  return Number(changed) === 1;
}

/**
 * Count a failed verification atomically in the database, only while the credential is not
 * locked. Returns false when it was locked (by a parallel request) and nothing was counted.
 */
export async function countFailureUnlessLocked(db: Db, credentialId: number, now: number): Promise<boolean> {
  const counted = await db
    .knex(db.t.credentials)
    .where('id', credentialId)
    .andWhere((w) => w.whereNull('locked_until').orWhere('locked_until', '<=', now))
    .whereNull('hard_locked_at')
    .increment('consecutive_failures', 1);
  return Number(counted) === 1;
}

/** Lock the credential until a time, or hard-lock it (rule 11), inside the failure's transaction. */
export async function setLock(
  db: Db,
  credentialId: number,
  lock: { until: number; failuresAtLock: number; lockCount: number } | { hardAt: number },
): Promise<void> {
  await db
    .knex(db.t.credentials)
    .where('id', credentialId)
    .update(
      'until' in lock
        ? { locked_until: lock.until, failures_at_lock: lock.failuresAtLock, lock_count: lock.lockCount }
        : { hard_locked_at: lock.hardAt, locked_until: null },
    );
}

/**
 * Rule 12: burn every step up to and including `step` (a diagnosed code, and any earlier one, can
 * never be accepted later). Never moves the mark backwards.
 */
export async function burnStepsThrough(db: Db, credentialId: number, step: number): Promise<void> {
  await db
    .knex(db.t.credentials)
    .where('id', credentialId)
    .andWhere((w) => w.whereNull('last_accepted_step').orWhere('last_accepted_step', '<', step))
    .update({ last_accepted_step: step });
}

/** `unlock`: clears locks, hard locks and the failure count of every credential of the user. */
export async function clearLocksOfUser(db: Db, userId: UserId): Promise<number> {
  return Number(
    await db
      .knex(db.t.credentials)
      .where('user_id', userId)
      .update({ consecutive_failures: 0, failures_at_lock: 0, lock_count: 0, locked_until: null, hard_locked_at: null }),
  );
}

/**
 * Make the pending credential the active one (replacing any old active one) — only if it is
 * still pending and the step is fresh.
 */
export async function activatePendingCredential(db: Db, pendingId: number, userId: UserId, step: number, now: number): Promise<boolean> {
  const still = await db.knex(db.t.credentials).where({ id: pendingId, status: 'pending' }).first('id');
  if (!still) return false;
  await db.knex(db.t.credentials).where({ user_id: userId, status: 'active' }).delete();
  const changed = await db
    .knex(db.t.credentials)
    .where({ id: pendingId, status: 'pending' })
    .andWhere((w) => w.whereNull('locked_until').orWhere('locked_until', '<=', now))
    .whereNull('hard_locked_at')
    .update({
      status: 'active',
      confirmed_at: now,
      last_used_at: now,
      last_accepted_step: step,
      consecutive_failures: 0,
      failures_at_lock: 0,
      lock_count: 0,
      locked_until: null,
      hard_locked_at: null,
    });
  return Number(changed) === 1;
}

/** Rows still encrypted under another key than `keyId`, in id order (key rotation batches). */
export async function credentialsNotUnderKey(db: Db, keyId: string, afterId: number, limit: number): Promise<CredentialRow[]> {
  const rows = await db.knex(db.t.credentials).whereNot('key_id', keyId).andWhere('id', '>', afterId).orderBy('id').limit(limit).select('*');
  return rows.map(toCredential);
}

export async function countCredentialsNotUnderKey(db: Db, keyId: string): Promise<number> {
  const r = await db.knex(db.t.credentials).whereNot('key_id', keyId).count({ n: '*' }).first();
  return Number(r?.n ?? 0);
}

/** Re-encrypt one row, only if it still holds the ciphertext we read (a concurrent change wins). */
export async function reencryptCredential(
  db: Db,
  id: number,
  expect: { ciphertext: string; keyId: string },
  next: { ciphertext: string; keyId: string },
): Promise<boolean> {
  const changed = await db
    .knex(db.t.credentials)
    .where({ id, secret_ciphertext: expect.ciphertext, key_id: expect.keyId })
    .update({ secret_ciphertext: next.ciphertext, key_id: next.keyId });
  return Number(changed) === 1;
}

/**
 * A successful recovery-code or access-code login: the failure streak ends, the credential was
 * used now — only while it is not locked (checked by the database, like acceptStep). False: locked.
 */
export async function resetFailuresUnlessLocked(db: Db, credentialId: number, now: number): Promise<boolean> {
  const changed = await db
    .knex(db.t.credentials)
    .where('id', credentialId)
    .andWhere((w) => w.whereNull('locked_until').orWhere('locked_until', '<=', now))
    .whereNull('hard_locked_at')
    .update({ consecutive_failures: 0, failures_at_lock: 0, lock_count: 0, last_used_at: now });
  return Number(changed) === 1;
}

/** Every credential in id order, a page at a time (key check). */
export async function credentialsPage(db: Db, afterId: number, limit: number): Promise<CredentialRow[]> {
  return (await db.knex(db.t.credentials).where('id', '>', afterId).orderBy('id').limit(limit).select('*')).map(toCredential);
}
