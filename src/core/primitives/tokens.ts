import { createHash } from 'node:crypto';
import type { RandomSource } from '../settings.js';

/** A bearer token (session, trusted device): 256 random bits, base64url. Only its hash is stored. */
export function newToken(random: RandomSource): string {
  return random(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
