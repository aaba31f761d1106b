/**
 * Password hashes as the portals' frameworks store them, for the shape fixtures. Each is computed
 * here (not copied from anywhere), memoised per process so a suite that builds a shape per test
 * pays for each password once.
 */
import { createHash, pbkdf2Sync } from 'node:crypto';
import { Algorithm, hash as argon2Hash } from '@node-rs/argon2';
import { hashSync as bcryptHashSync } from '@node-rs/bcrypt';

/** The format of a stored hash, as the fixtures name it (the product has its own names). */
export type HashFormat = 'bcrypt-2y' | 'bcrypt-2b' | 'django-pbkdf2_sha256' | 'argon2id' | 'django-sha1' | 'django-unusable';

const memo = new Map<string, string>();
const argonMemo = new Map<string, Promise<string>>();

function once(key: string, make: () => string): string {
  let v = memo.get(key);
  if (v === undefined) {
    v = make();
    memo.set(key, v);
  }
  return v;
}

/** Laravel's `Hash::make`: PHP's bcrypt, `$2y$` (native bcrypt makes `$2b$`, the same algorithm). */
export function laravelBcrypt(password: string, cost = 10): string {
  return once(`2y:${cost}:${password}`, () => bcryptHashSync(password, cost).replace(/^\$2b\$/, '$2y$'));
}

/** A bcrypt hash as Node and most non-PHP stacks write it. */
export function bcrypt2b(password: string, cost = 10): string {
  return once(`2b:${cost}:${password}`, () => bcryptHashSync(password, cost));
}

/** A deterministic Django-style salt (22 characters of [A-Za-z0-9], like `get_random_string(22)`). */
function djangoSalt(seed: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = createHash('sha256').update(`salt:${seed}`).digest();
  return Array.from(bytes.subarray(0, 22), (b) => alphabet[b % alphabet.length]).join('');
}

/**
 * Django's PBKDF2PasswordHasher: `pbkdf2_sha256$<iterations>$<salt>$<base64 of the 32-byte key>`.
 * Django's own default is 600,000+ iterations; fixtures use fewer so a check stays fast — the
 * format (and any verifier that reads the count from the hash) is the same.
 */
export function djangoPbkdf2(password: string, iterations = 1000, saltSeed = password): string {
  const salt = djangoSalt(saltSeed);
  return once(`pbkdf2:${iterations}:${salt}:${password}`, () => {
    const key = pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('base64');
    return `pbkdf2_sha256$${iterations}$${salt}$${key}`;
  });
}

/** Django's legacy SHA1PasswordHasher (`sha1$<salt>$<hex>`): a format portal-mfa does not verify. */
export function djangoSha1(password: string): string {
  const salt = djangoSalt(`sha1:${password}`).slice(0, 12);
  return `sha1$${salt}$${createHash('sha1')
    .update(salt + password)
    .digest('hex')}`;
}

/** Django's `set_unusable_password()`: `!` and 40 random characters (no password signs in). */
export function djangoUnusable(seed: string): string {
  return `!${djangoSalt(`unusable:${seed}`)}${djangoSalt(`unusable2:${seed}`).slice(0, 18)}`;
}

/** An argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), at a low cost for speed. */
export function argon2idHash(password: string): Promise<string> {
  let made = argonMemo.get(password);
  if (made === undefined) {
    made = argon2Hash(password, {
      algorithm: Algorithm.Argon2id,
      salt: createHash('sha256').update(`argon2:${password}`).digest().subarray(0, 16),
      parallelism: 1,
      timeCost: 2,
      memoryCost: 1024,
      outputLen: 32,
    });
    argonMemo.set(password, made);
  }
  return made;
}
