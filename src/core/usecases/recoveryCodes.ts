import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { scopeOf } from '../requestScope.js';
import { resetFailuresUnlessLocked } from '../../db/credentialRepository.js';
import { markRecoveryCodeUsed, replaceRecoveryCodes, unusedRecoveryCodes } from '../../db/recoveryCodeRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import type { PortalUser } from '../domain.js';
import { party, recordAudit, type AuditParty } from '../primitives/audit.js';
import type { MfaDeps } from '../deps.js';
import { rejected, usageError } from '../errors.js';
import { attempt, lockedError, lockState, MISS, type LockState } from '../rules/lockout.js';
import { queueNotification } from '../notify/outbox.js';
import { base32Encode } from '../primitives/totp.js';
import { activeCredential, type AttemptContext } from '../rules/verification.js';

const RECOVERY_CODE_COUNT = 10;
// scrypt, salted: a memory-hard KDF, as NIST SP 800-63B asks for look-up secrets under 112 bits.
// N = 2^12 (4 MiB, ~8 ms here): the codes are 80 random bits, so the work factor is not what keeps
// them safe. The ten codes of one set share a salt, so a try costs one hash however many codes are
// left (it used to cost one per unused code: ten hashes a try for anyone holding one password). An
// offline attacker gains a factor of ten at most against 80 random bits. Hashes stored with their own
// salt each, or with another N (2^14 before 2026-12), still verify: both are read from each hash.
const SCRYPT = { N: 4096, r: 8, p: 1, keylen: 32 };

function scrypt(password: string, salt: Buffer, opts: ScryptOptions & { keylen: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, opts.keylen, { N: opts.N, r: opts.r, p: opts.p, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** 80 random bits as four groups of four base32 characters, e.g. "k3mf-q2zx-7hna-c4de". */
function newRecoveryCode(random: (n: number) => Buffer = randomBytes): string {
  const text = base32Encode(random(10)).toLowerCase();
  return text.match(/.{4}/g)!.join('-');
}

const compactRecoveryCode = (raw: string) => raw.toLowerCase().replace(/[\s-]/g, '');
const RECOVERY_CODE = /^[a-z2-7]{16}$/;

export function looksLikeRecoveryCode(raw: string): boolean {
  return RECOVERY_CODE.test(compactRecoveryCode(raw));
}

/** Canonical form of a typed code: case, spaces and dashes do not matter. */
export function normaliseRecoveryCode(raw: string): string {
  const compact = compactRecoveryCode(raw);
  if (!RECOVERY_CODE.test(compact)) throw usageError('not a recovery code', { hint: 'recovery codes look like k3mf-q2zx-7hna-c4de' });
  return compact;
}

async function hashRecoveryCode(code: string, salt: Buffer): Promise<string> {
  const key = await scrypt(normaliseRecoveryCode(code), salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * A stored hash as portal-mfa writes it: scrypt with r = 8, p = 1, N a power of two from 2^12 to 2^15
 * (2^14 before 2026-12), a 16-byte salt and a 32-byte key. Anything else was not written by us (the
 * table was edited): it matches no code — an empty or cut key would match any code or most, a huge
 * p or N would make each try cost seconds.
 */
function readStoredHash(stored: string): { n: number; salt: Buffer; expected: Buffer } | null {
  const [scheme, n, r, p, salt, hash, extra] = stored.split('$');
  if (scheme !== 'scrypt' || r !== '8' || p !== '1' || extra !== undefined || !/^(4096|8192|16384|32768)$/.test(n ?? '')) return null;
  const saltBytes = Buffer.from(salt ?? '', 'base64');
  const expected = Buffer.from(hash ?? '', 'base64');
  if (saltBytes.length !== 16 || expected.length !== SCRYPT.keylen) return null;
  return { n: Number(n), salt: saltBytes, expected };
}

/**
 * The id of the unused code `compact` is, if any. One scrypt per distinct salt and N (one for a set
 * made since 2026-12), compared with every code in constant time: how long it takes does not tell
 * which code matched, or whether one did.
 */
async function matchingCode(compact: string, candidates: { id: number; code_hash: string }[]): Promise<number | undefined> {
  const keys = new Map<string, Promise<Buffer>>();
  let found: number | undefined;
  for (const c of candidates) {
    const stored = readStoredHash(c.code_hash);
    if (!stored) continue;
    const params = `${stored.n}$${stored.salt.toString('base64')}`;
    let key = keys.get(params);
    if (!key) {
      key = scrypt(compact, stored.salt, { ...SCRYPT, N: stored.n });
      keys.set(params, key);
    }
    if (timingSafeEqual(await key, stored.expected) && found === undefined) found = c.id;
  }
  return found;
}

/** New codes and their hashes (slow: scrypt), prepared before a transaction stores them. */
export async function prepareRecoveryCodes(deps: Pick<MfaDeps, 'random'>): Promise<{ codes: string[]; hashes: string[] }> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => newRecoveryCode(deps.random));
  const salt = deps.random(16);
  const hashes = await Promise.all(codes.map((c) => hashRecoveryCode(c, salt)));
  return { codes, hashes };
}

/** Ten new codes replace any previous set (the caller has authorised and re-authenticated). */
export async function regenerateRecoveryCodes(deps: MfaDeps, user: PortalUser, actor: AuditParty): Promise<string[]> {
  await activeCredential(deps, user);
  const { codes, hashes } = await prepareRecoveryCodes(deps);
  await withWriteTransaction(deps.db, async (trx) => {
    await replaceRecoveryCodes(trx, user.id, hashes, deps.clock());
    await recordAudit(trx, deps, { action: 'recovery-codes.regenerate', outcome: 'success', actor, target: party(user), detail: { count: codes.length } });
    await queueNotification(trx, deps, user, { kind: 'recovery-codes-regenerated' });
  });
  return codes;
}

/** Whether useRecoveryCode would accept this code now — nothing used up, nothing counted. */
export async function recoveryCodeWouldMatch(deps: MfaDeps, user: PortalUser, raw: string): Promise<boolean> {
  const compact = normaliseRecoveryCode(raw);
  const { active } = await scopeOf(deps).credentials(user.id);
  if (!active || lockState(active, deps.clock()) !== null) return false;
  return (await matchingCode(compact, await unusedRecoveryCodes(deps.db, user.id))) !== undefined;
}

/**
 * Use a recovery code in place of a TOTP code: consumed at most once (conditional update), refused
 * while the user is locked, and a wrong one counts through the lockout (rule 11).
 */
export async function useRecoveryCode(deps: MfaDeps, user: PortalUser, raw: string, ctx: AttemptContext): Promise<{ left: number }> {
  const compact = normaliseRecoveryCode(raw);
  const active = await activeCredential(deps, user);
  const event = { action: ctx.action, actor: ctx.actor, target: party(user), organisation: ctx.organisation ?? null, detail: { recoveryCode: true } };
  const onMiss = (lockedNow: LockState | null): never => {
    throw rejected(lockedNow ? `wrong or used recovery code; ${user.email} is now locked` : 'wrong or already used recovery code', {
      code: 'wrong_recovery_code',
    });
  };
  return attempt(deps, { user, credential: active, event, onMiss }, async () => {
    const now = deps.clock();
    const candidates = await unusedRecoveryCodes(deps.db, user.id);
    const id = await matchingCode(compact, candidates);
    if (id === undefined) return MISS;
    const left = candidates.length - 1;
    const ok = await withWriteTransaction(deps.db, async (trx) => {
      if (!(await markRecoveryCodeUsed(trx, id, now))) return false;
      // locked by a parallel guess meanwhile: roll back, the code stays unused
      if (!(await resetFailuresUnlessLocked(trx, active.id, now))) throw lockedError(user, { until: now, hard: false });
      await recordAudit(trx, deps, { ...event, outcome: 'success', detail: { recoveryCode: true, left } });
      await queueNotification(trx, deps, user, { kind: 'recovery-code-used', left });
      return true;
    });
    // used by a parallel request meanwhile: as wrong as any used code
    return ok ? { left } : MISS;
  });
}
