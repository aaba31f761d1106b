/**
 * RFC 6238 TOTP / RFC 4226 HOTP built on otplib v13.
 *
 * HOTP generation (HMAC + dynamic truncation) is delegated to otplib's synchronous
 * functional API (`generateSync` with the `hotp` strategy) and its audited
 * sync-capable `NobleCryptoPlugin` (no node-crypto plugin ships with otplib 13.5).
 * Base32 is delegated to otplib's `ScureBase32Plugin` after input normalisation.
 *
 * Verification (`matchCode`) is implemented here rather than via otplib's
 * `verifySync`, because the latter stops at the first matching counter; we
 * evaluate every candidate in the window and compare with
 * `crypto.timingSafeEqual`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createGuardrails, generateSync, NobleCryptoPlugin, ScureBase32Plugin, type HashAlgorithm } from 'otplib';

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

export interface TotpParams {
  algorithm: TotpAlgorithm;
  digits: number;
  periodSeconds: number;
}

export const DEFAULT_TOTP: TotpParams = Object.freeze({
  algorithm: 'SHA1',
  digits: 6,
  periodSeconds: 30,
}) as TotpParams;

const SECRET_BYTES = 20; // 160 bits, RFC 4226 recommendation
const MIN_DIGITS = 1;
const MAX_DIGITS = 10;
const MAX_WINDOW = 100;

/**
 * otplib's plugins, made on first use. (The CLI's bundle includes otplib, compiled from its code
 * cache, so importing it is cheap; loading it from node_modules cost ~20 ms per start.)
 *
 * otplib refuses keys shorter than 16 bytes by default (RFC 4226's minimum).
 * Secrets we generate are 20 bytes, but authenticator secrets already stored
 * by other systems are commonly 80-bit (16 base32 chars, e.g. the classic
 * Google Authenticator length), and verifying those must keep working.
 * The floor is therefore lowered to 10 bytes; the maximum (64) is unchanged.
 */
let otplib: { cryptoPlugin: NobleCryptoPlugin; base32Plugin: ScureBase32Plugin; guardrails: ReturnType<typeof createGuardrails> } | undefined;
function otp(): NonNullable<typeof otplib> {
  otplib ??= {
    cryptoPlugin: new NobleCryptoPlugin(),
    base32Plugin: new ScureBase32Plugin(),
    guardrails: createGuardrails({ MIN_SECRET_BYTES: 10 }),
  };
  return otplib;
}

const ALGORITHM_MAP: Record<TotpAlgorithm, HashAlgorithm> = {
  SHA1: 'sha1',
  SHA256: 'sha256',
  SHA512: 'sha512',
};

function toOtplibAlgorithm(algorithm: TotpAlgorithm): HashAlgorithm {
  const mapped = Object.hasOwn(ALGORITHM_MAP, algorithm) ? ALGORITHM_MAP[algorithm] : undefined;
  if (mapped === undefined) {
    throw new RangeError(`unsupported TOTP algorithm: ${String(algorithm)}`);
  }
  return mapped;
}

function assertDigits(digits: number): void {
  if (!Number.isInteger(digits) || digits < MIN_DIGITS || digits > MAX_DIGITS) {
    throw new RangeError(`digits must be an integer between ${MIN_DIGITS} and ${MAX_DIGITS} (got ${digits})`);
  }
}

function assertPeriod(periodSeconds: number): void {
  if (!Number.isInteger(periodSeconds) || periodSeconds < 1) {
    throw new RangeError(`periodSeconds must be a positive integer (got ${periodSeconds})`);
  }
}

// ---------------------------------------------------------------------------
// Base32 (RFC 4648)
// ---------------------------------------------------------------------------

/** RFC 4648 base32, uppercase, without padding. */
export function base32Encode(b: Buffer): string {
  return otp().base32Plugin.encode(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), { padding: false });
}

/**
 * Decode RFC 4648 base32. Whitespace is ignored, lowercase is accepted and padding
 * is optional. Throws on any character outside A-Z / 2-7 (or misplaced padding) and
 * on impossible lengths. The error message never echoes the input.
 */
export function base32Decode(s: string): Buffer {
  const cleaned = s.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z2-7]*=*$/.test(cleaned)) {
    throw new Error('invalid base32: only the characters A-Z and 2-7 are allowed');
  }
  const unpadded = cleaned.replace(/=+$/, '');
  if (cleaned.length !== unpadded.length && cleaned.length % 8 !== 0) {
    throw new Error('invalid base32: incorrect padding');
  }
  let bytes: Uint8Array;
  try {
    bytes = otp().base32Plugin.decode(unpadded);
  } catch {
    throw new Error('invalid base32: malformed input (bad length or non-zero trailing bits)');
  }
  return Buffer.from(bytes);
}

/** 160-bit random secret, RFC 4648 base32 without padding (32 uppercase characters). */
export function generateSecret(random: (n: number) => Buffer = randomBytes): string {
  const bytes = random(SECRET_BYTES);
  if (!Buffer.isBuffer(bytes) || bytes.length !== SECRET_BYTES) {
    throw new Error(`random source must return exactly ${SECRET_BYTES} bytes`);
  }
  return base32Encode(bytes);
}

// ---------------------------------------------------------------------------
// HOTP / TOTP
// ---------------------------------------------------------------------------

/** Time step counter: floor(nowMs / 1000 / period). */
export function timeStep(nowMs: number, periodSeconds: number = DEFAULT_TOTP.periodSeconds): number {
  assertPeriod(periodSeconds);
  if (!Number.isFinite(nowMs) || nowMs < 0) {
    throw new RangeError('nowMs must be a finite, non-negative number');
  }
  return Math.floor(nowMs / 1000 / periodSeconds);
}

/** RFC 4226 HOTP value, zero-padded to `digits`. */
export function hotp(key: Buffer, counter: number, digits: number = DEFAULT_TOTP.digits, algorithm: TotpAlgorithm = DEFAULT_TOTP.algorithm): string {
  assertDigits(digits);
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new RangeError('counter must be a non-negative safe integer');
  }
  const { cryptoPlugin, base32Plugin, guardrails } = otp();
  return generateSync({
    strategy: 'hotp',
    secret: new Uint8Array(key),
    counter,
    digits,
    algorithm: toOtplibAlgorithm(algorithm),
    crypto: cryptoPlugin,
    base32: base32Plugin,
    guardrails,
  });
}

/** TOTP code for a given time step from raw key bytes (used for RFC vectors with 32/64-byte seeds). */
export function codeFromKeyBytes(key: Buffer, step: number, params: TotpParams = DEFAULT_TOTP): string {
  return hotp(key, step, params.digits, params.algorithm);
}

/** TOTP code for a given time step from a base32 secret. */
export function codeForStep(secretBase32: string, step: number, params: TotpParams = DEFAULT_TOTP): string {
  return codeFromKeyBytes(base32Decode(secretBase32), step, params);
}

/**
 * Find which step within [current-window, current+window] matches `code`.
 * Every candidate is generated and compared with `timingSafeEqual` (no early exit).
 * When several steps match, the one with the smallest |drift| wins (ties: the past step).
 * `code` must already be normalised (exactly `digits` ASCII digits), otherwise null.
 */
export function matchCode(
  secretBase32: string,
  code: string,
  nowMs: number,
  window: number,
  params: TotpParams = DEFAULT_TOTP,
): { step: number; driftSteps: number } | null {
  if (!Number.isInteger(window) || window < 0 || window > MAX_WINDOW) {
    throw new RangeError(`window must be an integer between 0 and ${MAX_WINDOW} (got ${window})`);
  }
  assertDigits(params.digits);
  const key = base32Decode(secretBase32);
  const current = timeStep(nowMs, params.periodSeconds);

  const wellFormed = typeof code === 'string' && code.length === params.digits && /^[0-9]+$/.test(code);
  // Compare against a same-length buffer even for malformed input so the work done is uniform.
  const submitted = Buffer.from(wellFormed ? code : '0'.repeat(params.digits), 'ascii');

  // Order: 0, -1, +1, -2, +2, ... so the first recorded match has the smallest drift.
  const offsets: number[] = [0];
  for (let d = 1; d <= window; d++) offsets.push(-d, d);

  let found: { step: number; driftSteps: number } | null = null;
  for (const drift of offsets) {
    const step = current + drift;
    if (step < 0) continue; // no such step (only possible within the first periods after the epoch)
    const expected = Buffer.from(codeFromKeyBytes(key, step, params), 'ascii');
    const equal = expected.length === submitted.length && timingSafeEqual(expected, submitted);
    if (equal && found === null) {
      found = { step, driftSteps: drift };
    }
  }
  return wellFormed ? found : null;
}

/**
 * Normalise user input: strip spaces, tabs and dashes; return the code only if
 * exactly `digits` ASCII digits remain (non-ASCII digits are rejected).
 */
export function normaliseCode(input: string, digits: number = DEFAULT_TOTP.digits): string | null {
  if (typeof input !== 'string') return null;
  const stripped = input.replace(/[ \t-]/g, '');
  if (stripped.length !== digits) return null;
  return /^[0-9]+$/.test(stripped) ? stripped : null;
}

// ---------------------------------------------------------------------------
// Provisioning helpers
// ---------------------------------------------------------------------------

/**
 * Key Uri Format: otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=...
 * Label parts and issuer are encoded with encodeURIComponent (a ':' inside a part becomes %3A).
 * algorithm/digits/period parameters are only emitted when they differ from SHA1/6/30.
 */
export function otpauthUri(opts: { issuer: string; account: string; secretBase32: string; params?: TotpParams }): string {
  const params = opts.params ?? DEFAULT_TOTP;
  toOtplibAlgorithm(params.algorithm);
  assertDigits(params.digits);
  assertPeriod(params.periodSeconds);
  // Canonical form of the secret: validate, then re-encode (uppercase, no spaces, no padding).
  const secret = base32Encode(base32Decode(opts.secretBase32));

  const label = `${encodeURIComponent(opts.issuer)}:${encodeURIComponent(opts.account)}`;
  const query = [`secret=${secret}`, `issuer=${encodeURIComponent(opts.issuer)}`];
  if (params.algorithm !== DEFAULT_TOTP.algorithm) query.push(`algorithm=${params.algorithm}`);
  if (params.digits !== DEFAULT_TOTP.digits) query.push(`digits=${params.digits}`);
  if (params.periodSeconds !== DEFAULT_TOTP.periodSeconds) query.push(`period=${params.periodSeconds}`);
  return `otpauth://totp/${label}?${query.join('&')}`;
}

/** Manual entry key: the base32 secret in groups of four separated by single spaces. */
export function groupSecret(secretBase32: string): string {
  const compact = secretBase32.replace(/\s+/g, '').toUpperCase();
  return (compact.match(/.{1,4}/g) ?? []).join(' ');
}
