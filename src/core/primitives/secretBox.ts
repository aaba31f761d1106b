/**
 * AES-256-GCM encryption of TOTP secrets at rest (node:crypto only).
 *
 * Ciphertext format: 'v1:' + base64(nonce(12) | tag(16) | encrypted)
 * AAD: 'portal-mfa:totp-secret:v1'
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { PortalMfaError } from '../errors.js';

export interface SecretKey {
  /** First 16 hex chars of sha256(key). */
  id: string;
  key: Buffer;
}

/** A key that is not base64 of 32 bytes: a configuration error (exit 10 in the CLI, code `config`). */
export class KeyFormatError extends PortalMfaError {
  constructor(message: string) {
    super('config', message, { code: 'config', hint: 'a key is base64 of 32 random bytes: openssl rand -base64 32' });
    this.name = 'KeyFormatError';
  }
}

export class WrongKeyError extends Error {
  readonly keyId: string;
  constructor(keyId: string, message: string) {
    super(message);
    this.name = 'WrongKeyError';
    this.keyId = keyId;
  }
}

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const VERSION_PREFIX = 'v1:';
const AAD = Buffer.from('portal-mfa:totp-secret:v1', 'utf8');
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64_ANY_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** Parse a base64 (or base64url) encoded 32-byte key. Error messages never contain key material. */
export function keyFromBase64(b64: string): SecretKey {
  if (typeof b64 !== 'string') {
    throw new KeyFormatError('the key must be base64 of exactly 32 bytes (got a non-string value)');
  }
  const trimmed = b64.trim();
  if (!BASE64_ANY_RE.test(trimmed) || trimmed.length % 4 === 1) {
    throw new KeyFormatError('the key must be base64 of exactly 32 bytes (the value is not valid base64)');
  }
  const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== KEY_BYTES) {
    const got = key.length;
    key.fill(0);
    throw new KeyFormatError(`the key must be base64 of exactly ${KEY_BYTES} bytes (got ${got} bytes)`);
  }
  return { id: keyIdOf(key), key };
}

export function generateKeyBase64(random: (n: number) => Buffer = randomBytes): string {
  const key = random(KEY_BYTES);
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new Error(`random source must return exactly ${KEY_BYTES} bytes`);
  }
  return key.toString('base64');
}

function assertKey(key: SecretKey): void {
  if (!Buffer.isBuffer(key.key) || key.key.length !== KEY_BYTES) {
    throw new KeyFormatError(`the key must be exactly ${KEY_BYTES} bytes (got ${key.key?.length ?? 0} bytes)`);
  }
}

/** Encrypt with a fresh random 12-byte nonce per call. */
export function sealSecret(plain: string, key: SecretKey, random: (n: number) => Buffer = randomBytes): { ciphertext: string; keyId: string } {
  assertKey(key);
  const nonce = random(NONCE_BYTES);
  if (!Buffer.isBuffer(nonce) || nonce.length !== NONCE_BYTES) {
    throw new Error(`random source must return exactly ${NONCE_BYTES} bytes`);
  }
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(AAD);
  const encrypted = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return {
    ciphertext: VERSION_PREFIX + Buffer.concat([nonce, tag, encrypted]).toString('base64'),
    keyId: key.id,
  };
}

/**
 * Decrypt with the key whose id is `keyId`. Unknown key id, authentication failure
 * (wrong key / tampering) and malformed input all throw WrongKeyError.
 */
export function openSecret(ciphertext: string, keyId: string, keyring: SecretKey[]): string {
  const key = keyring.find((k) => k.id === keyId);
  if (key === undefined) {
    throw new WrongKeyError(keyId, `no key with id ${keyId} in the keyring`);
  }
  if (typeof ciphertext !== 'string' || !ciphertext.startsWith(VERSION_PREFIX)) {
    throw new WrongKeyError(keyId, 'malformed ciphertext (unknown format/version)');
  }
  const body = ciphertext.slice(VERSION_PREFIX.length);
  if (!BASE64_RE.test(body) || body.length % 4 !== 0) {
    throw new WrongKeyError(keyId, 'malformed ciphertext (invalid base64)');
  }
  const raw = Buffer.from(body, 'base64');
  if (raw.length < NONCE_BYTES + TAG_BYTES) {
    throw new WrongKeyError(keyId, 'malformed ciphertext (too short)');
  }
  const nonce = raw.subarray(0, NONCE_BYTES);
  const tag = raw.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES);
  const encrypted = raw.subarray(NONCE_BYTES + TAG_BYTES);
  try {
    assertKey(key);
    const decipher = createDecipheriv('aes-256-gcm', key.key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(AAD);
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(encrypted), decipher.final()]);
    return plain.toString('utf8');
  } catch {
    throw new WrongKeyError(keyId, `cannot decrypt the TOTP secret with key ${keyId} (wrong key or ciphertext was modified)`);
  }
}
