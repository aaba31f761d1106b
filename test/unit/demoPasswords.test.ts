import { describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS, GENERATED_MEMBER_PASSWORD, GENERATED_MEMBER_PASSWORD_HASH } from '../../src/core/usecases/demoData.js';
import { verifyPassword } from '../../src/core/primitives/passwords.js';

// The demo's bcrypt hashes are constants (hashing them on every `demo` run cost ~0.7 s of CPU):
// each must still be the hash of the password docs/demo.md publishes, at the portal's cost 10.
describe('demo accounts: the stored hashes match the published passwords', () => {
  const pairs = [
    ...DEMO_ACCOUNTS.map((a) => [a.email, a.password, a.passwordHash] as const),
    ['generated members', GENERATED_MEMBER_PASSWORD, GENERATED_MEMBER_PASSWORD_HASH] as const,
  ];
  it.each(pairs)('%s', async (_who, password, hash) => {
    expect(hash).toMatch(/^\$2b\$10\$/);
    expect(await verifyPassword(password, hash)).toEqual({ ok: true, format: 'bcrypt' });
    expect((await verifyPassword(`${password}x`, hash)).ok).toBe(false);
  });
  it('no two accounts share a hash', () => {
    expect(new Set(pairs.map((p) => p[2])).size).toBe(pairs.length);
  });
});
