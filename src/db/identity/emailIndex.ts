/**
 * portal-mfa's index of the portal's emails as compared (SPEC §1 rule 13: NFC + lower case), by
 * user id, in its own table — the portal's column is never rewritten and may have no index, or a
 * case-sensitive one. Kept current two ways:
 * - every lookup first takes in users added since the last look (integer ids above the highest one
 *   indexed: one indexed range read, usually empty);
 * - a full pass (`db init`, `db migrate`, `db check`, `db sync`) re-reads every account, for changed
 *   emails and for portals whose ids are not increasing integers.
 * A lookup re-reads each candidate by id and folds its current email, so an entry that went stale
 * can never match a changed address; it can only miss one until the next full pass, and then only
 * where the portal's own column and collation do not find it either (see reader.ts).
 */
import { foldEmail } from '../../core/primitives/email.js';
import { readSetting, writeSetting } from '../settingsRepository.js';
import { type Db, requireMapping } from '../store.js';
import { allUsers } from './reader.js';

const HIGH_WATER = 'email_index.high_water';
/** Users taken in per lookup before the rest is left to the next lookup or a full pass. */
const NEW_USERS_PER_LOOKUP = 1000;

async function upsert(db: Db, rows: { user_id: string; email_key: string }[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 250) {
    await db
      .knex(db.t.email_index)
      .insert(rows.slice(i, i + 250))
      .onConflict('user_id')
      .merge(['email_key']);
  }
}

/**
 * Take in the users added since the last look (portals with increasing integer ids). Part of a
 * lookup, so best effort where the database refuses writes (a read-only SQLite file or server):
 * reads keep working on what the index already holds.
 */
export async function syncNewUsers(db: Db): Promise<void> {
  try {
    await takeInNewUsers(db);
  } catch (e) {
    if (!refusesWrites(e)) throw e;
  }
}

function refusesWrites(e: unknown): boolean {
  const code = String((e as { code?: unknown } | null)?.code ?? '');
  return code.startsWith('SQLITE_READONLY') || code === 'ER_OPTION_PREVENTS_STATEMENT';
}

async function takeInNewUsers(db: Db): Promise<void> {
  const m = requireMapping(db);
  const mark = await readSetting(db, HIGH_WATER);
  if (mark === undefined) {
    // never indexed (no full pass since the mapping was stored): without one, an email the portal
    // stored unfolded (Mixed.Case@…, NFD) is found only where its own collation happens to match
    await rebuildEmailIndex(db, Date.now());
    return;
  }
  if (!/^-?\d+$/.test(mark)) return;
  const rows = (await db
    .knex({ u: m.users.table })
    .where(`u.${m.users.id}`, '>', Number(mark))
    .orderBy(`u.${m.users.id}`)
    .limit(NEW_USERS_PER_LOOKUP)
    .select({ id: `u.${m.users.id}`, email: `u.${m.users.email}` })) as { id: unknown; email: unknown }[];
  if (rows.length === 0) return;
  await upsert(
    db,
    rows.map((r) => ({ user_id: String(r.id), email_key: foldEmail(String(r.email ?? '').trim()) })),
  );
  await writeSetting(db, HIGH_WATER, String(rows[rows.length - 1]!.id), Date.now());
}

export interface IndexPass {
  users: number;
  changed: number;
  /** emails held by more than one account once folded: key → user ids */
  conflicts: Map<string, string[]>;
}

/** Re-read every account and bring the index up to date; reports emails that fold together. */
export async function rebuildEmailIndex(db: Db, now: number): Promise<IndexPass> {
  let users = 0;
  let changed = 0;
  let integerIds = true;
  let maxId = Number.NEGATIVE_INFINITY;
  for await (const page of allUsers(db, 5000)) {
    users += page.length;
    const keys = page.map((u) => ({ user_id: u.id, email_key: foldEmail(u.email.trim()) }));
    const existing = new Map<string, string>();
    const ids = keys.map((k) => k.user_id);
    for (let i = 0; i < ids.length; i += 500) {
      for (const r of await db
        .knex(db.t.email_index)
        .whereIn('user_id', ids.slice(i, i + 500))
        .select('user_id', 'email_key')) {
        existing.set(String(r.user_id), String(r.email_key));
      }
    }
    const stale = keys.filter((k) => existing.get(k.user_id) !== k.email_key);
    changed += stale.length;
    await upsert(db, stale);
    for (const k of keys) {
      if (/^-?\d+$/.test(k.user_id)) maxId = Math.max(maxId, Number(k.user_id));
      else integerIds = false;
    }
  }
  await writeSetting(db, HIGH_WATER, integerIds && users > 0 ? String(maxId) : integerIds ? '0' : 'none', now);
  return { users, changed, conflicts: await foldedConflicts(db) };
}

/** Emails that fold together, from the index (the grouped index read, not a map of every email in memory). */
export async function foldedConflicts(db: Db): Promise<Map<string, string[]>> {
  const keys = (await db.knex(db.t.email_index).select('email_key').groupBy('email_key').havingRaw('COUNT(*) > 1').limit(1000)).map((r) => String(r.email_key));
  const conflicts = new Map<string, string[]>();
  for (const key of keys) {
    const ids = (await db.knex(db.t.email_index).where('email_key', key).orderBy('user_id').select('user_id')).map((r) => String(r.user_id));
    conflicts.set(key, ids);
  }
  return conflicts;
}
