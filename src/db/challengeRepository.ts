/**
 * The sign-in challenges of the two-step sign-in (`<prefix>challenges`): one row per password step
 * (or vouched first step) of a user with MFA, found by the SHA-256 of its token. A completion holds
 * the row while it checks the second factor (`claim`), so parallel completions of one challenge
 * never both check — and never both use up a code — and exactly one can win.
 */
import type { UserId } from '../core/domain.js';
import type { Db } from './store.js';

export interface ChallengeRow {
  id: number;
  user_id: string;
  action: string;
  created_at: number;
  expires_at: number;
  password_at: number | null;
  vouched_by: string | null;
  claim: string | null;
  used_at: number | null;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function row(r: Record<string, unknown>): ChallengeRow {
  return {
    id: Number(r.id),
    user_id: String(r.user_id),
    action: String(r.action),
    created_at: Number(r.created_at),
    expires_at: Number(r.expires_at),
    password_at: num(r.password_at),
    vouched_by: r.vouched_by === null || r.vouched_by === undefined ? null : String(r.vouched_by),
    claim: r.claim === null || r.claim === undefined ? null : String(r.claim),
    used_at: num(r.used_at),
  };
}

/** A new challenge; the user's expired ones go in the same transaction (so the table stays small). */
export async function insertChallenge(
  db: Db,
  c: { token_hash: string; user_id: UserId; action: string; created_at: number; expires_at: number; password_at: number | null; vouched_by: string | null },
): Promise<number> {
  await db.knex(db.t.challenges).where('user_id', c.user_id).andWhere('expires_at', '<=', c.created_at).delete();
  await db.knex(db.t.challenges).insert({ ...c, claim: null, used_at: null });
  const r = await db.knex(db.t.challenges).where('token_hash', c.token_hash).first('id');
  return Number(r!.id);
}

export async function findChallengeByHash(db: Db, tokenHash: string): Promise<ChallengeRow | undefined> {
  const r = await db.knex(db.t.challenges).where('token_hash', tokenHash).first('*');
  return r ? row(r as Record<string, unknown>) : undefined;
}

/** Hold an unused, unexpired, unheld challenge for one completion; false when it is not that (any more). */
export async function claimChallenge(db: Db, id: number, claim: string, now: number): Promise<boolean> {
  const n = await db.knex(db.t.challenges).where('id', id).whereNull('used_at').whereNull('claim').andWhere('expires_at', '>', now).update({ claim });
  return Number(n) === 1;
}

/** The held challenge is used up (the second factor was proven). */
export async function useClaimedChallenge(db: Db, id: number, claim: string, now: number): Promise<void> {
  await db.knex(db.t.challenges).where({ id, claim }).whereNull('used_at').update({ used_at: now });
}

/** The second factor was not proven: the challenge is given back for another try. */
export async function releaseChallenge(db: Db, id: number, claim: string): Promise<void> {
  await db.knex(db.t.challenges).where({ id, claim }).whereNull('used_at').update({ claim: null });
}
