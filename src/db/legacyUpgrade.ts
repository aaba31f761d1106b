/**
 * The forward upgrade of an installation from before the identity mapping (issue 19, item 2).
 *
 * Such a database holds portal-mfa's old, unprefixed schema — `users`, `organisations`,
 * `organisation_members` (the identity), `mfa_credentials`, `trusted_devices`, `recovery_codes`,
 * `cli_sessions`, `audit_events`, `maintenance_locks`, `rate_limits`, `access_codes`,
 * `notifications`, with knex's bookkeeping in `knex_migrations` / `knex_migrations_lock`. The
 * upgrade:
 *
 * 1. refuses, changing nothing, unless the old bookkeeping holds exactly the six migrations the
 *    last unprefixed version shipped (a partly migrated or newer legacy schema has a shape this
 *    code does not know), or while an earlier portal-mfa holds a maintenance lock (`keys rotate`);
 * 2. renames the old `mfa_credentials` to `<prefix>legacy_credentials`: with the default prefix the
 *    new credentials table has the same name. It is renamed for every prefix, so the renamed table
 *    also marks "an upgrade has started" (see the MySQL notes below);
 * 3. applies the new migration(s) (`runLatest`): portal-mfa's prefixed tables;
 * 4. carries every row and every column into them — user and organisation ids as text, row ids
 *    kept (device ids users have seen stay the same); `cli_sessions` becomes `sessions`; each
 *    organisation's MFA policy columns become a row of `<prefix>org_policies` keyed by its id; the
 *    identity mapping `DEMO_MAPPING` is stored in `<prefix>settings` (the old identity tables are
 *    the demo portal's); an audit row records the upgrade with the row counts; the counts of the
 *    copies are checked against the originals;
 * 5. drops the old tables that were portal-mfa's, `knex_migrations` last. `users`,
 *    `organisations` and `organisation_members` stay exactly as they are (policy columns
 *    included): they are now the portal's, read through the mapping and never written.
 *
 * Atomicity.
 * - SQLite: DDL is transactional, so all of it runs in one transaction: it happens completely or
 *   not at all.
 * - MySQL/MariaDB: every DDL statement commits implicitly, so the steps are ordered so that a
 *   failure at any point leaves a state from which `db migrate` completes the upgrade, and each
 *   step is detectable or idempotent:
 *   - the old `knex_migrations` is dropped last, so until the very end the database still reads as
 *     legacy (`migrationState(db).legacy`), every command but `db …` refuses it, and `db migrate`
 *     comes back here;
 *   - step 2 is skipped once the renamed table exists (or, after step 5 dropped it, once the new
 *     migration is recorded);
 *   - a failure inside step 3 can leave some of the new tables created but the migration not
 *     recorded: as the renamed table proves an upgrade started after the planner found none of
 *     those names taken, empty ones are dropped (`legacyLeftovers` lets the planner pass them) and
 *     the migration runs again; knex's own record makes a finished step 3 a no-op;
 *   - step 4 is DML only, so it is one InnoDB transaction: either every copy, the policies, the
 *     mapping and the audit row are committed, or none. It runs whenever every old table is still
 *     there, first emptying the new tables: while the database reads as legacy nothing else writes
 *     to them, so they hold at most an earlier copy of rows the old tables still have — and a
 *     re-run also takes in anything an earlier portal-mfa still running wrote after that copy;
 *   - step 5 begins only after the row counts have been checked once more (a mismatch means an
 *     earlier portal-mfa wrote meanwhile: nothing is dropped, and the next run copies again), and
 *     drops with IF EXISTS, so a re-run after a partial step 5 finds the copy committed (the
 *     stored mapping proves it) and finishes the drops.
 *   Old clients writing *during* step 5 cannot be detected; stop every earlier portal-mfa (CLI,
 *   library, service) before upgrading.
 */
import { hostname, userInfo } from 'node:os';
import type { Knex } from 'knex';
import { migrations } from '../../migrations/index.js';
import { configError } from '../core/errors.js';
import { DEMO_MAPPING } from './identity/presets.js';
import type { Db } from './store.js';
import { listTables } from './tableList.js';

/** Every migration of the last version with unprefixed tables, in order. */
const LEGACY_MIGRATIONS = [
  '20261123000001_initial_schema',
  '20261123000002_maintenance_locks',
  '20261201000001_email_nfc',
  '20261201000002_lockout_and_access_codes',
  '20261201000003_notifications',
  '20261201000004_joined_at',
] as const;

const LEGACY_BOOKKEEPING = 'knex_migrations';
const LEGACY_LOCK = 'knex_migrations_lock';
const LEGACY_CREDENTIALS = 'mfa_credentials';

/** What the audit row, the refusal details and the tests call each carried table. */
type CarriedRole =
  | 'credentials'
  | 'trusted_devices'
  | 'recovery_codes'
  | 'access_codes'
  | 'sessions'
  | 'rate_limits'
  | 'audit_events'
  | 'notifications'
  | 'maintenance_locks';

interface Carry {
  role: CarriedRole;
  /** the old table */
  from: string;
  /** the new (prefixed) table */
  to: string;
  /** columns copied as they are, ids included */
  columns: string[];
  /** user / organisation ids: integers before, the portal's ids as text now */
  asText: string[];
}

/** The old credentials table once moved out of the way of the new one. */
export function legacyCredentialsTable(db: Db): string {
  return `${db.prefix}legacy_credentials`;
}

function carries(db: Db): Carry[] {
  const t = db.t;
  return [
    {
      role: 'credentials',
      from: legacyCredentialsTable(db),
      to: t.credentials,
      columns: [
        'id',
        'status',
        'secret_ciphertext',
        'key_id',
        'created_at',
        'confirmed_at',
        'last_used_at',
        'last_accepted_step',
        'consecutive_failures',
        'locked_until',
        'hard_locked_at',
      ],
      asText: ['user_id'],
    },
    {
      role: 'trusted_devices',
      from: 'trusted_devices',
      to: t.trusted_devices,
      columns: ['id', 'token_hash', 'label', 'created_at', 'last_used_at', 'expires_at', 'revoked_at'],
      asText: ['user_id'],
    },
    { role: 'recovery_codes', from: 'recovery_codes', to: t.recovery_codes, columns: ['id', 'code_hash', 'created_at', 'used_at'], asText: ['user_id'] },
    {
      role: 'access_codes',
      from: 'access_codes',
      to: t.access_codes,
      columns: ['id', 'code_hash', 'created_at', 'expires_at', 'uses_left', 'failed_attempts', 'issued_by_email', 'ticket', 'revoked_at'],
      asText: ['user_id', 'issued_by_user_id'],
    },
    {
      role: 'sessions',
      from: 'cli_sessions',
      to: t.sessions,
      columns: ['id', 'token_hash', 'created_at', 'expires_at', 'ended_at', 'host', 'os_user', 'restriction'],
      asText: ['user_id'],
    },
    { role: 'rate_limits', from: 'rate_limits', to: t.rate_limits, columns: ['subject', 'bucket', 'window_start', 'used'], asText: [] },
    {
      role: 'audit_events',
      from: 'audit_events',
      to: t.audit_events,
      // `request` is new (web origin): NULL for everything before
      columns: ['id', 'occurred_at', 'actor_email', 'target_email', 'organisation_slug', 'action', 'outcome', 'ticket', 'reason', 'detail', 'host', 'os_user'],
      asText: ['actor_user_id', 'target_user_id', 'organisation_id'],
    },
    {
      role: 'notifications',
      from: 'notifications',
      to: t.notifications,
      columns: ['id', 'email', 'event', 'subject', 'body', 'status', 'attempts', 'last_error', 'next_attempt_at', 'created_at', 'sent_at'],
      asText: ['user_id'],
    },
    // expired or none: a live one refuses the upgrade (checked first)
    { role: 'maintenance_locks', from: 'maintenance_locks', to: t.maintenance_locks, columns: ['name', 'holder', 'acquired_at', 'expires_at'], asText: [] },
  ];
}

type Conn = Knex | Knex.Transaction;

/** Called after each step; tests throw from it to stop the upgrade at that point. */
type StepHook = (step: string) => void | Promise<void>;

export async function upgradeLegacySchema(db: Db, runLatest: (trx?: Knex.Transaction) => Promise<string[]>, onStep?: StepHook): Promise<string[]> {
  const step: StepHook = onStep ?? (() => undefined);
  if (db.dialect === 'sqlite') {
    return db.root.transaction(async (trx) => {
      // take the write lock before reading anything, so a concurrent writer waits instead of failing
      await trx.raw(`UPDATE ${LEGACY_BOOKKEEPING} SET name = name WHERE 1 = 0`);
      return upgrade(db, trx, true, () => runLatest(trx), step);
    });
  }
  return upgrade(db, db.root, false, () => runLatest(), step);
}

async function upgrade(db: Db, k: Conn, inTransaction: boolean, runLatest: () => Promise<string[]>, step: StepHook): Promise<string[]> {
  const sqlite = db.dialect === 'sqlite';
  const renamed = legacyCredentialsTable(db);
  const list = carries(db);
  const newNames = migrations(db.t).map((m) => m.name);
  const tables = async () => new Set((await listTables(k)).map((t) => t.toLowerCase()));

  // 1. only the legacy schema this code knows, and nobody in the middle of maintenance
  await checkLegacyBookkeeping(k);
  let existing = await tables();
  if (existing.has('maintenance_locks')) {
    const held = (await k('maintenance_locks').where('expires_at', '>', Date.now()).first('name', 'holder', 'expires_at')) as
      | { name: string; holder: string; expires_at: number | string }
      | undefined;
    if (held) {
      throw configError(
        `an earlier portal-mfa holds the maintenance lock ${JSON.stringify(held.name)} (${held.holder}) until ${new Date(Number(held.expires_at)).toISOString()}; nothing was changed`,
        { hint: 'let that operation (keys rotate) finish, stop every earlier portal-mfa, then run db migrate again' },
      );
    }
  }
  const migrationRecorded = async () =>
    (await k.schema.hasTable(db.t.knex_migrations)) && (await k(db.t.knex_migrations).whereIn('name', newNames).first('name')) !== undefined;

  // 2. the old credentials out of the way of the new table of the same name (default prefix)
  if (!existing.has(renamed) && !(await migrationRecorded())) {
    // nothing started yet: every old table must be there before anything changes
    const absent = list.map((c) => (c.from === renamed ? LEGACY_CREDENTIALS : c.from)).filter((t) => !existing.has(t));
    if (absent.length > 0) {
      throw configError(`the earlier portal-mfa's table(s) ${absent.join(', ')} are missing; nothing was changed`, {
        hint: 'restore them from a backup, then run db migrate again',
        details: { tables: absent },
      });
    }
    await k.schema.renameTable(LEGACY_CREDENTIALS, renamed);
    if (sqlite) {
      // SQLite index names are per database, and the new table's are the old ones' (mfa_credentials_*):
      // the renamed table is read once and dropped, so its indexes go now
      const indexes = (await k.raw(`PRAGMA index_list(${quote(db, renamed)})`)) as { name: string; origin: string }[];
      for (const ix of indexes.filter((i) => i.origin === 'c')) await k.raw(`DROP INDEX ${quote(db, ix.name)}`);
    }
    await step('renamed');
    existing = await tables();
  } else if (!(await migrationRecorded())) {
    // an earlier run renamed and then failed while creating the new tables (MySQL: DDL is not
    // undone): what it created is ours and empty; the migration makes all of it again
    for (const name of await leftoversIn(k, db, existing)) await k.schema.dropTable(name);
  }

  // 3. the new tables
  const applied = await runLatest();
  await step('migrated');
  existing = await tables();

  // 4. the copy: one transaction (SQLite: the one everything runs in)
  const missing = list.filter((c) => !existing.has(c.from)).map((c) => c.from);
  if (missing.length === 0) {
    if (inTransaction) await copyAll(db, k);
    else await k.transaction((trx) => copyAll(db, trx));
    await step('copied');
  } else if (!(await identityStored(db, k))) {
    throw configError(`the earlier portal-mfa's table(s) ${missing.join(', ')} are missing and were not carried over; nothing more was changed`, {
      hint: 'restore them from a backup, then run db migrate again',
      details: { tables: missing },
    });
  }

  // 5. drop what was portal-mfa's, the old bookkeeping last (until then the database reads as legacy)
  if (missing.length === 0) {
    const differ = await countMismatches(k, list);
    if (differ.length > 0) {
      throw configError(`rows changed in ${differ.join(', ')} while the upgrade ran (is an earlier portal-mfa still in use?); the old tables were kept`, {
        hint: 'stop every earlier portal-mfa, then run db migrate again: the copy is made again',
        details: { tables: differ },
      });
    }
  }
  for (const c of list) {
    if (!existing.has(c.from)) continue;
    await k.schema.dropTable(c.from);
    await step(`dropped ${c.from}`);
  }
  await k.schema.dropTableIfExists(LEGACY_LOCK);
  await step(`dropped ${LEGACY_LOCK}`);
  await k.schema.dropTableIfExists(LEGACY_BOOKKEEPING);
  await step(`dropped ${LEGACY_BOOKKEEPING}`);
  return applied;
}

async function checkLegacyBookkeeping(k: Conn): Promise<void> {
  const names = ((await k(LEGACY_BOOKKEEPING).orderBy('id').select('name')) as { name: string }[]).map((r) => r.name);
  const known = new Set<string>(LEGACY_MIGRATIONS);
  const unknown = names.filter((n) => !known.has(n));
  const absent = LEGACY_MIGRATIONS.filter((n) => !names.includes(n));
  if (unknown.length === 0 && absent.length === 0 && names.length === LEGACY_MIGRATIONS.length) return;
  const details = { expected: [...LEGACY_MIGRATIONS], found: names };
  if (unknown.length > 0) {
    throw configError(
      `cannot upgrade the earlier portal-mfa schema: ${LEGACY_BOOKKEEPING} holds migration(s) this version does not know (${unknown.join(', ')}); nothing was changed`,
      { hint: 'the database was migrated by a version this one cannot upgrade from: upgrade with the portal-mfa release that follows it', details },
    );
  }
  throw configError(
    absent.length > 0
      ? `cannot upgrade the earlier portal-mfa schema: it is only partly migrated (missing ${absent.join(', ')}); nothing was changed`
      : `cannot upgrade the earlier portal-mfa schema: ${LEGACY_BOOKKEEPING} records a migration more than once; nothing was changed`,
    { hint: 'finish its migrations with the earlier portal-mfa (db migrate), then run db migrate with this version', details },
  );
}

/** Empty the new tables, copy, check the counts, then the policies, the mapping and the audit row. */
async function copyAll(db: Db, trx: Conn): Promise<void> {
  const list = carries(db);
  for (const c of list) await trx(c.to).delete();
  await trx(db.t.org_policies).delete();
  await trx(db.t.settings).where('name', 'identity').delete();

  const rows: Record<string, number> = {};
  for (const c of list) {
    const cast = db.dialect === 'sqlite' ? 'TEXT' : 'CHAR';
    const target = [...c.columns, ...c.asText].map((col) => quote(db, col)).join(', ');
    const source = [...c.columns.map((col) => quote(db, col)), ...c.asText.map((col) => `CAST(${quote(db, col)} AS ${cast})`)].join(', ');
    await trx.raw(`INSERT INTO ${quote(db, c.to)} (${target}) SELECT ${source} FROM ${quote(db, c.from)}`);
    rows[c.role] = await count(trx, c.to);
  }
  const differ = await countMismatches(trx, list);
  if (differ.length > 0) throw configError(`the copy of ${differ.join(', ')} does not hold every row; nothing was changed`);

  const now = Date.now();
  const orgs = (await trx('organisations').orderBy('id').select('id', 'mfa_required', 'grace_days', 'mfa_required_since', 'device_trust_allowed')) as {
    id: number | string;
    mfa_required: unknown;
    grace_days: number | null;
    mfa_required_since: number | string | null;
    device_trust_allowed: unknown;
  }[];
  for (let i = 0; i < orgs.length; i += 200) {
    await trx(db.t.org_policies).insert(
      orgs.slice(i, i + 200).map((o) => ({
        organisation_id: String(o.id),
        mfa_required: truthy(o.mfa_required),
        grace_days: o.grace_days,
        mfa_required_since: o.mfa_required_since === null ? null : Number(o.mfa_required_since),
        device_trust_allowed: truthy(o.device_trust_allowed),
        updated_at: now,
      })),
    );
  }
  rows['org_policies'] = orgs.length;

  await trx(db.t.settings).insert({ name: 'identity', value: JSON.stringify(DEMO_MAPPING), updated_at: now, updated_by: 'db migrate (upgrade)' });
  await trx(db.t.audit_events).insert({
    occurred_at: now,
    action: 'db.migrate',
    outcome: 'success',
    detail: JSON.stringify({ upgradedFrom: 'unprefixed', rows }),
    host: hostname().slice(0, 255),
    os_user: osUser().slice(0, 255),
  });
}

/** The carried tables whose copy does not hold as many rows as the original (both still there). */
async function countMismatches(k: Conn, list: Carry[]): Promise<string[]> {
  const out: string[] = [];
  for (const c of list) {
    // the upgrade's own audit row is not a copy
    const own = c.role === 'audit_events' ? await count(k, c.to, (q) => q.where('action', 'db.migrate').where('detail', 'like', '%"upgradedFrom"%')) : 0;
    if ((await count(k, c.to)) - own !== (await count(k, c.from))) out.push(c.from);
  }
  return out;
}

async function identityStored(db: Db, k: Conn): Promise<boolean> {
  return (await k.schema.hasTable(db.t.settings)) && (await k(db.t.settings).where('name', 'identity').first('name')) !== undefined;
}

/**
 * Of the new migration's tables that exist although the migration is not recorded, those an
 * interrupted upgrade made: only once the renamed credentials table shows an upgrade started, and
 * only empty ones. (The planner refused before that run had any of these names been taken.)
 */
async function leftoversIn(k: Conn, db: Db, existing: Set<string>): Promise<string[]> {
  if (!existing.has(legacyCredentialsTable(db))) return [];
  const out: string[] = [];
  for (const m of migrations(db.t)) {
    for (const name of m.creates) {
      if (existing.has(name.toLowerCase()) && (await count(k, name)) === 0) out.push(name);
    }
  }
  return out;
}

/**
 * For `planMigration` on a legacy database: which of the taken table names the upgrade accounts
 * for — the old `mfa_credentials` it renames first (default prefix), and the empty leftovers of an
 * upgrade interrupted while creating the new tables (MySQL).
 */
export async function legacyLeftovers(db: Db, taken: string[]): Promise<string[]> {
  const existing = new Set((await listTables(db.root)).map((t) => t.toLowerCase()));
  const started = existing.has(legacyCredentialsTable(db));
  const leftovers = new Set(started ? await leftoversIn(db.root, db, existing) : []);
  return taken.filter((t) => (!started && t === LEGACY_CREDENTIALS) || leftovers.has(t));
}

async function count(k: Conn, table: string, where?: (q: Knex.QueryBuilder) => Knex.QueryBuilder): Promise<number> {
  const q = k(table);
  const [row] = (await (where ? where(q) : q).count({ n: '*' })) as { n: number | string }[];
  return Number(row?.n ?? 0);
}

function quote(db: Db, name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw configError(`not a plain identifier: ${JSON.stringify(name)}`);
  return db.dialect === 'sqlite' ? `"${name}"` : `\`${name}\``;
}

function truthy(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 'true';
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '';
  }
}
