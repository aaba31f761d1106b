/**
 * An independent RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s) for black-box tests. Deliberately
 * shares no code with src/core/primitives/totp.ts: base32 decode + HMAC + dynamic truncation by hand.
 */
import { createHmac } from 'node:crypto';
import { advanceClock, testNow } from './clock.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const PERIOD_S = 30;

export function base32ToBytes(secret: string): Buffer {
  const clean = secret.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${JSON.stringify(ch)}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit code for an absolute time step (floor(unixSeconds / 30)). */
export function totpAt(secret: string, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32ToBytes(secret)).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const bin = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(bin % 1_000_000).padStart(6, '0');
}

export function currentStep(nowMs: number = testNow()): number {
  return Math.floor(nowMs / 1000 / PERIOD_S);
}

/**
 * Make sure at least `marginMs` (default 3 s, more if the caller needs several CLI runs to
 * finish inside one step) remain in the current 30 s step — by advancing the test clock to the
 * next step, not by sleeping — then return that step. Callers then compute codes relative to it,
 * so a test never straddles a step boundary by accident.
 */
export async function safeStep(marginMs = 3_000): Promise<number> {
  const periodMs = PERIOD_S * 1000;
  const left = periodMs - (testNow() % periodMs);
  if (left < marginMs) advanceClock(left + 50);
  return currentStep();
}
