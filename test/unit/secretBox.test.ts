import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { KeyFormatError, WrongKeyError, generateKeyBase64, keyFromBase64, openSecret, sealSecret } from '../../src/core/primitives/secretBox.js';

const KEY_A_B64 = Buffer.alloc(32, 0x11).toString('base64');
const KEY_B_B64 = Buffer.alloc(32, 0x22).toString('base64');
const PLAIN = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

function flipByteInPayload(ciphertext: string, index: number): string {
  const raw = Buffer.from(ciphertext.slice(3), 'base64');
  raw[index] = (raw[index] ?? 0) ^ 0x01;
  return 'v1:' + raw.toString('base64');
}

function expectWrongKey(fn: () => unknown, keyId: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(WrongKeyError);
  expect((caught as WrongKeyError).keyId).toBe(keyId);
}

describe('keyFromBase64', () => {
  it('derives the id as the first 16 hex chars of sha256(key)', () => {
    const k = keyFromBase64(KEY_A_B64);
    expect(k.key.equals(Buffer.alloc(32, 0x11))).toBe(true);
    expect(k.id).toBe(createHash('sha256').update(Buffer.alloc(32, 0x11)).digest('hex').slice(0, 16));
    expect(k.id).toMatch(/^[0-9a-f]{16}$/);
    expect(keyFromBase64(KEY_B_B64).id).not.toBe(k.id);
  });

  it('rejects bad key lengths with KeyFormatError and no key material in the message', () => {
    const short = Buffer.from('super-secret-key-material-xyz!!', 'ascii'); // 31 bytes
    expect(short.length).toBe(31);
    const shortB64 = short.toString('base64');
    let caught: unknown;
    try {
      keyFromBase64(shortB64);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(KeyFormatError);
    const message = (caught as Error).message;
    expect(message).toMatch(/exactly 32 bytes/);
    expect(message).toContain('got 31 bytes');
    expect(message).not.toContain(shortB64);
    expect(message).not.toContain('super-secret');

    const long = Buffer.alloc(33, 0x41).toString('base64');
    expect(() => keyFromBase64(long)).toThrow(KeyFormatError);
    expect(() => keyFromBase64(long)).toThrow(/got 33 bytes/);
    expect(() => keyFromBase64('')).toThrow(KeyFormatError);
    expect(() => keyFromBase64('not base64 at all!')).toThrow(KeyFormatError);
  });
});

describe('generateKeyBase64', () => {
  it('produces base64 of 32 random bytes', () => {
    const a = generateKeyBase64();
    expect(Buffer.from(a, 'base64').length).toBe(32);
    expect(generateKeyBase64()).not.toBe(a);
    expect(keyFromBase64(a).key.length).toBe(32);
  });

  it('uses the supplied random source', () => {
    expect(generateKeyBase64((n) => Buffer.alloc(n, 0x11))).toBe(KEY_A_B64);
  });
});

describe('sealSecret / openSecret', () => {
  const keyA = keyFromBase64(KEY_A_B64);
  const keyB = keyFromBase64(KEY_B_B64);

  it('round-trips and reports the key id', () => {
    const sealed = sealSecret(PLAIN, keyA);
    expect(sealed.keyId).toBe(keyA.id);
    expect(sealed.ciphertext.startsWith('v1:')).toBe(true);
    // nonce(12) + tag(16) + 32 bytes of ciphertext
    expect(Buffer.from(sealed.ciphertext.slice(3), 'base64').length).toBe(12 + 16 + PLAIN.length);
    expect(openSecret(sealed.ciphertext, sealed.keyId, [keyB, keyA])).toBe(PLAIN);
  });

  it('round-trips non-ASCII and empty plaintexts', () => {
    for (const p of ['', 'ünïcødé ✓']) {
      const sealed = sealSecret(p, keyA);
      expect(openSecret(sealed.ciphertext, sealed.keyId, [keyA])).toBe(p);
    }
  });

  it('uses a fresh nonce per call', () => {
    const nonces: Buffer[] = [];
    const random = (n: number): Buffer => {
      const b = Buffer.alloc(n, nonces.length + 1);
      nonces.push(b);
      return b;
    };
    const s1 = sealSecret(PLAIN, keyA, random);
    const s2 = sealSecret(PLAIN, keyA, random);
    expect(nonces.map((n) => n.length)).toEqual([12, 12]);
    expect(Buffer.from(s1.ciphertext.slice(3), 'base64').subarray(0, 12).equals(Buffer.alloc(12, 1))).toBe(true);
    expect(s1.ciphertext).not.toBe(s2.ciphertext);

    const d1 = sealSecret(PLAIN, keyA);
    const d2 = sealSecret(PLAIN, keyA);
    expect(d1.ciphertext).not.toBe(d2.ciphertext);
    expect(openSecret(d1.ciphertext, keyA.id, [keyA])).toBe(PLAIN);
    expect(openSecret(d2.ciphertext, keyA.id, [keyA])).toBe(PLAIN);
  });

  it('does not contain the plaintext', () => {
    const sealed = sealSecret(PLAIN, keyA);
    expect(sealed.ciphertext).not.toContain(PLAIN);
    const raw = Buffer.from(sealed.ciphertext.slice(3), 'base64');
    expect(raw.includes(Buffer.from(PLAIN, 'utf8'))).toBe(false);
    expect(sealed.ciphertext).not.toContain(Buffer.from(PLAIN).toString('base64'));
  });

  it('throws WrongKeyError when no key with that id is in the keyring', () => {
    const sealed = sealSecret(PLAIN, keyA);
    expectWrongKey(() => openSecret(sealed.ciphertext, sealed.keyId, [keyB]), keyA.id);
    expectWrongKey(() => openSecret(sealed.ciphertext, sealed.keyId, []), keyA.id);
  });

  it('throws WrongKeyError when the key under that id is not the sealing key', () => {
    const sealed = sealSecret(PLAIN, keyA);
    const impostor = { id: keyA.id, key: keyB.key };
    expectWrongKey(() => openSecret(sealed.ciphertext, keyA.id, [impostor]), keyA.id);
  });

  it('throws WrongKeyError for tampered ciphertext (nonce, tag or body)', () => {
    const sealed = sealSecret(PLAIN, keyA);
    for (const index of [0, 11, 12, 27, 28, 12 + 16 + PLAIN.length - 1]) {
      expectWrongKey(() => openSecret(flipByteInPayload(sealed.ciphertext, index), keyA.id, [keyA]), keyA.id);
    }
  });

  it('throws WrongKeyError for malformed ciphertexts', () => {
    const sealed = sealSecret(PLAIN, keyA);
    const body = sealed.ciphertext.slice(3);
    for (const bad of ['', 'v1:', `v2:${body}`, body, 'v1:!!!!', 'v1:' + Buffer.alloc(20).toString('base64')]) {
      expectWrongKey(() => openSecret(bad, keyA.id, [keyA]), keyA.id);
    }
  });
});
