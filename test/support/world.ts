/**
 * An in-process portal for use-case tests: a migrated database (SQLite or the test MariaDB), the
 * demo organisations and accounts (bcrypt cost 4, so tests stay fast), and the core API over an
 * injected clock — tests move time with `advance()` instead of sleeping for the next TOTP step.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Actor } from '../../src/core/rules/actor.js';
import { createPortalMfa, type PortalMfa } from '../../src/core/api.js';
import { DEMO_ACCOUNTS, DEMO_ORGANISATIONS, GENERATED_MEMBER_PASSWORD } from '../../src/core/usecases/demoData.js';
import type { MfaDeps } from '../../src/core/deps.js';
import { hashPasswordBcrypt } from '../../src/core/primitives/passwords.js';
import { generateKeyBase64, keyFromBase64 } from '../../src/core/primitives/secretBox.js';
import { DEFAULT_SETTINGS } from '../../src/core/settings.js';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { createDemoTables } from '../../src/db/demoSeeder.js';
import { DEMO_MAPPING } from '../../src/db/identity/presets.js';
import { migrateLatest } from '../../src/db/schema.js';
import { writeSetting } from '../../src/db/settingsRepository.js';
import { type Db, makeDb } from '../../src/db/store.js';
import { parseDatabaseUrl } from '../../src/db/url.js';
import { totpAt } from './independentTotp.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 5);

export interface World {
  db: Database;
  knex: Knex;
  deps: MfaDeps;
  mfa: PortalMfa;
  now(): number;
  advance(ms: number): void;
  step(): number;
  /** the code of a secret at the current time (optionally some steps off) */
  code(secret: string, offset?: number): string;
  password(email: string): string;
  /** sign in with the password and, when enrolled, the current code of `secret` */
  as(email: string, secret?: string): Promise<Actor>;
  /** enrol a user (password sign-in, start, confirm); returns the secret */
  enrol(email: string): Promise<string>;
  userId(email: string): Promise<string>;
  audit(where: Record<string, unknown>): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function openWorld(url: string): Promise<World> {
  let db = await openDatabase(parseDatabaseUrl(url), { create: true });
  const knex = db.knex;
  await migrateLatest(db.store);
  let now = T0;
  await seedDemo(db.store, now);
  db = { ...db, store: makeDb(knex, db.store.prefix, DEMO_MAPPING) };
  const key = keyFromBase64(generateKeyBase64());
  const deps: MfaDeps = {
    db: db.store,
    clock: () => now,
    random: (n) => randomBytes(n),
    settings: { ...DEFAULT_SETTINGS },
    origin: { host: 'test-host', osUser: 'tester' },
    keyring: () => [key],
    queuedNotifications: [],
  };
  const mfa = createPortalMfa(deps);
  const password = (email: string) => DEMO_ACCOUNTS.find((a) => a.email === email)?.password ?? GENERATED_MEMBER_PASSWORD;
  const step = () => Math.floor(now / 30_000);
  const world: World = {
    db,
    knex,
    deps,
    mfa,
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    step,
    code: (secret, offset = 0) => totpAt(secret, step() + offset),
    password,
    async as(email, secret) {
      const actor = await mfa.signIn({
        email,
        password: password(email),
        action: 'portal.login',
        secondFactor: secret ? { proof: { kind: 'code', code: totpAt(secret, step()) } } : {},
      });
      return actor;
    },
    async enrol(email) {
      const actor = await mfa.signIn({ email, password: password(email), action: 'portal.login', secondFactor: {} });
      const pending = await mfa.startEnrolment(actor, {});
      await mfa.confirmEnrolment(actor, { code: totpAt(pending.secret, step()) });
      // the confirming step is used: later sign-ins start from the next one
      now += 30_000;
      return pending.secret;
    },
    async userId(email) {
      return String((await knex('users').where('email', email).first('id')).id);
    },
    audit: (where) => knex('mfa_audit_events').where(where).orderBy('id').select('*'),
    close: () => db.close(),
  };
  return world;
}

/** The demo portal, inserted directly (independent of the `demo` command's own guards). */
async function seedDemo(store: Db, now: number): Promise<void> {
  const knex = store.root;
  await createDemoTables(knex);
  await writeSetting(store, 'identity', JSON.stringify(DEMO_MAPPING), now, 'test');
  const orgIds: Record<string, number> = {};
  for (const o of DEMO_ORGANISATIONS) {
    await knex('organisations').insert({ slug: o.slug, name: o.name, created_at: now });
    orgIds[o.slug] = Number((await knex('organisations').where('slug', o.slug).first('id')).id);
    await knex(store.t.org_policies).insert({
      organisation_id: String(orgIds[o.slug]),
      mfa_required: o.mfaRequired,
      grace_days: o.graceDays,
      mfa_required_since: o.mfaRequired ? now - 86_400_000 : null,
      device_trust_allowed: true,
      updated_at: now,
    });
  }
  for (const a of DEMO_ACCOUNTS) {
    await knex('users').insert({ email: a.email, name: a.name, password_hash: await hashPasswordBcrypt(a.password, 4), role: a.role, created_at: now });
    const id = Number((await knex('users').where('email', a.email).first('id')).id);
    for (const m of a.organisations) {
      await knex('organisation_members').insert({ organisation_id: orgIds[m.slug], user_id: id, role: m.role, created_at: now, joined_at: now - 86_400_000 });
    }
  }
}
