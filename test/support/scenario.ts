/**
 * What the integration suites share: the demo accounts (src/core/usecases/demoData.ts), an unused-code helper
 * that walks the TOTP steps like a phone would, and in-process MfaDeps over a test database.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { DEMO_MAPPING } from '../../src/db/identity/presets.js';
import { DEFAULT_TABLE_PREFIX, makeDb } from '../../src/db/store.js';
import { DEMO_ACCOUNTS, GENERATED_MEMBER_LIKE, GENERATED_MEMBER_PASSWORD } from '../../src/core/usecases/demoData.js';
import type { MfaDeps } from '../../src/core/deps.js';
import { hashPasswordBcrypt } from '../../src/core/primitives/passwords.js';
import { keyFromBase64 } from '../../src/core/primitives/secretBox.js';
import { DEFAULT_SETTINGS } from '../../src/core/settings.js';
import { advanceClock, testNow } from './clock.js';
import { safeStep, totpAt } from './independentTotp.js';

export interface Account {
  email: string;
  password: string;
}
const acct = (name: string, email: string): Account => ({ email, password: `${name}-demo-pass` });
export const ALICE = acct('alice', 'alice@acme.example');
export const BOB = acct('bob', 'bob@globex.example');
export const OLIVIA = acct('olivia', 'olivia@partners.example');
export const DAVE = acct('dave', 'dave@acme.example');
export const ERIN = acct('erin', 'erin@acme.example');
export const FRANK = acct('frank', 'frank@globex.example');
export const HEIDI = acct('heidi', 'heidi@partners.example');
export const DEVON = acct('devon', 'devon@example.com');
export const SAM = acct('sam', 'sam@support.example');
/** `demo --members N` accounts */
export const member = (n: number): Account => ({ email: `member-${String(n).padStart(6, '0')}@acme.example`, password: 'member-demo-pass' });

/** A TOTP secret and the last step the server accepted for it. */
export interface Totp {
  secret: string;
  last: number;
}

/** The next unused code: the earliest step after `last` that the ±1 window still accepts. */
export async function nextCode(t: Totp): Promise<string> {
  for (;;) {
    const cur = await safeStep(3_000);
    const step = Math.max(t.last + 1, cur - 1);
    if (step <= cur + 1) {
      t.last = step;
      return totpAt(t.secret, step);
    }
    advanceClock(30_000 - (testNow() % 30_000) + 50); // the next step, without waiting for it
  }
}

/** MfaDeps for calling core services in-process on a test database (the test clock, real randomness). */
export function makeDeps(knex: Knex, keyB64: string, host: string): MfaDeps {
  const key = keyFromBase64(keyB64);
  return {
    // the suites run `demo` first, which stores the demo portal's mapping
    db: makeDb(knex, DEFAULT_TABLE_PREFIX, DEMO_MAPPING),
    clock: testNow,
    random: (n) => randomBytes(n),
    settings: { ...DEFAULT_SETTINGS },
    origin: { host, osUser: 'tester' },
    keyring: () => [key],
  };
}

/**
 * After `demo`: the same passwords, re-hashed with bcrypt cost 4 instead of the portal's 10 (as
 * test/support/world.ts seeds them). A suite that signs in a few hundred times then spends
 * milliseconds, not minutes of CPU, in bcrypt; what it tests does not depend on the cost.
 */
export async function cheapDemoPasswords(knex: Knex): Promise<void> {
  for (const a of DEMO_ACCOUNTS)
    await knex('users')
      .where({ email: a.email })
      .update({ password_hash: await hashPasswordBcrypt(a.password, 4) });
  await knex('users')
    .where('email', 'like', GENERATED_MEMBER_LIKE)
    .update({ password_hash: await hashPasswordBcrypt(GENERATED_MEMBER_PASSWORD, 4) });
}
