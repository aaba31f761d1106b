/**
 * The re-authentication moment carried across requests (issue 22): "this user confirmed their
 * password at T" as a serialisable token — `v1.<payload>.<mac>`, the payload base64url JSON
 * `{u: user id, t: confirmed at, e: expires at}` (ms since the epoch), the MAC HMAC-SHA256 over
 * `v1.<payload>`.
 *
 * Stateless on purpose (any number of backend or service instances, no row to store or clean up):
 * the MAC key is derived with HKDF-SHA256 from the secrets key ring (salt: the table prefix, so two
 * installations sharing a key do not accept each other's tokens). New tokens are signed with the
 * first key; every key of the ring verifies, so a token made just before a `keys rotate` still
 * verifies while the old key stays in the ring. A token cannot be revoked before it expires — it
 * lives reauthSeconds (5 minutes by default), the time a typed password counts anyway.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { SecretKey } from './secretBox.js';

const VERSION = 'v1';
const INFO = 'portal-mfa re-authentication token v1';
/** Longer than any token we make: refused before any work. */
const MAX_LENGTH = 1024;

export interface ReauthClaims {
  userId: string;
  confirmedAt: number;
  expiresAt: number;
}

function macKey(key: SecretKey, scope: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key.key, Buffer.from(scope, 'utf8'), INFO, 32));
}

function mac(key: SecretKey, scope: string, signed: string): Buffer {
  return createHmac('sha256', macKey(key, scope)).update(signed, 'utf8').digest();
}

export function sealReauthToken(key: SecretKey, scope: string, c: ReauthClaims): string {
  const payload = Buffer.from(JSON.stringify({ u: c.userId, t: c.confirmedAt, e: c.expiresAt }), 'utf8').toString('base64url');
  const signed = `${VERSION}.${payload}`;
  return `${signed}.${mac(key, scope, signed).toString('base64url')}`;
}

/** The claims of a token made with one of `keys`, or null for anything else (tampered, foreign, malformed). */
export function openReauthToken(keys: SecretKey[], scope: string, token: string): ReauthClaims | null {
  if (token.length > MAX_LENGTH) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION || !/^[A-Za-z0-9_-]+$/.test(parts[1]!) || !/^[A-Za-z0-9_-]{43}$/.test(parts[2]!)) return null;
  const signed = `${parts[0]}.${parts[1]}`;
  const given = Buffer.from(parts[2]!, 'base64url');
  // one spelling only: base64url's last character carries two unused bits, which decoding ignores
  if (given.toString('base64url') !== parts[2]) return null;
  if (!keys.some((k) => timingSafeEqual(mac(k, scope, signed), given))) return null;
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const { u, t, e } = (body ?? {}) as Record<string, unknown>;
  if (typeof u !== 'string' || typeof t !== 'number' || typeof e !== 'number' || !Number.isFinite(t) || !Number.isFinite(e)) return null;
  return { userId: u, confirmedAt: t, expiresAt: e };
}
