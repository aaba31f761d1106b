/**
 * The portal's password hashes (SPEC §5, issue 19 item 5): every format against vectors from its
 * own reference or generated independently (Python's hashlib and glibc's crypt), hostile and
 * malformed hashes, the dummy check, and that checks leave the main thread free (issue 22 item 2).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dummyHashLike, type HashFormat, hashFormat, hashPasswordBcrypt, verifyPassword } from '../../src/core/primitives/passwords.js';
import { parseHash } from '../../src/core/primitives/passwords/formats.js';

// passlib's test strings (passlib/tests/test_handlers.py)
const UPASS_TABLE = 't\u00e1\u0411\u2113\u0259';
const UPASS_LETMEIN = 'l\u00e8tmein';
// the password of the vectors generated here (Python 3.11 hashlib / crypt, glibc)
const SNOWMAN = 'correct horse \u2603';

/** [format, password, stored hash, where the vector comes from] */
const VECTORS: [HashFormat, string, string, string][] = [
  // openwall crypt_blowfish wrapper.c (also passlib); PHP's password_hash test; glibc
  ['bcrypt', 'U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', 'openwall'],
  ['bcrypt', '', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy', 'openwall'],
  ['bcrypt', 'rasmuslerdorf', '$2y$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi', 'php-src password_hash.phpt'],
  ['bcrypt', SNOWMAN, '$2b$05$abcdefghijklmnopqrstuu77xQYUMcX7P0EgfXCzNg72fu74172xe', 'glibc crypt'],
  // phc-winner-argon2 src/test.c; passlib's argon2 reference data (version 16 has no v=)
  ['argon2id', 'password', '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4', 'argon2 test.c'],
  ['argon2id', 'password', '$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc', 'argon2 test.c'],
  ['argon2i', 'password', '$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8', 'argon2 test.c'],
  ['argon2i', 'password', '$argon2i$m=256,t=2,p=1$c29tZXNhbHQ$/U3YPXYsSb3q9XxHvc0MLxur+GP960kN9j7emXX8zwY', 'argon2 test.c, version 16'],
  ['argon2d', 'password', '$argon2d$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$cZn5d+rFh+ZfuRhm2iGUGgcrW5YLeM6q7L3vBsdmFA0', 'passlib argon2_cffi'],
  // passlib test_handlers_django.py
  ['django-pbkdf2-sha256', 'not a password', 'pbkdf2_sha256$10000$kjVJaVz6qsnJ$5yPHw3rwJGECpUf70daLGhOrQ5+AMxIJdz1c3bqK1Rs=', 'passlib'],
  ['django-pbkdf2-sha256', UPASS_TABLE, 'pbkdf2_sha256$10000$bEwAfNrH1TlQ$OgYUblFNUX1B8GfMqaCYUK/iHyO0pa7STTDdaEJBuY0=', 'passlib'],
  ['django-pbkdf2-sha256', UPASS_LETMEIN, 'pbkdf2_sha256$1000$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A=', 'hashlib.pbkdf2_hmac'],
  ['django-pbkdf2-sha1', 'not a password', 'pbkdf2_sha1$10000$wz5B6WkasRoF$atJmJ1o+XfJxKq1+Nu1f1i57Z5I=', 'passlib'],
  ['django-pbkdf2-sha1', UPASS_TABLE, 'pbkdf2_sha1$10000$KZKWwvqb8BfL$rw5pWsxJEU4JrZAQhHTCO+u0f5Y=', 'passlib'],
  ['django-argon2', 'password', 'argon2$argon2i$v=19$m=256,t=1,p=1$c29tZXNhbHQ$AJFIsNZTMKTAewB4+ETN1A', 'passlib'],
  ['django-argon2', UPASS_LETMEIN, 'argon2$argon2i$v=19$m=512,t=2,p=2$V25jN1l4UUJZWkR1$MxpA1BD2Gh7+D79gaAw6sQ', 'passlib'],
  // Django's Argon2PasswordHasher is "argon2" + argon2-cffi's PHC string: test.c's argon2id vector so wrapped
  ['django-argon2', 'password', 'argon2$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4', 'argon2 test.c'],
  ['django-bcrypt-sha256', '', 'bcrypt_sha256$$2a$06$/3OeRpbOf8/l6nPPRdZPp.nRiyYqPobEZGdNRBWihQhiFDh1ws1tu', 'passlib (Django 1.6)'],
  ['django-bcrypt-sha256', UPASS_LETMEIN, 'bcrypt_sha256$$2a$08$NDjSAIcas.EcoxCRiArvT.MkNiPYVhrsrnJsRkLueZOoV1bsQqlmC', 'passlib (Django 1.6)'],
  ['django-bcrypt-sha256', 'abc123'.repeat(12), 'bcrypt_sha256$$2a$06$Tg/oYyZTyAf.Nb3qSgN61OySmyXA8FoY4PjGizjE1QSDfuL5MXNni', 'passlib'],
  ['django-bcrypt', '', 'bcrypt$$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.', 'passlib'],
  ['django-bcrypt', UPASS_TABLE, 'bcrypt$$2a$05$Z17AXnnlpzddNUvnC6cZNOSwMA/8oNiKnHTHTwLlBijfucQQlHjaG', 'passlib'],
  // Werkzeug's algorithm is hashlib with the salt as UTF-8 bytes and the key in hex: generated with hashlib
  ['werkzeug-pbkdf2', SNOWMAN, 'pbkdf2:sha256:2000$SaltSalt1234abcd$e585d0561483ca4ddacb70553e41f2ce65c484610c0117e44e3987bd424fa3e8', 'hashlib'],
  ['werkzeug-pbkdf2', SNOWMAN, 'pbkdf2:sha1:1000$SaltSalt1234abcd$0984dab6fed8c52f8ae11d862e529105d36cb321', 'hashlib'],
  [
    'werkzeug-pbkdf2',
    SNOWMAN,
    'pbkdf2:sha512:3000$SaltSalt1234abcd$6aa0ef576e65ac514330b988ccf519632f1dd129469e76a630a4bbac25942e0152e1faf3204c322330ca2d81d69cf8eb350f47193fce288635533795cdc128b0',
    'hashlib',
  ],
  // no iteration count: Werkzeug 3.1's default, 1,000,000
  ['werkzeug-pbkdf2', SNOWMAN, 'pbkdf2:sha256$aB3dEf6h$bc9538babe025c1480f79378cfb89c4b5442a830bc168f3cd670c84148099632', 'hashlib'],
  [
    'werkzeug-scrypt',
    SNOWMAN,
    'scrypt:16384:8:1$Wk2pQ9xZ$302ad846dd5bf05dcb8a4cd89d36ec0ef70140f4cab89d2a71e2fc9e8e656c31a08778e7fecadc4633b9bcfeef7a7d0784229bc0d5f9a532d426b90acef924ee',
    'hashlib.scrypt',
  ],
  // no parameters: Werkzeug's default N=32768, r=8, p=1 (32 MiB, above Node's default maxmem)
  [
    'werkzeug-scrypt',
    SNOWMAN,
    'scrypt$Wk2pQ9xZ$d96d580ca8686ab9e74eb4e7ee7ca23ece26bd158ae01e2b1c82fb115f709f9beb569cbc7dd65cd5fb1cea7e7d00b64aeb0c1d2bf66cc1c1c61fb393be028ccc',
    'hashlib.scrypt',
  ],
  // openwall phpass 0.3 and John the Ripper 1.7.9 (via passlib); $H$ is phpBB's prefix
  ['phpass', 'test12345', '$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0', 'openwall phpass'],
  ['phpass', 'test1', '$H$9aaaaaSXBjgypwqm.JsMssPLiS8YQ00', 'John the Ripper'],
  ['phpass', 'JohnRipper', '$P$B12345678L6Lpt4BxNotVIMILOa9u81', 'John the Ripper'],
  ['phpass', '', '$P$7JaFQsPzJSuenezefD/3jHgt5hVfNH0', 'passlib'],
  ['phpass', UPASS_TABLE, '$P$7SMy8VxnfsIy2Sxm7fJxDSdil.h7TW.', 'passlib'],
  // John the Ripper's drupal7 format
  ['drupal7-sha512', 'virtualabc', '$S$CwkjgAKeSx2imSiN3SyBEg8e0sgE2QOx4a/VIfCHN0BZUNAWCr1X', 'John the Ripper'],
  ['drupal7-sha512', 'password', '$S$CFURCPa.k6FAEbJPgejaW4nijv7rYgGc4dUJtChQtV4KLJTPTC/u', 'John the Ripper'],
  // WordPress 6.8: bcrypt of base64(HMAC-SHA384("wp-sha384", password)), generated with hmac + glibc
  ['wordpress-bcrypt', SNOWMAN, '$wp$2y$05$abcdefghijklmnopqrstuun/M46nmwuWh2UqBKZ6utoEUeY5kjXVa', 'hmac + glibc crypt'],
  // Drepper's SHA-crypt specification (the salt is cut at 16 characters)
  ['sha512-crypt', 'Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1', 'SHA-crypt spec'],
  [
    'sha512-crypt',
    'Hello world!',
    '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
    'SHA-crypt spec',
  ],
  [
    'sha512-crypt',
    'we have a short salt string but not a short password',
    '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
    'SHA-crypt spec',
  ],
  // passwords of exactly one and two digest lengths (a length some implementations get wrong): glibc
  ['sha512-crypt', 'a'.repeat(64), '$6$saltsalt$dLW1aYM9zDeSwgYsFmvdxmhFQ.ehaT6i5XzWyeDv4Z677.mp/Lc.0XPmnwvDvk6TP4Px9uVPQy2OHM2Vxg9vW/', 'glibc crypt'],
  ['sha512-crypt', 'a'.repeat(128), '$6$saltsalt$6ODW6HzfbdznOq3FsAj6QG5lk3oCMz7YjT5HnVY1E.QlAs3VXZ2Yva8VSz2vuZOifcpDkPbiV2fw3NJDv1nDn0', 'glibc crypt'],
  ['sha256-crypt', 'Hello world!', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5', 'SHA-crypt spec'],
  ['sha256-crypt', 'Hello world!', '$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA', 'SHA-crypt spec'],
  ['sha256-crypt', 'a'.repeat(32), '$5$saltsalt$tWapoD8pPXtbv36Daa/gvGzhHl1q7GaspUoh386s.vD', 'glibc crypt'],
  ['sha256-crypt', 'a'.repeat(64), '$5$saltsalt$mxvvOAsfS.o0SGs/k5pFvrYaXMiO01Vc7xoNZTltoY1', 'glibc crypt'],
];

/**
 * The vectors whose one check costs 100–200 ms of CPU: Werkzeug's defaults (1,000,000 PBKDF2
 * iterations; scrypt at 32 MiB), argon2d at 64 MiB and SHA-crypt at 77,777 rounds. Each is checked
 * with its password; a wrong one is refused by the cheaper vectors of the same verifier and the same
 * comparison (argon2d's by the one argon2 call, which reads the variant from the string).
 */
const COSTLY = new Set([
  'pbkdf2:sha256$aB3dEf6h$bc9538babe025c1480f79378cfb89c4b5442a830bc168f3cd670c84148099632',
  'scrypt$Wk2pQ9xZ$d96d580ca8686ab9e74eb4e7ee7ca23ece26bd158ae01e2b1c82fb115f709f9beb569cbc7dd65cd5fb1cea7e7d00b64aeb0c1d2bf66cc1c1c61fb393be028ccc',
  '$argon2d$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$cZn5d+rFh+ZfuRhm2iGUGgcrW5YLeM6q7L3vBsdmFA0',
  '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
]);

describe('verifyPassword: every format against reference vectors', () => {
  it.each(VECTORS)('%s: %j (%s)', async (format, password, hash) => {
    expect(hashFormat(hash)).toBe(format);
    expect(await verifyPassword(password, hash)).toEqual({ ok: true, format });
    if (!COSTLY.has(hash)) expect(await verifyPassword(`${password}x`, hash)).toEqual({ ok: false, format, reason: 'mismatch' });
  });

  it('the costly vectors are vectors of this table', () => {
    expect(VECTORS.filter(([, , hash]) => COSTLY.has(hash))).toHaveLength(COSTLY.size);
  });

  it('bcrypt reads only 72 bytes; bcrypt_sha256 and WordPress 6.8 pre-hash, so long passwords count whole', async () => {
    const openwall = '$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui';
    const seventyTwo = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    expect((await verifyPassword(`${seventyTwo}chars after 72 are ignored`, openwall)).ok).toBe(true);
    expect((await verifyPassword(`${seventyTwo}anything`, openwall)).ok).toBe(true);
    const django = 'bcrypt_sha256$$2a$06$Tg/oYyZTyAf.Nb3qSgN61OySmyXA8FoY4PjGizjE1QSDfuL5MXNni';
    expect((await verifyPassword(`${'abc123'.repeat(12)}qwr`, django)).ok).toBe(false);
  });

  it('a hash made by hashPasswordBcrypt verifies, as $2a$/$2b$/$2y$ alike', async () => {
    const hash = await hashPasswordBcrypt('correct horse', 4);
    expect(hash).toMatch(/^\$2b\$04\$/);
    for (const variant of ['$2a$', '$2b$', '$2y$']) {
      expect(await verifyPassword('correct horse', variant + hash.slice(4))).toEqual({ ok: true, format: 'bcrypt' });
    }
    expect((await verifyPassword('wrong', hash)).ok).toBe(false);
  });
});

describe('malformed and hostile hashes are refusals, never throws or hangs', () => {
  const b64 = 'c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4';
  const django = 'kjVJaVz6qsnJ$5yPHw3rwJGECpUf70daLGhOrQ5+AMxIJdz1c3bqK1Rs=';
  const hex64 = 'ab'.repeat(64);
  const sha512 = 'svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';
  const CASES: [string, HashFormat, string][] = [
    // absurd costs: each would run for minutes, hours or years, or allocate gigabytes
    [`$2b$31$${'C'.repeat(53)}`, 'bcrypt', 'cost-out-of-range'],
    [`$2b$03$${'C'.repeat(53)}`, 'bcrypt', 'cost-out-of-range'],
    [`$argon2id$v=19$m=4294967295,t=2,p=1$${b64}`, 'argon2id', 'cost-out-of-range'],
    [`$argon2id$v=19$m=65536,t=4294967295,p=1$${b64}`, 'argon2id', 'cost-out-of-range'],
    [`argon2$argon2id$v=19$m=2097152,t=1,p=4$${b64}`, 'django-argon2', 'cost-out-of-range'],
    [`pbkdf2_sha256$999999999$${django}`, 'django-pbkdf2-sha256', 'cost-out-of-range'],
    [`pbkdf2_sha256$10000001$${django}`, 'django-pbkdf2-sha256', 'cost-out-of-range'],
    [`pbkdf2:sha256:4000000000$salt$${'ab'.repeat(32)}`, 'werkzeug-pbkdf2', 'cost-out-of-range'],
    [`scrypt:1048576:64:1$salt$${hex64}`, 'werkzeug-scrypt', 'cost-out-of-range'],
    [`scrypt:16384:8:4096$salt$${hex64}`, 'werkzeug-scrypt', 'cost-out-of-range'],
    ['$P$UIQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0', 'phpass', 'cost-out-of-range'],
    ['$P$4IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0', 'phpass', 'cost-out-of-range'],
    ['$S$zwkjgAKeSx2imSiN3SyBEg8e0sgE2QOx4a/VIfCHN0BZUNAWCr1X', 'drupal7-sha512', 'cost-out-of-range'],
    [`$6$rounds=999999999$saltstring$${sha512}`, 'sha512-crypt', 'cost-out-of-range'],
    [`$6$rounds=10$roundstoolow$${sha512}`, 'sha512-crypt', 'cost-out-of-range'],
    // malformed: truncated, wrong alphabet, wrong lengths, wrong parameters
    ['$2b$10$e7Kecw/JuT7TnzDsaJgukOXN.5iE2p1B07e6UgRC2hGP1m/Y2kY', 'bcrypt', 'malformed'],
    ['$2b$10$e7Kecw/JuT7TnzDsaJgukOXN.5iE2p1B07e6UgRC2hGP1m/Y2k!C', 'bcrypt', 'malformed'],
    ['$2b$1$e7Kecw/JuT7TnzDsaJgukOXN.5iE2p1B07e6UgRC2hGP1m/Y2kYcC', 'bcrypt', 'malformed'],
    ['$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ', 'argon2id', 'malformed'],
    ['$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQA1$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4', 'argon2id', 'malformed'],
    [`$argon2id$v=18$m=256,t=2,p=1$${b64}`, 'argon2id', 'malformed'],
    [`$argon2id$v=19$m=8,t=2,p=4$${b64}`, 'argon2id', 'malformed'],
    [`$argon2i$v=19$t=2,m=256,p=1$${b64}`, 'argon2i', 'malformed'],
    ['pbkdf2_sha256$abc$kjVJaVz6qsnJ$5yPHw3rwJGECpUf70daLGhOrQ5+AMxIJdz1c3bqK1Rs=', 'django-pbkdf2-sha256', 'malformed'],
    ['pbkdf2_sha256$10000$kjVJaVz6qsnJ$5yPHw3rwJGECpUf70daLGhOrQ5+AMxIJdz1c3bqK1R', 'django-pbkdf2-sha256', 'malformed'],
    ['pbkdf2_sha256$10000$kjVJaVz6qsnJ$5yPHw3rw!GECpUf70daLGhOrQ5+AMxIJdz1c3bqK1Rs=', 'django-pbkdf2-sha256', 'malformed'],
    ['pbkdf2_sha1$10000$wz5B6WkasRoF$5yPHw3rwJGECpUf70daLGhOrQ5+AMxIJdz1c3bqK1Rs=', 'django-pbkdf2-sha1', 'malformed'],
    ['pbkdf2_sha256$10000$$5yPHw3rwJGECpUf70daLGhOrQ5+AMxIJdz1c3bqK1Rs=', 'django-pbkdf2-sha256', 'malformed'],
    ['pbkdf2_sha256$10000', 'django-pbkdf2-sha256', 'malformed'],
    [`pbkdf2:sha256:0$salt$${'ab'.repeat(32)}`, 'werkzeug-pbkdf2', 'malformed'],
    [`pbkdf2:md5:1000$salt$${'ab'.repeat(16)}`, 'werkzeug-pbkdf2', 'malformed'],
    [`pbkdf2:toString:1000$salt$${'ab'.repeat(16)}`, 'werkzeug-pbkdf2', 'malformed'],
    [`pbkdf2:sha256:1000$salt$${'AB'.repeat(32)}`, 'werkzeug-pbkdf2', 'malformed'],
    [`pbkdf2:sha256:1000$salt$${'ab'.repeat(31)}`, 'werkzeug-pbkdf2', 'malformed'],
    [`scrypt:1000:8:1$salt$${hex64}`, 'werkzeug-scrypt', 'malformed'],
    [`scrypt:16384:8$salt$${hex64}`, 'werkzeug-scrypt', 'malformed'],
    ['$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r!L0', 'phpass', 'malformed'],
    ['$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L', 'phpass', 'malformed'],
    ['$S$CwkjgAKeSx2imSiN3SyBEg8e0sgE2QOx4a/VIfCHN0BZUNAWCr1', 'drupal7-sha512', 'malformed'],
    ['$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl', 'sha512-crypt', 'malformed'],
    [`$6$rounds=$saltstring$${sha512}`, 'sha512-crypt', 'malformed'],
    [`$6$saltstringsaltstring$${sha512}`, 'sha512-crypt', 'malformed'],
    ['$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc', 'sha256-crypt', 'malformed'],
    ['$wp$2y$10$short', 'wordpress-bcrypt', 'malformed'],
    // no prefix anyone uses here: unknown, whatever it is
    ['', 'unknown', 'unknown-format'],
    ['md5$abc$0123456789abcdef', 'unknown', 'unknown-format'],
    ['5f4dcc3b5aa765d61d8327deb882cf99', 'unknown', 'unknown-format'],
    ['!unusable-django-password', 'unknown', 'unknown-format'],
    ['$1$saltsalt$qJH7.N4xYta3aEG/dfqo/0', 'unknown', 'unknown-format'],
    ['$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7', 'unknown', 'unknown-format'],
  ];

  // The classification is parseHash's, which computes nothing: verifyPassword refuses exactly what
  // it rejects, with its format and problem (an unknown format is its own reason), and computes no
  // hash of it — each refusal pays one dummy bcrypt at cost 10 (~70 ms of CPU), so the whole matrix
  // is read here, and a few cases of each reason go through verifyPassword below.
  it.each(CASES)('parseHash: %s → %s, %s', (hash, format, reason) => {
    expect(hashFormat(hash)).toBe(format);
    const parsed = parseHash(hash);
    expect(parsed.ok, 'parsed as checkable').toBe(false);
    if (!parsed.ok) expect({ format: parsed.format, reason: parsed.format === 'unknown' ? 'unknown-format' : parsed.problem }).toEqual({ format, reason });
  });

  // the three reasons end to end: a cost that would run for hours, a truncated hash (the native
  // library's own parser is never reached) and a prefix nobody uses here
  it.each([
    [`pbkdf2_sha256$999999999$${django}`, 'django-pbkdf2-sha256', 'cost-out-of-range'],
    ['$2b$10$e7Kecw/JuT7TnzDsaJgukOXN.5iE2p1B07e6UgRC2hGP1m/Y2kY', 'bcrypt', 'malformed'],
    ['md5$abc$0123456789abcdef', 'unknown', 'unknown-format'],
  ] as const)('verifyPassword: %s → %s, %s', async (hash, format, reason) => {
    expect(CASES).toContainEqual([hash, format, reason]);
    const started = Date.now();
    expect(await verifyPassword('password', hash)).toEqual({ ok: false, format, reason });
    // nothing was computed beyond the one dummy check (the cost above would take hours)
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('no hash, or a password that is not a string or is absurdly long: refused after one dummy check', async () => {
    const hash = '$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0';
    expect(await verifyPassword('test12345', null)).toEqual({ ok: false, format: 'unknown', reason: 'no-hash' });
    expect(await verifyPassword('test12345', undefined)).toEqual({ ok: false, format: 'unknown', reason: 'no-hash' });
    expect(await verifyPassword(undefined as unknown as string, hash)).toEqual({ ok: false, format: 'phpass', reason: 'not-a-string' });
    expect(await verifyPassword(12345 as unknown as string, hash)).toEqual({ ok: false, format: 'phpass', reason: 'not-a-string' });
    expect(await verifyPassword('x'.repeat(4097), hash)).toEqual({ ok: false, format: 'phpass', reason: 'password-too-long' });
    expect(hashFormat(undefined as unknown as string)).toBe('unknown');
  });

  it('an unknown format is not answered faster than a real check (it pays for a bcrypt at cost 10)', async () => {
    const started = performance.now();
    await verifyPassword('password', 'md5$abc');
    expect(performance.now() - started).toBeGreaterThan(10);
  });
});

describe('dummyHashLike: the same format and cost as the sample, matched by no password', () => {
  const SAMPLES: [HashFormat, string, RegExp][] = [
    // cost 7, not the dummy's default 10: the sample's own cost is what is copied (a higher one only costs time)
    ['bcrypt', '$2y$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi', /^\$2b\$07\$/],
    ['argon2id', '$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc', /^\$argon2id\$v=19\$m=256,t=2,p=2\$/],
    ['argon2i', '$argon2i$m=256,t=2,p=1$c29tZXNhbHQ$/U3YPXYsSb3q9XxHvc0MLxur+GP960kN9j7emXX8zwY', /^\$argon2i\$m=256,t=2,p=1\$/],
    ['django-argon2', 'argon2$argon2i$v=19$m=512,t=2,p=2$V25jN1l4UUJZWkR1$MxpA1BD2Gh7+D79gaAw6sQ', /^argon2\$argon2i\$v=19\$m=512,t=2,p=2\$/],
    ['django-pbkdf2-sha256', 'pbkdf2_sha256$10000$kjVJaVz6qsnJ$5yPHw3rwJGECpUf70daLGhOrQ5+AMxIJdz1c3bqK1Rs=', /^pbkdf2_sha256\$10000\$/],
    ['django-pbkdf2-sha1', 'pbkdf2_sha1$10000$wz5B6WkasRoF$atJmJ1o+XfJxKq1+Nu1f1i57Z5I=', /^pbkdf2_sha1\$10000\$/],
    ['django-bcrypt-sha256', 'bcrypt_sha256$$2a$08$NDjSAIcas.EcoxCRiArvT.MkNiPYVhrsrnJsRkLueZOoV1bsQqlmC', /^bcrypt_sha256\$\$2b\$08\$/],
    ['django-bcrypt', 'bcrypt$$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.', /^bcrypt\$\$2b\$06\$/],
    ['werkzeug-pbkdf2', 'pbkdf2:sha1:1000$SaltSalt1234abcd$0984dab6fed8c52f8ae11d862e529105d36cb321', /^pbkdf2:sha1:1000\$/],
    ['werkzeug-scrypt', 'scrypt$Wk2pQ9xZ$' + 'ab'.repeat(64), /^scrypt:32768:8:1\$/],
    ['phpass', '$H$9aaaaaSXBjgypwqm.JsMssPLiS8YQ00', /^\$P\$9/],
    ['drupal7-sha512', '$S$CFURCPa.k6FAEbJPgejaW4nijv7rYgGc4dUJtChQtV4KLJTPTC/u', /^\$S\$C/],
    ['wordpress-bcrypt', '$wp$2y$05$abcdefghijklmnopqrstuun/M46nmwuWh2UqBKZ6utoEUeY5kjXVa', /^\$wp\$2b\$05\$/],
    ['sha512-crypt', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1', /^\$6\$rounds=5000\$/],
    ['sha256-crypt', '$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA', /^\$5\$rounds=10000\$/],
  ];

  it.each(SAMPLES)('%s', async (format, sample, shape) => {
    const dummy = dummyHashLike(sample);
    expect(dummy).toMatch(shape);
    expect(hashFormat(dummy)).toBe(format);
    expect(dummyHashLike(sample)).not.toBe(sample);
    // a well-formed hash of the same cost, so its check runs in full, and fails
    expect(await verifyPassword('password', dummy)).toEqual({ ok: false, format, reason: 'mismatch' });
  });

  it('no sample, an unknown one, or a hostile one: bcrypt at cost 10 (hostile costs are never copied)', () => {
    for (const sample of [undefined, null, '', 'md5$abc', `$2b$31$${'C'.repeat(53)}`, `pbkdf2_sha256$999999999$s$${'A'.repeat(43)}=`]) {
      expect(dummyHashLike(sample)).toMatch(/^\$2b\$10\$[./A-Za-z0-9]{53}$/);
    }
  });
});

describe('docs/hash-formats.md', () => {
  it('names every format, and each example there is recognised as the format of its row', () => {
    const doc = readFileSync(new URL('../../docs/hash-formats.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z0-9-]+)` \| `([^`]+)`/gm)].map((m) => [m[1], m[2]] as const);
    expect(rows.map(([name]) => name).sort()).toEqual([...new Set(VECTORS.map(([format]) => format))].sort());
    for (const [name, example] of rows) expect(hashFormat(example), example).toBe(name);
  });
});

describe('the main thread stays free while passwords are checked', () => {
  // One format at a time, so a single format computed on the main thread fails the test (all of them
  // at once would hide it: the others would keep the loop turning). Each batch holds one check more
  // than its pool runs at once — libuv's share for hashes (3 threads by default) or the worker pool
  // (at most 4 threads) — so one waits its turn, and costs ~150 ms of hashing: long enough for the
  // 5 ms timer to fire again and again while the loop is free. A check on the main thread would let
  // it fire once, at the end, and the immediate would find the batch already done.
  it.each([
    // bcrypt at cost 9 (~35 ms a check) and PBKDF2 at 200,000 iterations (~45 ms): libuv's thread pool
    ['bcrypt', () => hashPasswordBcrypt('pw', 9), 4, true],
    ['PBKDF2', async () => dummyHashLike('pbkdf2_sha256$200000$kjVJaVz6qsnJ$5yPHw3rwJGECpUf70daLGhOrQ5+AMxIJdz1c3bqK1Rs='), 4, false],
    // phpass at 2^14 rounds (~30 ms): computed in JavaScript, so in the worker pool
    ['phpass', async () => dummyHashLike('$P$CIQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0'), 5, false],
  ] as const)('%s: parallel checks, and timers keep firing', async (_format, makeHash, count, matches) => {
    const hash = await makeHash();
    let ticks = 0;
    let done = false;
    let tickedWhileBusy = false;
    const timer = setInterval(() => {
      ticks++;
      if (!done) tickedWhileBusy = true;
    }, 5);
    const immediate = new Promise<boolean>((resolve) => setImmediate(() => resolve(!done)));
    try {
      const results = await Promise.all(Array.from({ length: count }, () => verifyPassword('pw', hash)));
      done = true;
      // each check ran in full: the password matches the real hash, and not the dummies
      expect(results.map((r) => r.ok || r.reason)).toEqual(Array(count).fill(matches || 'mismatch'));
      expect(await immediate).toBe(true);
      expect(tickedWhileBusy).toBe(true);
      // a blocked loop would fire the 5 ms timer once at the end, not again and again in between
      expect(ticks).toBeGreaterThan(5);
    } finally {
      clearInterval(timer);
    }
  });
});
