/**
 * What the integration suites share: the demo accounts (src/core/usecases/demoData.ts), an unused-code helper
 * that walks the TOTP steps like a phone would, and in-process MfaDeps over a test database.
 */
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { DEMO_MAPPING } from '../../src/db/identity/presets.js';
import { DEFAULT_TABLE_PREFIX, makeDb } from '../../src/db/store.js';
import { DEMO_ACCOUNTS, GENERATED_MEMBER_LIKE, GENERATED_MEMBER_PASSWORD, generatedMemberEmail } from '../../src/core/usecases/demoData.js';
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
/** A demo account (src/core/usecases/demoData.ts, docs/demo.md): the one definition the tests use. */
const demo = (email: string): Account => {
  const a = DEMO_ACCOUNTS.find((x) => x.email === email);
  if (!a) throw new Error(`no demo account ${email}`);
  return { email: a.email, password: a.password };
};
/** admin of acme (acme requires MFA) */
export const ALICE = demo('alice@acme.example');
/** admin of globex */
export const BOB = demo('bob@globex.example');
/** admin of acme and globex */
export const OLIVIA = demo('olivia@partners.example');
/** member of acme */
export const DAVE = demo('dave@acme.example');
/** member of acme */
export const ERIN = demo('erin@acme.example');
/** member of globex (MFA optional there) */
export const FRANK = demo('frank@globex.example');
/** member of acme and globex */
export const HEIDI = demo('heidi@partners.example');
/** in no organisation */
export const DEVON = demo('devon@example.com');
/** support representative */
export const SAM = demo('sam@support.example');
/** `demo --members N` accounts */
export const member = (n: number): Account => ({ email: generatedMemberEmail(n), password: GENERATED_MEMBER_PASSWORD });

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

/** cheapDemoPasswords on a SQLite file the test holds no connection to (the PTY and examples suites). */
export async function cheapDemoPasswordsIn(sqliteFile: string): Promise<void> {
  const knex = knexFactory({ client: 'better-sqlite3', connection: { filename: sqliteFile }, useNullAsDefault: true });
  try {
    await cheapDemoPasswords(knex);
  } finally {
    await knex.destroy();
  }
}
