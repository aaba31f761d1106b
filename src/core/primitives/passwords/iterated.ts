/**
 * The hand-iterated formats: phpass (WordPress, phpBB, Drupal 7) and SHA-crypt ($5$/$6$, Drepper's
 * specification as glibc implements it). Each is thousands of small hashes in a row with no native
 * call to hand the loop to, so these functions are synchronous and run only inside the worker pool
 * (workerPool.ts), never on the main thread.
 *
 * Written here rather than taken from npm: the phpass packages are unmaintained, and the maintained
 * SHA-crypt package (unixcrypt 3.0.4) computes wrong hashes for passwords whose length is a multiple
 * of the digest size (32/64 bytes) — the vectors in test/unit/passwords.test.ts cover those lengths.
 */
import { createHash } from 'node:crypto';

/** crypt(3)'s base-64 alphabet (not RFC 4648's) */
export const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** What one worker task computes: the encoded checksum that the stored hash must end with. */
export type IteratedTask =
  | { kind: 'phpass'; digest: 'md5' | 'sha512'; password: string; salt: string; countLog2: number }
  | { kind: 'sha-crypt'; digest: 'sha256' | 'sha512'; password: string; salt: string; rounds: number };

export function computeIterated(task: IteratedTask): string {
  return task.kind === 'phpass'
    ? phpassChecksum(task.digest, task.password, task.salt, task.countLog2)
    : shaCryptChecksum(task.digest, task.password, task.salt, task.rounds);
}

/**
 * phpass's "portable" hash (openwall phpass 0.3 crypt_private; Drupal 7 _password_crypt with
 * SHA-512): H(salt‖password), then 2^countLog2 times H(previous‖password), encoded little-end first.
 * The caller truncates Drupal's 86-character SHA-512 encoding to the 43 characters Drupal stores.
 */
function phpassChecksum(digest: 'md5' | 'sha512', password: string, salt: string, countLog2: number): string {
  const pw = Buffer.from(password, 'utf8');
  let hash = createHash(digest).update(salt, 'utf8').update(pw).digest();
  for (let count = 2 ** countLog2; count > 0; count--) hash = createHash(digest).update(hash).update(pw).digest();
  return phpassEncode64(hash);
}

/** phpass's encode64: 3 bytes → 4 characters, least significant bits first. */
function phpassEncode64(input: Buffer): string {
  let out = '';
  for (let i = 0; i < input.length; i += 3) {
    const value = input[i]! | ((input[i + 1] ?? 0) << 8) | ((input[i + 2] ?? 0) << 16);
    const chars = i + 2 < input.length ? 4 : i + 1 < input.length ? 3 : 2;
    for (let c = 0; c < chars; c++) out += CRYPT_ALPHABET[(value >> (6 * c)) & 0x3f];
  }
  return out;
}

/**
 * SHA-crypt (https://www.akkadia.org/drepper/SHA-crypt.txt), steps 1–22. `salt` is at most 16
 * characters (the parser enforces it); `rounds` is already within the specification's range.
 */
function shaCryptChecksum(digest: 'sha256' | 'sha512', password: string, salt: string, rounds: number): string {
  const size = digest === 'sha256' ? 32 : 64;
  const h = (...parts: Buffer[]) => {
    const ctx = createHash(digest);
    for (const part of parts) ctx.update(part);
    return ctx.digest();
  };
  const p = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt, 'utf8');
  // steps 4–8: digest B = H(P S P)
  const b = h(p, s, p);
  // steps 1–3, 9–12: digest A = H(P S, B repeated to the length of P, then B or P per bit of len(P))
  const a = createHash(digest).update(p).update(s).update(stretch(b, p.length));
  for (let bits = p.length; bits > 0; bits >>= 1) a.update(bits & 1 ? b : p);
  let c = a.digest();
  // steps 13–16: P' = H(P repeated len(P) times), stretched to len(P)
  const pBytes = stretch(h(...Array<Buffer>(p.length).fill(p)), p.length);
  // steps 17–20: S' = H(S repeated 16 + A[0] times), stretched to len(S)
  const sBytes = stretch(h(...Array<Buffer>(16 + c[0]!).fill(s)), s.length);
  // step 21: the rounds
  for (let round = 0; round < rounds; round++) {
    const ctx = createHash(digest).update(round & 1 ? pBytes : c);
    if (round % 3 !== 0) ctx.update(sBytes);
    if (round % 7 !== 0) ctx.update(pBytes);
    c = ctx.update(round & 1 ? c : pBytes).digest();
  }
  // step 22: the byte order of the encoding, three bytes per group (glibc's b64_from_24bit calls)
  const order = size === 32 ? SHA256_ORDER : SHA512_ORDER;
  let out = '';
  for (const [b2, b1, b0, chars] of order) {
    let w = ((b2 < 0 ? 0 : c[b2]!) << 16) | ((b1 < 0 ? 0 : c[b1]!) << 8) | c[b0]!;
    for (let i = 0; i < chars; i++, w >>= 6) out += CRYPT_ALPHABET[w & 0x3f];
  }
  return out;
}

/** `digest` repeated, then cut, to exactly `length` bytes (steps 9–10, 16 and 20). */
function stretch(digest: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let offset = 0; offset < length; offset += digest.length) digest.copy(out, offset, 0, Math.min(digest.length, length - offset));
  return out;
}

// [byte for bits 16–23, bits 8–15, bits 0–7, characters]; -1 is a zero byte (the short last group)
const SHA256_ORDER: readonly (readonly [number, number, number, number])[] = [
  [0, 10, 20, 4],
  [21, 1, 11, 4],
  [12, 22, 2, 4],
  [3, 13, 23, 4],
  [24, 4, 14, 4],
  [15, 25, 5, 4],
  [6, 16, 26, 4],
  [27, 7, 17, 4],
  [18, 28, 8, 4],
  [9, 19, 29, 4],
  [-1, 31, 30, 3],
];
const SHA512_ORDER: readonly (readonly [number, number, number, number])[] = [
  [0, 21, 42, 4],
  [22, 43, 1, 4],
  [44, 2, 23, 4],
  [3, 24, 45, 4],
  [25, 46, 4, 4],
  [47, 5, 26, 4],
  [6, 27, 48, 4],
  [28, 49, 7, 4],
  [50, 8, 29, 4],
  [9, 30, 51, 4],
  [31, 52, 10, 4],
  [53, 11, 32, 4],
  [12, 33, 54, 4],
  [34, 55, 13, 4],
  [56, 14, 35, 4],
  [15, 36, 57, 4],
  [37, 58, 16, 4],
  [59, 17, 38, 4],
  [18, 39, 60, 4],
  [40, 61, 19, 4],
  [62, 20, 41, 4],
  [-1, -1, 63, 2],
];
