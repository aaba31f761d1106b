import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { credentialsOfUser, resetFailures } from '../db/credentialRepository.js';
import { markRecoveryCodeUsed, replaceRecoveryCodes, unusedRecoveryCodes } from '../db/recoveryCodeRepository.js';
import { withWriteTransaction } from '../db/transaction.js';
import type { UserRow } from '../db/userRepository.js';
import { recordAudit, type AuditParty } from './audit.js';
import type { MfaDeps } from './deps.js';
import { rejected, usageError, wrongState } from './errors.js';
import { base32Encode } from './totp.js';
import { activeLock, lockedError, party, registerFailure } from './verification.js';

export const RECOVERY_CODE_COUNT = 10;
// scrypt: a slow, memory-hard password hash, because the codes are short enough to type
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

function scrypt(password: string, salt: Buffer, opts: ScryptOptions & { keylen: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, opts.keylen, { N: opts.N, r: opts.r, p: opts.p, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** 80 random bits as four groups of four base32 characters, e.g. "k3mf-q2zx-7hna-c4de". */
export function newRecoveryCode(random: (n: number) => Buffer = randomBytes): string {
  const text = base32Encode(random(10)).toLowerCase();
  return text.match(/.{4}/g)!.join('-');
}

/** Canonical form of a typed code: case, spaces and dashes do not matter. */
export function normaliseRecoveryCode(raw: string): string {
  const compact = raw.toLowerCase().replace(/[\s-]/g, '');
  if (!/^[a-z2-7]{16}$/.test(compact)) throw usageError('not a recovery code', { hint: 'recovery codes look like k3mf-q2zx-7hna-c4de' });
  return compact;
}

export async function hashRecoveryCode(code: string, random: (n: number) => Buffer = randomBytes): Promise<string> {
  const salt = random(16);
  const key = await scrypt(normaliseRecoveryCode(code), salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

async function matchesHash(compact: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(compact, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p), keylen: expected.length });
  return timingSafeEqual(key, expected);
}

/**
 * Ten new single-use codes replace any previous set; returned once, stored only as scrypt hashes.
 * Call inside the caller's transaction when part of a larger change (enrolment).
 */
/** New codes and their hashes (slow: scrypt), prepared before a transaction stores them. */
export async function prepareRecoveryCodes(deps: Pick<MfaDeps, 'random'>): Promise<{ codes: string[]; hashes: string[] }> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => newRecoveryCode(deps.random));
  const hashes = await Promise.all(codes.map((c) => hashRecoveryCode(c, deps.random)));
  return { codes, hashes };
}

export async function issueRecoveryCodes(deps: MfaDeps, user: UserRow, actor: AuditParty | null): Promise<string[]> {
  const { active } = await credentialsOfUser(deps.knex, user.id);
  if (!active) throw wrongState(`MFA is not enabled for ${user.email}`, { hint: 'recovery codes come with MFA: portal-mfa enroll' });
  const { codes, hashes } = await prepareRecoveryCodes(deps);
  await withWriteTransaction(deps.knex, async (trx) => {
    await replaceRecoveryCodes(trx, user.id, hashes, deps.clock());
    await recordAudit(trx, deps, { action: 'recovery-codes.regenerate', outcome: 'success', actor, target: party(user), detail: { count: codes.length } });
  });
  return codes;
}

/**
 * Use a recovery code in place of a TOTP code: consumed at most once (conditional update), refused
 * while the user is locked, and a wrong one counts as a failed verification.
 */
export async function useRecoveryCode(deps: MfaDeps, user: UserRow, raw: string, opts: { actor: AuditParty | null; action: string }): Promise<{ left: number }> {
  const compact = normaliseRecoveryCode(raw);
  const { active } = await credentialsOfUser(deps.knex, user.id);
  if (!active) throw wrongState(`MFA is not enabled for ${user.email}`);
  const now = deps.clock();
  const lockEnd = activeLock(active, now);
  if (lockEnd !== null) {
    await recordAudit(deps.knex, deps, { action: opts.action, outcome: 'locked', actor: opts.actor, target: party(user), detail: { recoveryCode: true } });
    throw lockedError(user, lockEnd);
  }
  const candidates = await unusedRecoveryCodes(deps.knex, user.id);
  let found: number | undefined;
  for (const c of candidates) {
    if ((await matchesHash(compact, c.code_hash)) && found === undefined) found = c.id;
  }
  if (found !== undefined) {
    const id = found;
    const ok = await withWriteTransaction(deps.knex, async (trx) => {
      if (!(await markRecoveryCodeUsed(trx, id, now))) return false;
      await resetFailures(trx, active.id, now);
      await recordAudit(trx, deps, { action: opts.action, outcome: 'success', actor: opts.actor, target: party(user), detail: { recoveryCode: true, left: candidates.length - 1 } });
      return true;
    });
    if (ok) return { left: candidates.length - 1 };
  }
  const { lockedUntil, alreadyLockedUntil } = await registerFailure(deps, active.id, now, {
    action: opts.action,
    actor: opts.actor,
    target: party(user),
    detail: { recoveryCode: true },
  });
  if (alreadyLockedUntil !== null) throw lockedError(user, alreadyLockedUntil);
  const lockedNow = lockedUntil !== null;
  throw rejected(lockedNow ? `wrong or used recovery code; ${user.email} is now locked` : 'wrong or already used recovery code');
}
