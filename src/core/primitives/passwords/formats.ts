/**
 * Recognising and parsing the portal's stored password hashes. Nothing here computes a hash: a
 * string is named by its prefix (hashFormat) and then read strictly into the parameters a verifier
 * needs (parseHash). Cost parameters are checked against LIMITS before anything is computed, so a
 * hostile or corrupt row can never make a check run for minutes or allocate gigabytes.
 */
import { CRYPT_ALPHABET } from './iterated.js';

/** The stable names operators see in audit rows and `db check` counts (docs/hash-formats.md). */
export type HashFormat =
  | 'bcrypt'
  | 'argon2id'
  | 'argon2i'
  | 'argon2d'
  | 'django-pbkdf2-sha256'
  | 'django-pbkdf2-sha1'
  | 'django-argon2'
  | 'django-bcrypt-sha256'
  | 'django-bcrypt'
  | 'werkzeug-pbkdf2'
  | 'werkzeug-scrypt'
  | 'phpass'
  | 'drupal7-sha512'
  | 'wordpress-bcrypt'
  | 'sha512-crypt'
  | 'sha256-crypt'
  | 'unknown';

/** Why a hash of a known format cannot be checked at all. */
export type HashProblem = 'malformed' | 'cost-out-of-range';

/**
 * The most work one check may cost. Each is well above what the frameworks generate today (their
 * defaults in brackets) and far below what would stall the thread pool or exhaust memory.
 */
const LIMITS = {
  /** bcrypt cost, log2 of the rounds [10–12; 16 takes ~4 s] */
  bcryptCost: { min: 4, max: 16 },
  /** PBKDF2 iterations [Django 5.2: 1,000,000; Werkzeug 3.1: 1,000,000] */
  pbkdf2Iterations: 10_000_000,
  /** scrypt: memory 128·N·r bytes and work N·r·p [Werkzeug: N=32768, r=8, p=1 → 32 MiB, 2^18] */
  scryptMemoryBytes: 256 * 1024 * 1024,
  scryptWork: 2 ** 23,
  /** argon2 memory in KiB and passes [Django: m=102400 (100 MiB), t=2, p=8; OWASP: 19–46 MiB] */
  argon2MemoryKiB: 1024 * 1024,
  argon2Passes: 64,
  argon2Parallelism: 64,
  /** phpass log2 of the iterations (phpass allows 7–30) [WordPress 13, phpBB 11, Drupal 7: 15–16] */
  phpassCountLog2: { min: 7, max: 20 },
  /** SHA-crypt rounds (the specification allows 1000–999,999,999) [glibc 5000; passlib 535,000–656,000] */
  shaCryptRounds: { min: 1000, max: 1_000_000 },
} as const;

/** Werkzeug's defaults when a hash's method names no parameters (Werkzeug 3.1's values). */
const WERKZEUG_PBKDF2_DEFAULT_ITERATIONS = 1_000_000;
const WERKZEUG_SCRYPT_DEFAULT = { n: 2 ** 15, r: 8, p: 1 };

type Pbkdf2Digest = 'sha1' | 'sha256' | 'sha512';
const DIGEST_BYTES: Record<Pbkdf2Digest, number> = { sha1: 20, sha256: 32, sha512: 64 };

/** A hash read into what its verifier needs. */
export type ParsedHash =
  /** a plain bcrypt string, checked against the password — or a pre-hash of it (Django, WordPress 6.8) */
  | { kind: 'bcrypt'; format: HashFormat; bcrypt: string; cost: number; prehash: 'none' | 'django-sha256-hex' | 'wordpress-hmac-sha384' }
  | { kind: 'argon2'; format: HashFormat; phc: string; memoryKiB: number; passes: number; parallelism: number }
  | { kind: 'pbkdf2'; format: HashFormat; digest: Pbkdf2Digest; iterations: number; salt: Buffer; expected: Buffer }
  | { kind: 'scrypt'; format: HashFormat; n: number; r: number; p: number; salt: Buffer; expected: Buffer }
  | { kind: 'phpass'; format: HashFormat; digest: 'md5' | 'sha512'; countLog2: number; salt: string; expected: string }
  | { kind: 'sha-crypt'; format: HashFormat; digest: 'sha256' | 'sha512'; rounds: number; salt: string; expected: string };

export type ParseResult = { ok: true; hash: ParsedHash } | { ok: false; format: HashFormat; problem: HashProblem };

/** Prefixes, most specific first: the format a stored string claims to be, whether or not it is well formed. */
const PREFIXES: readonly (readonly [string | RegExp, HashFormat])[] = [
  [/^\$2[aby]\$/, 'bcrypt'],
  ['$argon2id$', 'argon2id'],
  ['$argon2i$', 'argon2i'],
  ['$argon2d$', 'argon2d'],
  ['pbkdf2_sha256$', 'django-pbkdf2-sha256'],
  ['pbkdf2_sha1$', 'django-pbkdf2-sha1'],
  ['argon2$', 'django-argon2'],
  ['bcrypt_sha256$', 'django-bcrypt-sha256'],
  ['bcrypt$', 'django-bcrypt'],
  [/^pbkdf2[:$]/, 'werkzeug-pbkdf2'],
  [/^scrypt[:$]/, 'werkzeug-scrypt'],
  [/^\$[PH]\$/, 'phpass'],
  ['$S$', 'drupal7-sha512'],
  ['$wp$2', 'wordpress-bcrypt'],
  ['$6$', 'sha512-crypt'],
  ['$5$', 'sha256-crypt'],
];

/** The format a stored hash claims by its prefix ('unknown' when none matches). Cheap; computes nothing. */
export function hashFormat(hash: string): HashFormat {
  if (typeof hash !== 'string') return 'unknown';
  for (const [prefix, format] of PREFIXES) {
    if (typeof prefix === 'string' ? hash.startsWith(prefix) : prefix.test(hash)) return format;
  }
  return 'unknown';
}

/** Reads a hash of a known format strictly; anything unexpected is `malformed`, never a throw. */
export function parseHash(hash: string): ParseResult {
  const format = hashFormat(hash);
  const malformed = { ok: false, format, problem: 'malformed' } as const;
  const tooCostly = { ok: false, format, problem: 'cost-out-of-range' } as const;
  const parsed = PARSERS[format](hash, format);
  if (parsed === null) return malformed;
  return withinLimits(parsed) ? { ok: true, hash: parsed } : tooCostly;
}

type Parser = (hash: string, format: HashFormat) => ParsedHash | null;

const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const parseBcrypt =
  (prefix: string, prehash: 'none' | 'django-sha256-hex' | 'wordpress-hmac-sha384'): Parser =>
  (hash, format) => {
    if (!hash.startsWith(prefix)) return null;
    const bcrypt = hash.slice(prefix.length);
    const m = BCRYPT.exec(bcrypt);
    // $2y$ (PHP) is $2b$ under another name; the native library reads all three
    return m ? { kind: 'bcrypt', format, bcrypt, cost: Number(m[1]), prehash } : null;
  };

// PHC string (https://github.com/P-H-C/phc-string-format): m, t, p in this order; an optional data=
const ARGON2 =
  /^\$argon2(?:id|i|d)\$(?:v=(16|19)\$)?m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})(?:,data=[A-Za-z0-9+/]*)?\$([A-Za-z0-9+/]{11,})\$([A-Za-z0-9+/]{6,})$/;
const parseArgon2 =
  (prefix: string): Parser =>
  (hash, format) => {
    const phc = prefix === '' ? hash : `$${hash.slice(prefix.length)}`;
    const m = ARGON2.exec(phc);
    // unpadded base64 never leaves a single character over
    if (!m || m[5]!.length % 4 === 1 || m[6]!.length % 4 === 1) return null;
    const [memoryKiB, passes, parallelism] = [Number(m[2]), Number(m[3]), Number(m[4])];
    // the specification's own floor: at least 8 KiB per lane
    if (parallelism < 1 || memoryKiB < 8 * parallelism) return null;
    return { kind: 'argon2', format, phc, memoryKiB, passes, parallelism };
  };

/** Django: pbkdf2_<digest>$<iterations>$<salt>$<base64 of the derived key> */
const parseDjangoPbkdf2 =
  (digest: Pbkdf2Digest): Parser =>
  (hash, format) => {
    const parts = hash.split('$');
    if (parts.length !== 4) return null;
    const [, iterations, salt, b64] = parts as [string, string, string, string];
    const expected = strictBase64(b64);
    if (!POSITIVE_INT.test(iterations) || salt === '' || expected === null || expected.length !== DIGEST_BYTES[digest]) return null;
    return { kind: 'pbkdf2', format, digest, iterations: Number(iterations), salt: Buffer.from(salt, 'utf8'), expected };
  };

/** Werkzeug: <method>$<salt>$<hex>, method pbkdf2[:<digest>[:<iterations>]] or scrypt[:<N>:<r>:<p>] */
const parseWerkzeug: Parser = (hash, format) => {
  const parts = hash.split('$');
  if (parts.length !== 3) return null;
  const [method, salt, hex] = parts as [string, string, string];
  const expected = HEX.test(hex) ? Buffer.from(hex, 'hex') : null;
  if (salt === '' || expected === null) return null;
  const [name, ...args] = method.split(':');
  const saltBytes = Buffer.from(salt, 'utf8');
  if (name === 'pbkdf2' && args.length <= 2) {
    const digest = (args[0] ?? 'sha256') as Pbkdf2Digest;
    const iterations = args[1] ?? String(WERKZEUG_PBKDF2_DEFAULT_ITERATIONS);
    if (!Object.hasOwn(DIGEST_BYTES, digest) || !POSITIVE_INT.test(iterations) || expected.length !== DIGEST_BYTES[digest]) return null;
    return { kind: 'pbkdf2', format, digest, iterations: Number(iterations), salt: saltBytes, expected };
  }
  if (name === 'scrypt' && (args.length === 0 || args.length === 3)) {
    const [n, r, p] = args.length === 0 ? [WERKZEUG_SCRYPT_DEFAULT.n, WERKZEUG_SCRYPT_DEFAULT.r, WERKZEUG_SCRYPT_DEFAULT.p] : args.map(toPositiveInt);
    // hashlib.scrypt's default key length is 64 bytes; N must be a power of two above 1
    if (n === undefined || r === undefined || p === undefined || n < 2 || (n & (n - 1)) !== 0 || expected.length !== 64) return null;
    return { kind: 'scrypt', format, n, r, p, salt: saltBytes, expected };
  }
  return null;
};

/** phpass portable hash: $P$ (or phpBB's $H$), Drupal 7's $S$: <count char><8-char salt><checksum> */
const parsePhpass =
  (digest: 'md5' | 'sha512', checksumLength: number): Parser =>
  (hash, format) => {
    const m = new RegExp(`^\\$[PHS]\\$([./0-9A-Za-z])([./0-9A-Za-z]{8})([./0-9A-Za-z]{${checksumLength}})$`).exec(hash);
    if (!m) return null;
    return { kind: 'phpass', format, digest, countLog2: CRYPT_ALPHABET.indexOf(m[1]!), salt: m[2]!, expected: m[3]! };
  };

/** SHA-crypt: $5$ / $6$, optional rounds=<N>$, a salt of at most 16 characters, the checksum */
const parseShaCrypt =
  (digest: 'sha256' | 'sha512'): Parser =>
  (hash, format) => {
    const checksumLength = digest === 'sha256' ? 43 : 86;
    const m = new RegExp(`^\\$[56]\\$(?:rounds=([1-9]\\d{0,9})\\$)?([!-#%-~]{0,16})\\$([./0-9A-Za-z]{${checksumLength}})$`).exec(hash);
    if (!m) return null;
    return { kind: 'sha-crypt', format, digest, rounds: m[1] === undefined ? 5000 : Number(m[1]), salt: m[2]!, expected: m[3]! };
  };

const PARSERS: Record<HashFormat, Parser> = {
  bcrypt: parseBcrypt('', 'none'),
  'django-bcrypt': parseBcrypt('bcrypt$', 'none'),
  'django-bcrypt-sha256': parseBcrypt('bcrypt_sha256$', 'django-sha256-hex'),
  'wordpress-bcrypt': parseBcrypt('$wp', 'wordpress-hmac-sha384'),
  argon2id: parseArgon2(''),
  argon2i: parseArgon2(''),
  argon2d: parseArgon2(''),
  'django-argon2': parseArgon2('argon2$'),
  'django-pbkdf2-sha256': parseDjangoPbkdf2('sha256'),
  'django-pbkdf2-sha1': parseDjangoPbkdf2('sha1'),
  'werkzeug-pbkdf2': parseWerkzeug,
  'werkzeug-scrypt': parseWerkzeug,
  phpass: parsePhpass('md5', 22),
  // Drupal stores 55 characters: the 12-character setting and the first 43 of the checksum
  'drupal7-sha512': parsePhpass('sha512', 43),
  'sha512-crypt': parseShaCrypt('sha512'),
  'sha256-crypt': parseShaCrypt('sha256'),
  unknown: () => null,
};

function withinLimits(h: ParsedHash): boolean {
  const within = (value: number, range: { min: number; max: number }) => value >= range.min && value <= range.max;
  switch (h.kind) {
    case 'bcrypt':
      return within(h.cost, LIMITS.bcryptCost);
    case 'argon2':
      return h.memoryKiB <= LIMITS.argon2MemoryKiB && within(h.passes, { min: 1, max: LIMITS.argon2Passes }) && h.parallelism <= LIMITS.argon2Parallelism;
    case 'pbkdf2':
      return h.iterations <= LIMITS.pbkdf2Iterations;
    case 'scrypt':
      return 128 * h.n * h.r <= LIMITS.scryptMemoryBytes && h.n * h.r * h.p <= LIMITS.scryptWork;
    case 'phpass':
      return within(h.countLog2, LIMITS.phpassCountLog2);
    case 'sha-crypt':
      return within(h.rounds, LIMITS.shaCryptRounds);
  }
}

const POSITIVE_INT = /^[1-9]\d{0,9}$/;
const HEX = /^(?:[0-9a-f]{2})+$/;

function toPositiveInt(s: string): number | undefined {
  return POSITIVE_INT.test(s) ? Number(s) : undefined;
}

/** Standard base64 with its padding, as Python's base64.b64encode writes it; null for anything else. */
function strictBase64(s: string): Buffer | null {
  if (s.length === 0 || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return null;
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : null;
}
