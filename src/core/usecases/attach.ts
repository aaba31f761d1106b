/**
 * Attaching portal-mfa to a portal's user database (SPEC §3 `db init`, `db check`, `db cleanup`):
 * infrastructure operations, run by whoever holds the database credentials, audited with the OS
 * user and host like `db migrate`. The mapping is stored once, in portal-mfa's settings table, and
 * read identically by every client.
 */
import { findUsersByIds } from '../../db/identity/reader.js';
import { foldedConflicts, rebuildEmailIndex } from '../../db/identity/emailIndex.js';
import { type Detection, detectShape, mappedColumns, missingParts } from '../../db/identity/detect.js';
import { hasLeadingIndex, tablePrivileges, type TableInfo } from '../../db/identity/inspect.js';
import { type IdentityMapping, mappedTables, parseMapping } from '../../db/identity/mapping.js';
import { writeSetting } from '../../db/settingsRepository.js';
import { type Db, makeDb } from '../../db/store.js';
import { withWriteTransaction } from '../../db/transaction.js';
import { type AuditDeps, recordAudit } from '../primitives/audit.js';
import { hashFormat } from '../primitives/passwords.js';

/** A mapping as written (by hand, or detected and amended), checked field by field: a mapping_invalid refusal names the field. */
export { parseMapping };

/**
 * `db init --detect`: the mapping of a portal this version recognises (the demo, Laravel +
 * Jetstream, Django + django-organizations), read from the schema only, with notes for the
 * operator; what a schema cannot say (who is support) is left undecided.
 */
export async function detectMapping(db: Db, schema?: string): Promise<Detection> {
  return detectShape(db.root, schema);
}

/** Store a reviewed mapping (after checking that its tables and columns exist); audited. */
export async function storeMapping(db: Db, deps: AuditDeps, raw: unknown, opts: { detail?: Record<string, unknown> } = {}): Promise<IdentityMapping> {
  const mapping = parseMapping(raw);
  const missing = await missingParts(db.root, mapping);
  if (missing.length > 0) {
    const { configError } = await import('../errors.js');
    throw configError(`the mapping does not match the database: ${missing.slice(0, 4).join('; ')}${missing.length > 4 ? '; …' : ''}; nothing was stored`, {
      code: 'mapping_invalid',
      hint: 'correct the table or column names (portal-mfa db init --detect proposes them for known portals)',
      details: { missing },
    });
  }
  const previous = db.mapping;
  await withWriteTransaction(db, async (trx) => {
    await writeSetting(trx, 'identity', JSON.stringify(mapping), deps.clock(), `${deps.origin.osUser}@${deps.origin.host}`);
    await recordAudit(trx, deps, {
      action: 'db.init',
      outcome: 'success',
      detail: { preset: mapping.preset, tables: mappedTables(mapping), replaced: previous ? previous.preset : null, ...opts.detail },
    });
  });
  // the email index follows the new mapping: rebuilt now, so the first lookups find every account
  const attached = makeDb(db.root, db.prefix, mapping);
  await rebuildEmailIndex(attached, deps.clock());
  return mapping;
}

export type CheckLevel = 'ok' | 'warning' | 'problem';

export interface CheckItem {
  level: CheckLevel;
  /** stable key for monitoring (`tables`, `indexes`, `privileges`, `hashes`, `duplicates`, `orphans`, …) */
  check: string;
  message: string;
}

export interface CheckReport {
  /** true when every check passed or only warned: portal-mfa can serve this portal */
  usable: boolean;
  items: CheckItem[];
  users: number;
  hashFormats: Record<string, number>;
  duplicates: { email: string; userIds: string[] }[];
  orphans: number;
}

const WRITE_PRIVILEGES = ['INSERT', 'UPDATE', 'DELETE', 'ALTER', 'DROP', 'CREATE', 'INDEX', 'ALL PRIVILEGES'];

/** `db check`: hold the stored mapping against the live database and say, in words, what is wrong. */
export async function checkPortal(db: Db, now: number): Promise<CheckReport> {
  const items: CheckItem[] = [];
  const say = (level: CheckLevel, check: string, message: string) => items.push({ level, check, message });
  const report: CheckReport = { usable: false, items, users: 0, hashFormats: {}, duplicates: [], orphans: 0 };
  const m = db.mapping;
  if (!m) {
    say('problem', 'mapping', 'no identity mapping is stored: run portal-mfa db init --detect (or db init --mapping FILE)');
    return report;
  }
  say('ok', 'mapping', `identity mapping '${m.preset}' over ${mappedTables(m).join(', ')}`);
  const cache = new Map<string, TableInfo>();
  const missing = await missingParts(db.root, m, cache);
  if (missing.length > 0) {
    for (const p of missing) say('problem', 'tables', p);
    return report;
  }
  say('ok', 'tables', 'every mapped table and column exists');

  // the reads every command makes, with this database user's privileges
  for (const table of mappedTables(m)) {
    try {
      await db.root.raw(
        `SELECT 1 FROM ${table
          .split('.')
          .map((p) => db.root.raw('??', [p]).toQuery())
          .join('.')} LIMIT 1`,
      );
    } catch (e) {
      say('problem', 'privileges', `cannot read ${table}: ${(e as Error).message.split('\n')[0]!.slice(0, 200)}`);
    }
  }
  for (const table of mappedTables(m)) {
    const privileges = await tablePrivileges(db.root, table);
    if (privileges === null) continue;
    const extra = WRITE_PRIVILEGES.filter((p) => privileges.has(p));
    if (extra.length > 0)
      say(
        'warning',
        'privileges',
        `this database user may also ${extra.join(', ')} on ${table}: portal-mfa needs SELECT only (see the GRANTs in docs/operator/attach.md)`,
      );
  }

  // the lookups that must not scan
  const users = cache.get(m.users.table)!;
  if (!hasLeadingIndex(users, m.users.id))
    say('problem', 'indexes', `${m.users.table}.${m.users.id} has no index: every lookup of a user by id would scan the table`);
  if (!hasLeadingIndex(users, m.users.email))
    say(
      'warning',
      'indexes',
      `${m.users.table}.${m.users.email} has no index: lookups by email use portal-mfa's own email index (kept current by db check and on every lookup)`,
    );
  if (m.memberships) {
    const ms = cache.get(m.memberships.table)!;
    if (!hasLeadingIndex(ms, m.memberships.userId))
      say('warning', 'indexes', `${m.memberships.table}.${m.memberships.userId} has no leading index: "which organisations is this user in" scans the table`);
    if (!hasLeadingIndex(ms, m.memberships.organisationId))
      say('warning', 'indexes', `${m.memberships.table}.${m.memberships.organisationId} has no leading index: organisation reports scan the table`);
  }
  for (const [table, cols] of mappedColumns(m)) {
    const info = cache.get(table)!;
    for (const c of [m.users.email, m.users.passwordHash]) {
      if (table === m.users.table && cols.includes(c) && info.columns.find((x) => x.name.toLowerCase() === c.toLowerCase())?.kind !== 'text') {
        say('problem', 'types', `${table}.${c} is not a text column`);
      }
    }
  }

  // hash formats in use
  const formats: Record<string, number> = {};
  let after: unknown = null;
  for (;;) {
    const q = db
      .root({ u: m.users.table })
      .orderBy(`u.${m.users.id}`)
      .limit(5000)
      .select({ id: `u.${m.users.id}`, h: `u.${m.users.passwordHash}` });
    if (after !== null) q.where(`u.${m.users.id}`, '>', after as string);
    const rows = (await q) as { id: unknown; h: unknown }[];
    for (const r of rows) {
      const f = r.h === null || r.h === undefined || r.h === '' ? 'none' : hashFormat(String(r.h));
      formats[f] = (formats[f] ?? 0) + 1;
    }
    report.users += rows.length;
    if (rows.length < 5000) break;
    after = rows[rows.length - 1]!.id;
  }
  report.hashFormats = formats;
  const unsupported = (formats.unknown ?? 0) + (formats.none ?? 0);
  const summary = Object.entries(formats)
    .sort((a, b) => b[1] - a[1])
    .map(([f, n]) => `${f} ${n}`)
    .join(', ');
  say(
    unsupported > 0 ? 'warning' : 'ok',
    'hashes',
    `${report.users} user(s); password hash formats: ${summary || 'none'}${unsupported > 0 ? ` — ${unsupported} cannot sign in with portal-mfa (unknown format or no password)` : ''}`,
  );

  // emails that fold together (rule 13): found while the email index is brought up to date
  await rebuildEmailIndex(db, now);
  const conflicts = await foldedConflicts(db);
  report.duplicates = [...conflicts].map(([email, userIds]) => ({ email, userIds }));
  if (conflicts.size > 0) {
    say(
      'warning',
      'duplicates',
      `${conflicts.size} email(s) belong to more than one account once case and Unicode form are folded (${report.duplicates
        .slice(0, 3)
        .map((d) => `${d.email}: ids ${d.userIds.join(', ')}`)
        .join('; ')}${conflicts.size > 3 ? '; …' : ''}): those accounts are refused until the portal gives each its own email`,
    );
  } else say('ok', 'duplicates', 'no two accounts share an email');

  report.orphans = (await orphanUserIds(db)).length;
  say(
    report.orphans > 0 ? 'warning' : 'ok',
    'orphans',
    report.orphans > 0
      ? `${report.orphans} user id(s) hold MFA rows but are no longer in the portal: portal-mfa db cleanup removes them`
      : 'no MFA rows of deleted users',
  );
  report.usable = !items.some((i) => i.level === 'problem');
  return report;
}

const USER_TABLES = ['credentials', 'trusted_devices', 'recovery_codes', 'access_codes', 'sessions', 'challenges', 'email_index'] as const;

/** User ids that hold rows in portal-mfa's tables but no longer exist in the portal. */
export async function orphanUserIds(db: Db): Promise<string[]> {
  const ids = new Set<string>();
  for (const t of USER_TABLES) for (const r of await db.knex(db.t[t]).distinct('user_id')) ids.add(String(r.user_id));
  const all = [...ids];
  const present = new Set<string>();
  for (let i = 0; i < all.length; i += 500) for (const u of await findUsersByIds(db, all.slice(i, i + 500))) present.add(u.id);
  return all.filter((id) => !present.has(id));
}

/** `db cleanup`: remove the MFA rows of users the portal deleted, in one transaction, audited. */
export async function cleanupOrphans(db: Db, deps: AuditDeps, opts: { dryRun?: boolean } = {}): Promise<{ userIds: string[]; rows: number }> {
  const userIds = await orphanUserIds(db);
  if (opts.dryRun || userIds.length === 0) return { userIds, rows: 0 };
  const rows = await withWriteTransaction(db, async (trx) => {
    let n = 0;
    for (let i = 0; i < userIds.length; i += 500) {
      const part = userIds.slice(i, i + 500);
      for (const t of USER_TABLES) n += Number(await trx.knex(db.t[t]).whereIn('user_id', part).delete());
    }
    await recordAudit(trx, deps, { action: 'db.cleanup', outcome: 'success', detail: { users: userIds.length, rows: n, userIds: userIds.slice(0, 100) } });
    return n;
  });
  return { userIds, rows };
}
