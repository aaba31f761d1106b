/**
 * Password verification against the portal's stored hashes: bcrypt ($2a$/$2b$/$2y$) and
 * argon2id where present. Unknown formats are refused (false), never crashed on. A lookup of a
 * user who does not exist still pays for one bcrypt comparison, so timing does not reveal
 * whether an account exists.
 */
export type HashFormat = 'bcrypt' | 'argon2id' | 'unknown';

// bcrypt of a random string nobody knows; compared against when the user does not exist
const DUMMY_BCRYPT = '$2b$10$e7Kecw/JuT7TnzDsaJgukOXN.5iE2p1B07e6UgRC2hGP1m/Y2kYcC';

/**
 * A hash nobody's password matches, at the same bcrypt cost as `like` (a stored hash), so the
 * check for an unknown user costs what a real one costs (no enumeration by timing, SPEC §2).
 */
export function dummyHashLike(like: string | undefined): string {
  const cost = like !== undefined && hashFormat(like) === 'bcrypt' ? like.slice(4, 6) : '10';
  return DUMMY_BCRYPT.replace(/^\$2b\$\d{2}\$/, `$2b$${cost}$`);
}

export function hashFormat(hash: string): HashFormat {
  if (/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash)) return 'bcrypt';
  if (/^\$argon2id\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.test(hash)) return 'argon2id';
  return 'unknown';
}

export async function verifyPassword(password: string, hash: string | null | undefined): Promise<boolean> {
  if (hash === null || hash === undefined) {
    await bcryptCompare(password, DUMMY_BCRYPT);
    return false;
  }
  switch (hashFormat(hash)) {
    case 'bcrypt':
      return bcryptCompare(password, hash);
    case 'argon2id': {
      const { argon2Verify } = await import('hash-wasm');
      try {
        return await argon2Verify({ password, hash });
      } catch {
        return false;
      }
    }
    default:
      await bcryptCompare(password, DUMMY_BCRYPT);
      return false;
  }
}

async function bcryptCompare(password: string, hash: string): Promise<boolean> {
  const { default: bcrypt } = await import('bcryptjs');
  // bcrypt only reads the first 72 bytes; the library compares in constant time
  return bcrypt.compare(password, hash.replace(/^\$2y\$/, '$2b$'));
}

export async function hashPasswordBcrypt(password: string, cost = 10): Promise<string> {
  const { default: bcrypt } = await import('bcryptjs');
  return bcrypt.hash(password, cost);
}
