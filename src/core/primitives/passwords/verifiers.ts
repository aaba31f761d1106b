/**
 * One verifier per kind of parsed hash. None computes on the main thread: bcrypt and argon2 are
 * native (Rust, @node-rs) and, like node:crypto's async pbkdf2 and scrypt, run on libuv's thread
 * pool (a share of it: onThreadPool); phpass and SHA-crypt run in the worker pool. Derived bytes
 * are compared in constant time.
 */
import { createHash, createHmac, pbkdf2, scrypt, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { configError } from '../../errors.js';
import type { ParsedHash } from './formats.js';
import { runIterated } from './workerPool.js';

const pbkdf2Async = promisify(pbkdf2);
const scryptAsync = promisify(scrypt) as (
  password: Buffer,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

// The native addons are CommonJS packages with a .node file per platform: loaded on the first
// check, so commands that never check a password never load them (and the CLI bundle leaves
// them outside, scripts/bundle.mjs). One that cannot load is an installation problem, said as
// such — never every password "wrong".
const require = createRequire(import.meta.url);
let bcryptModule: typeof import('@node-rs/bcrypt') | undefined;
let argon2Module: typeof import('@node-rs/argon2') | undefined;
const nativeBcrypt = () => (bcryptModule ??= load<typeof import('@node-rs/bcrypt')>('@node-rs/bcrypt'));
const nativeArgon2 = () => (argon2Module ??= load<typeof import('@node-rs/argon2')>('@node-rs/argon2'));

function load<T>(name: string): T {
  try {
    return require(name) as T;
  } catch (cause) {
    throw configError(`the password hashing library ${name} cannot be loaded on this platform (${process.platform}-${process.arch})`, {
      cause,
      hint: 'reinstall portal-mfa with its optional dependencies (npm ci --include=optional)',
    });
  }
}

export async function verifyParsed(password: string, hash: ParsedHash): Promise<boolean> {
  switch (hash.kind) {
    case 'bcrypt': {
      const bcrypt = nativeBcrypt();
      return onThreadPool(() => bcrypt.verify(bcryptInput(password, hash.prehash), hash.bcrypt));
    }
    case 'argon2': {
      const argon2 = nativeArgon2();
      return onThreadPool(() => argon2.verify(hash.phc, password));
    }
    case 'pbkdf2': {
      const derived = await onThreadPool(() => pbkdf2Async(password, hash.salt, hash.iterations, hash.expected.length, hash.digest));
      return sameBytes(derived, hash.expected);
    }
    case 'scrypt': {
      // OpenSSL needs 128·r·(N + 2 + p) bytes; Node's default ceiling (32 MiB) is below Werkzeug's own default
      const maxmem = 128 * hash.r * (hash.n + 2 + hash.p) + 1024 * 1024;
      const options = { N: hash.n, r: hash.r, p: hash.p, maxmem };
      const derived = await onThreadPool(() => scryptAsync(Buffer.from(password, 'utf8'), hash.salt, hash.expected.length, options));
      return sameBytes(derived, hash.expected);
    }
    case 'phpass': {
      const checksum = await runIterated({ kind: 'phpass', digest: hash.digest, password, salt: hash.salt, countLog2: hash.countLog2 });
      // Drupal 7 keeps only the first 43 characters of its SHA-512 checksum
      return sameBytes(Buffer.from(checksum.slice(0, hash.expected.length)), Buffer.from(hash.expected));
    }
    case 'sha-crypt': {
      const checksum = await runIterated({ kind: 'sha-crypt', digest: hash.digest, password, salt: hash.salt, rounds: hash.rounds });
      return sameBytes(Buffer.from(checksum), Buffer.from(hash.expected));
    }
  }
}

/**
 * libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise) also serves the
 * process's file, DNS and zlib work: password hashes take all but one of its threads, so a burst
 * of sign-ins queues behind itself, not in front of a DNS lookup or a file read.
 */
const THREAD_POOL_SHARE = Math.max(1, (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 1);
let running = 0;
const waiting: (() => void)[] = [];

async function onThreadPool<T>(work: () => Promise<T>): Promise<T> {
  if (running < THREAD_POOL_SHARE) running++;
  // a finishing check hands its place straight to the next one (release below)
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

/** What bcrypt is given: the password, or the framework's pre-hash of it (a few microseconds of work). */
function bcryptInput(password: string, prehash: 'none' | 'django-sha256-hex' | 'wordpress-hmac-sha384'): string {
  switch (prehash) {
    case 'none':
      return password;
    case 'django-sha256-hex':
      // Django's BCryptSHA256PasswordHasher: bcrypt of the hex SHA-256, so long passwords count whole
      return createHash('sha256').update(password, 'utf8').digest('hex');
    case 'wordpress-hmac-sha384':
      // WordPress 6.8+ wp_check_password: base64(HMAC-SHA384(key "wp-sha384", password))
      return createHmac('sha384', 'wp-sha384').update(password, 'utf8').digest('base64');
  }
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A new bcrypt hash ($2b$), for the demo portal and the tests. */
export function bcryptHash(password: string, cost: number): Promise<string> {
  return nativeBcrypt().hash(password, cost);
}
