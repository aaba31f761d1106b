import { describe, expect, it } from 'vitest';
import { PortalMfaError } from '../../src/core/errors.js';
import { EXIT_CODES } from '../../src/cli/exitCodes.js';
import { hashFormat, verifyPassword, hashPasswordBcrypt } from '../../src/core/passwords.js';

describe('error model', () => {
  it('maps every kind to the SPEC §4 exit code', () => {
    expect(EXIT_CODES).toEqual({ rejected: 1, usage: 2, not_found: 3, locked: 4, forbidden: 5, wrong_state: 6, config: 10, cancelled: 130 });
    expect(EXIT_CODES[new PortalMfaError('locked', 'x').kind]).toBe(4);
    expect(new PortalMfaError('locked', 'x').code).toBe('locked');
    expect(new PortalMfaError('rejected', 'x', { code: 'wrong_code' }).code).toBe('wrong_code');
  });
});

describe('password verification', () => {
  it('accepts bcrypt $2a$/$2b$/$2y$ and refuses unknown formats without throwing', async () => {
    const hash = await hashPasswordBcrypt('correct horse', 4);
    expect(hashFormat(hash)).toBe('bcrypt');
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('wrong', hash)).toBe(false);
    expect(await verifyPassword('correct horse', hash.replace(/^\$2b\$/, '$2y$'))).toBe(true);
    expect(await verifyPassword('correct horse', hash.replace(/^\$2b\$/, '$2a$'))).toBe(true);
    expect(await verifyPassword('x', 'md5$abc')).toBe(false);
    expect(await verifyPassword('x', '')).toBe(false);
    expect(await verifyPassword('x', null)).toBe(false);
  });

  it('verifies argon2id hashes', async () => {
    const { argon2id } = await import('hash-wasm');
    const hash = await argon2id({
      password: 'pw',
      salt: Buffer.alloc(16, 7),
      parallelism: 1,
      iterations: 2,
      memorySize: 1024,
      hashLength: 32,
      outputType: 'encoded',
    });
    expect(hashFormat(hash)).toBe('argon2id');
    expect(await verifyPassword('pw', hash)).toBe(true);
    expect(await verifyPassword('nope', hash)).toBe(false);
  });
});
