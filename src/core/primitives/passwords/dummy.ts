/**
 * Dummy hashes: checked instead of a real one when the user does not exist (or has no usable
 * hash), so that answer takes as long as a real wrong password (no enumeration by timing, SPEC §2).
 * A dummy has the sample's format and cost parameters, a random salt and a random checksum: no
 * password matches it (that would take a preimage), and checking it costs what checking the sample does.
 */
import { randomBytes } from 'node:crypto';
import { CRYPT_ALPHABET } from './iterated.js';
import { type HashFormat, type ParsedHash, parseHash } from './formats.js';

/** bcrypt at cost 10 of a random string nobody knows: the dummy when the sample says nothing usable. */
export const DEFAULT_DUMMY_HASH = '$2b$10$e7Kecw/JuT7TnzDsaJgukOXN.5iE2p1B07e6UgRC2hGP1m/Y2kYcC';

export function dummyHashLike(sample: string | null | undefined): string {
  if (typeof sample !== 'string') return DEFAULT_DUMMY_HASH;
  const parsed = parseHash(sample);
  // a malformed or over-costly sample is never imitated: its cost could be anything
  return parsed.ok ? imitate(parsed.hash) : DEFAULT_DUMMY_HASH;
}

function imitate(h: ParsedHash): string {
  switch (h.kind) {
    case 'bcrypt': {
      const bcrypt = DEFAULT_DUMMY_HASH.replace(/^\$2b\$\d\d\$/, `$2b$${String(h.cost).padStart(2, '0')}$`);
      return (BCRYPT_PREFIX[h.format] ?? '') + bcrypt;
    }
    case 'argon2': {
      // same variant, version and parameters; a 16-byte salt and a 32-byte checksum
      const head = h.phc.slice(0, h.phc.indexOf('$m=') + 1);
      const phc = `${head}m=${h.memoryKiB},t=${h.passes},p=${h.parallelism}$${b64(16)}$${b64(32)}`;
      return h.format === 'django-argon2' ? `argon2${phc}` : phc;
    }
    case 'pbkdf2':
      return h.format === 'werkzeug-pbkdf2'
        ? `pbkdf2:${h.digest}:${h.iterations}$${cryptChars(16)}$${randomBytes(h.expected.length).toString('hex')}`
        : `pbkdf2_${h.digest}$${h.iterations}$${cryptChars(22)}$${randomBytes(h.expected.length).toString('base64')}`;
    case 'scrypt':
      return `scrypt:${h.n}:${h.r}:${h.p}$${cryptChars(16)}$${randomBytes(h.expected.length).toString('hex')}`;
    case 'phpass':
      return `${h.digest === 'md5' ? '$P$' : '$S$'}${CRYPT_ALPHABET[h.countLog2]}${cryptChars(8)}${cryptChars(h.expected.length)}`;
    case 'sha-crypt':
      return `$${h.digest === 'sha256' ? 5 : 6}$rounds=${h.rounds}$${cryptChars(16)}$${cryptChars(h.expected.length)}`;
  }
}

const BCRYPT_PREFIX: Partial<Record<HashFormat, string>> = { 'django-bcrypt': 'bcrypt$', 'django-bcrypt-sha256': 'bcrypt_sha256$', 'wordpress-bcrypt': '$wp' };

function b64(bytes: number): string {
  return randomBytes(bytes).toString('base64').replace(/=+$/, '');
}

function cryptChars(n: number): string {
  return Array.from(randomBytes(n), (byte) => CRYPT_ALPHABET[byte & 0x3f]).join('');
}
