/**
 * Reads the portal's identity data through the mapping (SPEC §5) — SELECT only, never a write to a
 * table portal-mfa does not own. Every portal table and column name comes from the mapping; the
 * only tables named here are portal-mfa's own (`db.t`).
 */
import type { Knex } from 'knex';
import { foldEmail } from '../../core/primitives/email.js';
import { type MembershipRow, NO_POLICY, type OrganisationPolicy, type OrganisationRow, type PortalUser, type UserId } from '../../core/domain.js';
import { type Db, requireMapping } from '../store.js';
import type { Condition, IdentityMapping, TimeColumn } from './mapping.js';

type Q = Knex | Knex.Transaction;

/**
 * Ids per `IN (…)` list: a whole report page in one statement (SQLite allows 32,766 bound values,
 * MySQL/MariaDB far more), so a page of members costs a few statements, not one per 500 ids.
 */
export const IN_LIST = 2000;

/** `alias.column` satisfies the condition, as SQL. */
function conditionSql(knex: Q, alias: string, c: Condition): Knex.Raw {
  const col = `${alias}.${c.column}`;
  if ('in' in c) return knex.raw(`?? IN (${c.in.map(() => '?').join(', ')})`, [col, ...c.in]);
  switch (c.is) {
    case 'true':
      return knex.raw('?? = 1', [col]);
    case 'false':
      return knex.raw('?? = 0', [col]);
    case 'null':
      return knex.raw('?? IS NULL', [col]);
    case 'not-null':
      return knex.raw('?? IS NOT NULL', [col]);
  }
}

/** `CASE WHEN … THEN 1 ELSE 0 END`, or a constant when there is no condition. */
function flagSql(knex: Q, sql: Knex.Raw | null, whenNone: 0 | 1): Knex.Raw {
  if (!sql) return knex.raw(String(whenNone));
  const { sql: text, bindings } = sql.toSQL();
  return knex.raw(`CASE WHEN ${text} THEN 1 ELSE 0 END`, bindings as readonly Knex.Value[]);
}

function supportSql(knex: Q, m: IdentityMapping): Knex.Raw | null {
  const s = m.users.support;
  if (s.kind === 'none') return null;
  if (s.kind === 'column') return conditionSql(knex, 'u', s.condition);
  const inner = knex({ s: s.table })
    .select(knex.raw('1'))
    .whereRaw('?? = ??', [`s.${s.userId}`, `u.${m.users.id}`]);
  if (s.where) inner.andWhere(conditionSql(knex, 's', s.where));
  const { sql, bindings } = inner.toSQL();
  return knex.raw(`EXISTS (${sql})`, bindings as readonly Knex.Value[]);
}

/** The user columns in a fixed order, read by position by toUser. */
function selectUsers(knex: Q, m: IdentityMapping): Knex.QueryBuilder {
  const u = m.users;
  const cols: (string | Knex.Raw)[] = [`u.${u.id}`, `u.${u.email}`];
  cols.push(flagSql(knex, u.active ? conditionSql(knex, 'u', u.active) : null, 1));
  cols.push(flagSql(knex, supportSql(knex, m), 0));
  for (const n of u.name ?? []) cols.push(`u.${n}`);
  return knex({ u: u.table }).select(
    cols.map((c, i) => (typeof c === 'string' ? knex.raw('?? as ??', [c, `c${i}`]) : knex.raw(`${c.toQuery()} as ??`, [`c${i}`]))),
  );
}

function toUser(r: Record<string, unknown>, m: IdentityMapping): PortalUser {
  const names = (m.users.name ?? []).map((_, i) => r[`c${i + 4}`]).filter((v) => v !== null && v !== undefined && String(v) !== '');
  return Object.freeze({
    id: String(r.c0),
    email: String(r.c1 ?? ''),
    active: Number(r.c2) === 1,
    role: Number(r.c3) === 1 ? 'support' : 'developer',
    // as the portal stores it (reports show names exactly); empty parts are already left out
    name: names.map(String).join(' '),
  });
}

export async function findUserById(db: Db, id: UserId): Promise<PortalUser | undefined> {
  const m = requireMapping(db);
  const r = await selectUsers(db.knex, m).where(`u.${m.users.id}`, id).first();
  return r ? toUser(r, m) : undefined;
}

export async function findUsersByIds(db: Db, ids: UserId[]): Promise<PortalUser[]> {
  if (ids.length === 0) return [];
  const m = requireMapping(db);
  const out: PortalUser[] = [];
  for (let i = 0; i < ids.length; i += IN_LIST) {
    const rows = await selectUsers(db.knex, m).whereIn(`u.${m.users.id}`, ids.slice(i, i + IN_LIST));
    for (const r of rows) out.push(toUser(r, m));
  }
  return out;
}

/**
 * Every portal account whose email folds (rule 13: NFC + lower case) to `key`. More than one is a
 * conflict the caller refuses by name — accounts are never merged. Candidates come from the
 * portal's own column (its index serves the common case of an email stored as typed or folded, and
 * on MySQL/MariaDB's default case-insensitive collations every case variant) and from portal-mfa's
 * email index (emailIndex.ts); each is then read again by id and folded here, so a stale index
 * entry never matches a changed email.
 */
export async function findUsersByEmailKey(db: Db, key: string): Promise<PortalUser[]> {
  return (await findUsersByEmailKeys(db, [key])).get(key) ?? [];
}

/** The stored password hash of one user: read only by the password check, never returned further. */
export async function passwordHashOf(db: Db, id: UserId): Promise<string | undefined> {
  const m = requireMapping(db);
  const r = await db
    .knex({ u: m.users.table })
    .where(`u.${m.users.id}`, id)
    .first({ h: `u.${m.users.passwordHash}` });
  return r && r.h !== null && r.h !== undefined ? String(r.h) : undefined;
}

/** One stored password hash (its format and cost set the cost of checks for unknown users). */
export async function samplePasswordHash(db: Db): Promise<string | undefined> {
  const m = requireMapping(db);
  const r = await db
    .knex({ u: m.users.table })
    .whereNotNull(`u.${m.users.passwordHash}`)
    .first({ h: `u.${m.users.passwordHash}` });
  return r ? String(r.h) : undefined;
}

// ---------------------------------------------------------------------------------------------
// organisations and memberships

/** Jetstream-style portals name no slug: it is derived as `<name-slug>-<id>`, stable and unique. */
function derivedSlug(name: string, id: string): string {
  const base = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return base ? `${base}-${id}`.toLowerCase() : `org-${id}`.toLowerCase();
}

function selectOrganisations(knex: Q, m: IdentityMapping): Knex.QueryBuilder {
  const o = m.organisations!;
  const q = knex({ o: o.table }).select({ id: `o.${o.id}`, name: `o.${o.name}` });
  if (o.slug) q.select({ slug: `o.${o.slug}` });
  if (o.active) q.where(conditionSql(knex, 'o', o.active));
  return q;
}

function toOrganisationBase(r: Record<string, unknown>, m: IdentityMapping): { id: string; slug: string; name: string } {
  const id = String(r.id);
  const name = String(r.name ?? '');
  return { id, name, slug: m.organisations!.slug ? String(r.slug) : derivedSlug(name, id) };
}

async function policiesOf(db: Db, organisationIds: string[]): Promise<Map<string, OrganisationPolicy>> {
  const out = new Map<string, OrganisationPolicy>();
  for (let i = 0; i < organisationIds.length; i += 500) {
    const rows = await db.knex(db.t.org_policies).whereIn('organisation_id', organisationIds.slice(i, i + 500));
    for (const r of rows) {
      out.set(String(r.organisation_id), {
        mfa_required: Boolean(r.mfa_required),
        grace_days: r.grace_days === null ? null : Number(r.grace_days),
        mfa_required_since: r.mfa_required_since === null ? null : Number(r.mfa_required_since),
        device_trust_allowed: Boolean(r.device_trust_allowed),
      });
    }
  }
  return out;
}

async function withPolicies(db: Db, orgs: { id: string; slug: string; name: string }[]): Promise<OrganisationRow[]> {
  const policies = await policiesOf(
    db,
    orgs.map((o) => o.id),
  );
  return orgs.map((o) => ({ ...o, ...(policies.get(o.id) ?? NO_POLICY) }));
}

export async function findOrganisationBySlug(db: Db, slug: string): Promise<OrganisationRow | undefined> {
  const m = requireMapping(db);
  if (!m.organisations) return undefined;
  const q = selectOrganisations(db.knex, m);
  if (m.organisations.slug) q.where(`o.${m.organisations.slug}`, slug);
  else {
    const id = /-([^-]+)$/.exec(slug)?.[1];
    if (id === undefined) return undefined;
    q.where(`o.${m.organisations.id}`, id);
  }
  const rows = (await q.limit(2)) as Record<string, unknown>[];
  const found = rows.map((r) => toOrganisationBase(r, m)).filter((o) => o.slug === slug);
  if (found.length !== 1) return undefined;
  return (await withPolicies(db, found))[0];
}

/** Every (active) organisation, by slug. */
export async function allOrganisations(db: Db): Promise<OrganisationRow[]> {
  const m = requireMapping(db);
  if (!m.organisations) return [];
  const rows = (await selectOrganisations(db.knex, m)) as Record<string, unknown>[];
  const orgs = rows.map((r) => toOrganisationBase(r, m)).sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
  return withPolicies(db, orgs);
}

function joinedAtValue(v: unknown, t: TimeColumn | undefined): number | null {
  if (!t || v === null || v === undefined) return null;
  if (t.type === 'epoch-ms') return Number(v);
  if (t.type === 'epoch-s') return Number(v) * 1000;
  if (v instanceof Date) return v.getTime();
  const text = String(v);
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text.replace(' ', 'T') : `${text.replace(' ', 'T')}Z`);
  return Number.isNaN(ms) ? null : ms;
}

interface MembershipOf {
  organisation: { id: string; slug: string; name: string };
  admin: boolean;
  joinedAt: number | null;
}

/**
 * The organisations of many users (active organisations only), with each user's role and joining
 * time: the one reading of memberships every other function here derives from. Owners (where the
 * mapping names an owner column) are admins of their organisation; a user listed twice in one
 * organisation is an admin if either row says so.
 */
async function membershipsOfUsers(db: Db, userIds: UserId[]): Promise<Map<UserId, Map<string, MembershipOf>>> {
  const out = new Map<UserId, Map<string, MembershipOf>>();
  const m = requireMapping(db);
  if (!m.organisations || !m.memberships || userIds.length === 0) return out;
  const o = m.organisations;
  const ms = m.memberships;
  const knex = db.knex;
  const entry = (userId: string, row: Record<string, unknown>, admin: boolean, joinedAt: number | null) => {
    const organisation = toOrganisationBase(row, m);
    const mine = out.get(userId) ?? new Map<string, MembershipOf>();
    const prev = mine.get(organisation.id);
    mine.set(organisation.id, { organisation, admin: admin || Boolean(prev?.admin), joinedAt: prev?.joinedAt ?? joinedAt });
    out.set(userId, mine);
  };
  for (let i = 0; i < userIds.length; i += IN_LIST) {
    const part = userIds.slice(i, i + IN_LIST);
    const q = selectOrganisations(knex, m)
      .join({ m: ms.table }, `m.${ms.organisationId}`, `o.${o.id}`)
      .whereIn(`m.${ms.userId}`, part)
      .select({ member: `m.${ms.userId}`, is_admin: flagSql(knex, ms.admin ? conditionSql(knex, 'm', ms.admin) : null, 0) });
    if (ms.joinedAt) q.select({ joined_at: `m.${ms.joinedAt.column}` });
    for (const r of (await q) as Record<string, unknown>[]) entry(String(r.member), r, Number(r.is_admin) === 1, joinedAtValue(r.joined_at, ms.joinedAt));
    if (o.owner) {
      for (const r of (await selectOrganisations(knex, m)
        .whereIn(`o.${o.owner}`, part)
        .select({ member: `o.${o.owner}` })) as Record<string, unknown>[]) {
        entry(String(r.member), r, true, null);
      }
    }
  }
  return out;
}

const bySlug = <T extends { slug: string }>(a: T, b: T) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0);

/** The user's organisations with their role and the organisation's policy, by slug. */
export async function membershipsOfUser(db: Db, userId: UserId): Promise<MembershipRow[]> {
  const mine = [...((await membershipsOfUsers(db, [userId])).get(userId)?.values() ?? [])];
  const policies = await policiesOf(
    db,
    mine.map((x) => x.organisation.id),
  );
  return mine
    .map(({ organisation, admin, joinedAt }) => ({
      organisation_id: organisation.id,
      slug: organisation.slug,
      name: organisation.name,
      role: admin ? ('admin' as const) : ('member' as const),
      joined_at: joinedAt,
      ...(policies.get(organisation.id) ?? NO_POLICY),
    }))
    .sort(bySlug);
}

/** The member ids of an organisation with their role and joining time, in pages ordered by user id. */
export interface MemberRef {
  userId: UserId;
  admin: boolean;
  joinedAt: number | null;
}

export async function* organisationMembers(db: Db, organisationId: string, pageSize = 2000): AsyncGenerator<MemberRef[]> {
  const m = requireMapping(db);
  if (!m.organisations || !m.memberships) return;
  const ms = m.memberships;
  const knex = db.knex;
  const owner = m.organisations.owner ? await ownerOf(db, organisationId) : null;
  let ownerSeen = false;
  let after: unknown = null;
  for (;;) {
    const q = knex({ m: ms.table })
      .where(`m.${ms.organisationId}`, organisationId)
      .select({ user_id: `m.${ms.userId}`, is_admin: flagSql(knex, ms.admin ? conditionSql(knex, 'm', ms.admin) : null, 0) })
      .orderBy(`m.${ms.userId}`)
      .limit(pageSize);
    if (ms.joinedAt) q.select({ joined_at: `m.${ms.joinedAt.column}` });
    if (after !== null) q.where(`m.${ms.userId}`, '>', after as Knex.Value);
    const rows = (await q) as Record<string, unknown>[];
    const page = rows.map((r) => {
      const userId = String(r.user_id);
      if (userId === owner) ownerSeen = true;
      return { userId, admin: Number(r.is_admin) === 1 || userId === owner, joinedAt: joinedAtValue(r.joined_at, ms.joinedAt) };
    });
    if (rows.length < pageSize && owner !== null && !ownerSeen) page.push({ userId: owner, admin: true, joinedAt: null });
    if (page.length > 0) yield page;
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!.user_id;
  }
}

async function ownerOf(db: Db, organisationId: string): Promise<string | null> {
  const m = requireMapping(db);
  const o = m.organisations!;
  const r = await db
    .knex({ o: o.table })
    .where(`o.${o.id}`, organisationId)
    .first({ owner: `o.${o.owner!}` });
  return r && r.owner !== null && r.owner !== undefined ? String(r.owner) : null;
}

/** Every portal user, in pages ordered by id (the portal-wide `users list`, the email index). */
export async function* allUsers(db: Db, pageSize = 2000): AsyncGenerator<PortalUser[]> {
  const m = requireMapping(db);
  let after: unknown = null;
  for (;;) {
    const q = selectUsers(db.knex, m).orderBy(`u.${m.users.id}`).limit(pageSize);
    if (after !== null) q.where(`u.${m.users.id}`, '>', after as Knex.Value);
    const rows = (await q) as Record<string, unknown>[];
    if (rows.length > 0) yield rows.map((r) => toUser(r, m));
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!.c0;
  }
}

/** findUsersByEmailKey for many keys at once (bulk commands): key → the accounts that fold to it, by id. */
export async function findUsersByEmailKeys(db: Db, keys: string[]): Promise<Map<string, PortalUser[]>> {
  const m = requireMapping(db);
  const { syncNewUsers } = await import('./emailIndex.js');
  await syncNewUsers(db);
  const out = new Map<string, PortalUser[]>();
  const wanted = new Set(keys);
  for (let i = 0; i < keys.length; i += 500) {
    const part = keys.slice(i, i + 500);
    const ids = new Set((await db.knex(db.t.email_index).whereIn('email_key', part).select('user_id')).map((r) => String(r.user_id)));
    const found = new Map<string, PortalUser>();
    for (const r of await selectUsers(db.knex, m).whereIn(`u.${m.users.email}`, part)) {
      const u = toUser(r, m);
      found.set(u.id, u);
    }
    for (const u of await findUsersByIds(
      db,
      [...ids].filter((id) => !found.has(id)),
    ))
      found.set(u.id, u);
    for (const u of found.values()) {
      const key = foldEmail(u.email.trim());
      if (!wanted.has(key)) continue;
      out.set(key, [...(out.get(key) ?? []), u]);
    }
  }
  for (const accounts of out.values()) accounts.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return out;
}

/** For many users: who is a member of the organisation, and who is an admin of any organisation. */
export async function membershipFacts(db: Db, organisationId: string, userIds: UserId[]): Promise<{ members: Set<UserId>; admins: Set<UserId> }> {
  const members = new Set<UserId>();
  const admins = new Set<UserId>();
  for (const [userId, mine] of await membershipsOfUsers(db, userIds)) {
    if (mine.has(organisationId)) members.add(userId);
    if ([...mine.values()].some((x) => x.admin)) admins.add(userId);
  }
  return { members, admins };
}

/** The organisations (id and slug, by slug) of many users at once: the portal-wide report's page. */
export async function organisationsOfUsers(db: Db, userIds: UserId[]): Promise<Map<UserId, { id: string; slug: string }[]>> {
  const out = new Map<UserId, { id: string; slug: string }[]>();
  for (const [userId, mine] of await membershipsOfUsers(db, userIds)) {
    out.set(userId, [...mine.values()].map((x) => ({ id: x.organisation.id, slug: x.organisation.slug })).sort(bySlug));
  }
  return out;
}

/** One member with portal-mfa's state of them, read by the joined listing (joinedMembers). */
export interface JoinedMember {
  user: PortalUser;
  admin: boolean;
  joinedAt: number | null;
  mfa: 'active' | 'pending' | 'none';
  enrolledAt: number | null;
  lastUsedAt: number | null;
  trustedDevices: number;
}

/**
 * An organisation's members with their MFA state in one statement per page — the portal's tables
 * joined with portal-mfa's own — where that is possible: every mapped table lives in the same
 * database as portal-mfa's, and no owner column has to be merged in. Ids are compared as text (ours
 * are text, with a binary collation on MySQL/MariaDB). Null when not possible: the caller then
 * reads the same rows a page at a time through the mapping (organisationMembers).
 */
export function joinedMembers(db: Db, organisationId: string, now: number, pageSize = 2000): AsyncGenerator<JoinedMember[]> | null {
  const m = requireMapping(db);
  if (!m.organisations || !m.memberships || m.organisations.owner) return null;
  if ([m.users.table, m.memberships.table, m.organisations.table].some((t) => t.includes('.'))) return null;
  if (m.users.support.kind === 'table' && m.users.support.table.includes('.')) return null;
  return pagesOfJoinedMembers(db, m, organisationId, now, pageSize);
}

async function* pagesOfJoinedMembers(db: Db, m: IdentityMapping, organisationId: string, now: number, pageSize: number): AsyncGenerator<JoinedMember[]> {
  const knex = db.knex;
  const ms = m.memberships!;
  const asText =
    db.dialect === 'sqlite' ? knex.raw('CAST(?? AS TEXT)', [`m.${ms.userId}`]) : knex.raw('CAST(?? AS CHAR) COLLATE utf8mb4_bin', [`m.${ms.userId}`]);
  const idText = asText.toQuery();
  let after: unknown = null;
  for (;;) {
    const q = selectUsers(knex, m)
      .join({ m: ms.table }, `m.${ms.userId}`, `u.${m.users.id}`)
      .leftJoin({ a: db.t.credentials }, (j) => j.on(knex.raw(`a.user_id = ${idText}`)).andOn('a.status', knex.raw('?', ['active'])))
      .leftJoin({ p: db.t.credentials }, (j) => j.on(knex.raw(`p.user_id = ${idText}`)).andOn('p.status', knex.raw('?', ['pending'])))
      .where(`m.${ms.organisationId}`, organisationId)
      .orderBy(`m.${ms.userId}`)
      .limit(pageSize)
      .select({
        j_member: `m.${ms.userId}`,
        j_admin: flagSql(knex, ms.admin ? conditionSql(knex, 'm', ms.admin) : null, 0),
        j_active_id: 'a.id',
        j_enrolled: 'a.created_at',
        j_last_used: 'a.last_used_at',
        j_pending_id: 'p.id',
        j_devices: knex.raw(`(SELECT COUNT(*) FROM ?? td WHERE td.user_id = ${idText} AND td.revoked_at IS NULL AND td.expires_at > ?)`, [
          db.t.trusted_devices,
          now,
        ]),
      });
    if (ms.joinedAt) q.select({ j_joined: `m.${ms.joinedAt.column}` });
    if (after !== null) q.where(`m.${ms.userId}`, '>', after as Knex.Value);
    const rows = (await q) as Record<string, unknown>[];
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    if (rows.length > 0) {
      yield rows.map((r) => ({
        user: toUser(r, m),
        admin: Number(r.j_admin) === 1,
        joinedAt: joinedAtValue(r.j_joined, ms.joinedAt),
        mfa: r.j_active_id !== null && r.j_active_id !== undefined ? 'active' : r.j_pending_id !== null && r.j_pending_id !== undefined ? 'pending' : 'none',
        enrolledAt: num(r.j_enrolled),
        lastUsedAt: num(r.j_last_used),
        trustedDevices: Number(r.j_devices ?? 0),
      }));
    }
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!.j_member;
  }
}
