/**
 * Verifying passwords against the portal's own stored hashes (SPEC §5): bcrypt, argon2, Django,
 * Werkzeug, phpass (WordPress, phpBB, Drupal 7), WordPress 6.8's pre-hashed bcrypt and SHA-crypt
 * — natively or in worker threads, never on the main thread (passwords/verifiers.ts). The formats,
 * their prefixes and cost limits are in passwords/formats.ts; docs/hash-formats.md is the operator's page.
 *
 * A check never throws for anything about the hash or the password: a hash that cannot be checked
 * (unknown, malformed, absurdly costly) is a refusal with its format's name and a reason, and it
 * still spends the time of one real check, so no answer is faster than a wrong password.
 */
import { DEFAULT_DUMMY_HASH } from './passwords/dummy.js';
import { type HashFormat, type HashProblem, parseHash } from './passwords/formats.js';
import { bcryptHash, verifyParsed } from './passwords/verifiers.js';
import { isPortalMfaError } from '../errors.js';

export { dummyHashLike } from './passwords/dummy.js';
export { hashFormat, type HashFormat } from './passwords/formats.js';

/** Why a password was not accepted. Only `mismatch` means the person typed the wrong password. */
export type PasswordRefusal =
  | 'mismatch'
  /** the hash has a known prefix but cannot be read, or costs more than formats.ts LIMITS allow */
  | HashProblem
  | 'unknown-format'
  | 'no-hash'
  | 'not-a-string'
  | 'password-too-long'
  /** the hashing library failed on this hash */
  | 'error';

export type PasswordCheck = { ok: true; format: HashFormat } | { ok: false; format: HashFormat; reason: PasswordRefusal };

/** Longer passwords are refused unchecked (WordPress's own limit): SHA-crypt's and phpass's cost grows with length. */
const MAX_PASSWORD_BYTES = 4096;

/**
 * Checks `password` against a stored hash. Throws only when a hashing library cannot be loaded at
 * all (an installation problem, a `config` error); every other failure is `{ ok: false, reason }`.
 */
export async function verifyPassword(password: string, hash: string | null | undefined): Promise<PasswordCheck> {
  if (typeof hash !== 'string') return refuse('unknown', 'no-hash');
  const parsed = parseHash(hash);
  const format = parsed.ok ? parsed.hash.format : parsed.format;
  if (typeof password !== 'string') return refuse(format, 'not-a-string');
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return refuse(format, 'password-too-long');
  if (!parsed.ok) return refuse(format, format === 'unknown' ? 'unknown-format' : parsed.problem);
  try {
    return (await verifyParsed(password, parsed.hash)) ? { ok: true, format } : { ok: false, format, reason: 'mismatch' };
  } catch (error) {
    if (isPortalMfaError(error)) throw error;
    return { ok: false, format, reason: 'error' };
  }
}

/** A refusal that took as long as one real check (bcrypt at cost 10). */
async function refuse(format: HashFormat, reason: PasswordRefusal): Promise<PasswordCheck> {
  const dummy = parseHash(DEFAULT_DUMMY_HASH);
  if (dummy.ok) await verifyParsed('not the password', dummy.hash);
  return { ok: false, format, reason };
}

/** A new bcrypt hash ($2b$) of `password`: for the demo portal's fixtures and the tests. */
export function hashPasswordBcrypt(password: string, cost = 10): Promise<string> {
  return bcryptHash(password, cost);
}
