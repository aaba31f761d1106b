import type { Knex } from 'knex';
import type {} from './tables.js';
import { isSqlite } from './transaction.js';

export interface MemberReportRow {
  userId: number;
  email: string;
  name: string;
  role: string;
  mfa: 'active' | 'pending' | 'none';
  enrolledAt: number | null;
  lastUsedAt: number | null;
  trustedDevices: number;
  joinedAt: number | null;
}

export interface MemberFilter {
  mfa?: 'on' | 'off' | 'pending';
  role?: 'admin' | 'member';
}

/** Rows per keyset page (MySQL/MariaDB, and `users list`), and per page handed on by streamMembers on SQLite. */
const PAGE = 2000;

/** `--mfa on|off|pending` over the a (active) and p (pending) credential joins. */
function whereMfa(q: Knex.QueryBuilder, mfa: MemberFilter['mfa']): void {
  if (mfa === 'on') q.whereNotNull('a.id');
  if (mfa === 'off') q.whereNull('a.id').whereNull('p.id');
  if (mfa === 'pending') q.whereNull('a.id').whereNotNull('p.id');
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * A streamMembers row, read by position: both drivers hand the rows over as arrays in the order of
 * the SELECT list (better-sqlite3 raw mode, mysql2 rowsAsArray) — building an object per row in
 * the driver was a third of the listing's time.
 */
function memberRow(r: unknown[]): MemberReportRow {
  const [userId, email, name, role, activeId, enrolledAt, lastUsedAt, pendingId, joinedAt, devices] = r;
  return {
    userId: Number(userId),
    email: email as string,
    name: name as string,
    role: role as string,
    mfa: activeId !== null ? 'active' : pendingId !== null ? 'pending' : 'none',
    enrolledAt: num(enrolledAt),
    lastUsedAt: num(lastUsedAt),
    trustedDevices: Number(devices ?? 0),
    joinedAt: num(joinedAt),
  };
}

/**
 * Every member of an organisation with their MFA state, in pages (arrays of rows, in user id
 * order); memory stays flat however large the organisation. On SQLite one statement is iterated
 * row by row (better-sqlite3 `iterate()`: no re-planning per page, nothing buffered); on
 * MySQL/MariaDB by keyset on organisation_members' primary key (organisation_id, user_id), so no
 * connection is held by a half-read result while the caller writes the page out.
 */
export async function* streamMembers(knex: Knex, organisationId: number, filter: MemberFilter, now: number): AsyncGenerator<MemberReportRow[]> {
  const query = (after: number) => {
    const q = knex('organisation_members as m')
      .join('users as u', 'u.id', 'm.user_id')
      .leftJoin('mfa_credentials as a', (j) => j.on('a.user_id', 'm.user_id').andOn('a.status', knex.raw('?', ['active'])))
      .leftJoin('mfa_credentials as p', (j) => j.on('p.user_id', 'm.user_id').andOn('p.status', knex.raw('?', ['pending'])))
      .where('m.organisation_id', organisationId)
      .andWhere('m.user_id', '>', after)
      .orderBy('m.user_id')
      // the order memberRow reads
      .select(
        'm.user_id',
        'u.email',
        'u.name',
        'm.role',
        'a.id as active_id',
        'a.created_at as enrolled_at',
        'a.last_used_at',
        'p.id as pending_id',
        'm.joined_at',
        knex.raw('(SELECT COUNT(*) FROM trusted_devices td WHERE td.user_id = m.user_id AND td.revoked_at IS NULL AND td.expires_at > ?) as devices', [now]),
      );
    if (filter.role) q.andWhere('m.role', filter.role);
    whereMfa(q, filter.mfa);
    return q;
  };
  if (isSqlite(knex)) {
    yield* iterateSqlite(knex, query(0), memberRow);
    return;
  }
  let after = 0;
  for (;;) {
    const rows = (await query(after).limit(PAGE).options({ rowsAsArray: true })) as unknown[][];
    yield rows.map(memberRow);
    if (rows.length < PAGE) return;
    after = Number(rows[rows.length - 1]![0]);
  }
}

interface SqliteConnection {
  prepare(sql: string): { raw(on: true): { iterate(...bindings: unknown[]): IterableIterator<unknown[]> } };
}

/**
 * Run one SELECT on the SQLite connection (rows as arrays) and hand them on in pages of PAGE, mapped. The
 * connection (the pool's only one) is held until the last page has been taken, so the caller
 * must run no other query while it iterates.
 */
async function* iterateSqlite<T>(knex: Knex, q: Knex.QueryBuilder, map: (r: unknown[]) => T): AsyncGenerator<T[]> {
  const { sql, bindings } = q.toSQL().toNative();
  const client = knex.client as { acquireConnection(): Promise<SqliteConnection>; releaseConnection(c: SqliteConnection): Promise<unknown> };
  const conn = await client.acquireConnection();
  try {
    let page: T[] = [];
    for (const r of conn
      .prepare(sql)
      .raw(true)
      .iterate(...bindings)) {
      page.push(map(r));
      if (page.length === PAGE) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  } finally {
    await client.releaseConnection(conn);
  }
}

export interface OrganisationSummaryRow {
  id: number;
  slug: string;
  name: string;
  role: string;
  mfaRequired: boolean;
  graceDays: number | null;
  deviceTrust: boolean;
  members: number;
  mfaActive: number;
}

/** Organisations (all of them, or those of one user) with member and MFA-active counts. */
export async function organisationSummaries(knex: Knex, userId: number | null): Promise<OrganisationSummaryRow[]> {
  const q = knex('organisations as o')
    .select(
      'o.id',
      'o.slug',
      'o.name',
      'o.mfa_required',
      'o.grace_days',
      'o.device_trust_allowed',
      knex.raw('(SELECT COUNT(*) FROM organisation_members mm WHERE mm.organisation_id = o.id) as members'),
      knex.raw(
        "(SELECT COUNT(*) FROM organisation_members mm JOIN mfa_credentials c ON c.user_id = mm.user_id AND c.status = 'active' WHERE mm.organisation_id = o.id) as mfa_active",
      ),
    )
    .orderBy('o.slug');
  if (userId !== null)
    q.join('organisation_members as me', (j) => j.on('me.organisation_id', 'o.id').andOn('me.user_id', knex.raw('?', [userId]))).select('me.role');
  const rows = await q;
  return rows.map((r) => ({
    id: Number(r.id),
    slug: r.slug,
    name: r.name,
    role: r.role ?? 'support',
    mfaRequired: Boolean(r.mfa_required),
    graceDays: r.grace_days === null ? null : Number(r.grace_days),
    deviceTrust: Boolean(r.device_trust_allowed),
    members: Number(r.members),
    mfaActive: Number(r.mfa_active),
  }));
}

/** Members (admins included) without active MFA: those `--require` will make enrol. */
export async function countMembersWithoutMfa(knex: Knex, organisationId: number): Promise<{ total: number; admins: number }> {
  const rows = await knex('organisation_members as m')
    .leftJoin('mfa_credentials as a', (j) => j.on('a.user_id', 'm.user_id').andOn('a.status', knex.raw('?', ['active'])))
    .where('m.organisation_id', organisationId)
    .whereNull('a.id')
    .groupBy('m.role')
    .select('m.role', knex.raw('COUNT(*) as n'));
  let total = 0;
  let admins = 0;
  for (const r of rows) {
    total += Number(r.n);
    if (r.role === 'admin') admins += Number(r.n);
  }
  return { total, admins };
}

export async function updateOrganisationPolicy(
  trx: Knex.Transaction,
  organisationId: number,
  policy: { mfa_required: boolean; grace_days: number | null; mfa_required_since: number | null; device_trust_allowed: boolean },
): Promise<void> {
  await trx('organisations').where('id', organisationId).update(policy);
}

/** Members without active MFA (ids and emails, with joining time), for notices and reminders. */
export async function membersWithoutMfa(
  knex: Knex | Knex.Transaction,
  organisationId: number,
): Promise<{ id: number; email: string; joinedAt: number | null }[]> {
  const rows = await knex('organisation_members as m')
    .join('users as u', 'u.id', 'm.user_id')
    .leftJoin('mfa_credentials as a', (j) => j.on('a.user_id', 'm.user_id').andOn('a.status', knex.raw('?', ['active'])))
    .where('m.organisation_id', organisationId)
    .whereNull('a.id')
    .orderBy('m.user_id')
    .select('u.id', 'u.email', 'm.joined_at');
  return rows.map((r) => ({
    id: Number(r.id),
    email: String(r.email),
    joinedAt: r.joined_at === null || r.joined_at === undefined ? null : Number(r.joined_at),
  }));
}

/** Revoke the trusted devices of every member (device trust turned off); returns per-user counts. */
export async function revokeDevicesOfMembers(
  trx: Knex.Transaction,
  organisationId: number,
  now: number,
): Promise<{ userId: number; email: string; count: number }[]> {
  const rows = await trx('trusted_devices as d')
    .join('organisation_members as m', 'm.user_id', 'd.user_id')
    .join('users as u', 'u.id', 'd.user_id')
    .where('m.organisation_id', organisationId)
    .whereNull('d.revoked_at')
    .groupBy('d.user_id', 'u.email')
    .select('d.user_id', 'u.email', trx.raw('COUNT(*) as n'));
  for (const r of rows) await trx('trusted_devices').where('user_id', r.user_id).whereNull('revoked_at').update({ revoked_at: now });
  return rows.map((r) => ({ userId: Number(r.user_id), email: String(r.email), count: Number(r.n) }));
}

export interface UserReportRow {
  userId: number;
  email: string;
  name: string;
  role: string;
  mfa: 'active' | 'pending' | 'none';
  enrolledAt: number | null;
  lastUsedAt: number | null;
  lockedUntil: number | null;
  hardLocked: boolean;
  organisations: string;
}

export interface UserFilter {
  mfa?: 'on' | 'off' | 'pending';
  organisationId?: number;
  role?: 'developer' | 'support';
  lockedAt?: number;
}

/** Every portal user (in no organisation included), in pages by keyset on users.id. */
export async function* streamUsers(knex: Knex, filter: UserFilter): AsyncGenerator<UserReportRow[]> {
  let after = 0;
  for (;;) {
    const q = knex('users as u')
      .leftJoin('mfa_credentials as a', (j) => j.on('a.user_id', 'u.id').andOn('a.status', knex.raw('?', ['active'])))
      .leftJoin('mfa_credentials as p', (j) => j.on('p.user_id', 'u.id').andOn('p.status', knex.raw('?', ['pending'])))
      .where('u.id', '>', after)
      .orderBy('u.id')
      .limit(PAGE)
      .select(
        'u.id',
        'u.email',
        'u.name',
        'u.role',
        'a.id as active_id',
        'a.created_at as enrolled_at',
        'a.last_used_at',
        'p.id as pending_id',
        knex.raw('COALESCE(a.locked_until, p.locked_until) as locked_until'),
        knex.raw('COALESCE(a.hard_locked_at, p.hard_locked_at) as hard_locked_at'),
      );
    if (filter.role) q.andWhere('u.role', filter.role);
    whereMfa(q, filter.mfa);
    if (filter.organisationId !== undefined) {
      const orgId = filter.organisationId;
      q.whereExists((w) => w.select(knex.raw('1')).from('organisation_members as om').whereRaw('om.user_id = u.id').andWhere('om.organisation_id', orgId));
    }
    if (filter.lockedAt !== undefined) {
      const now = filter.lockedAt;
      q.where((w) =>
        w.whereNotNull('a.hard_locked_at').orWhereNotNull('p.hard_locked_at').orWhere('a.locked_until', '>', now).orWhere('p.locked_until', '>', now),
      );
    }
    const rows = await q;
    if (rows.length === 0) return;
    const ids = rows.map((r) => Number(r.id));
    const orgs = await knex('organisation_members as m')
      .join('organisations as o', 'o.id', 'm.organisation_id')
      .whereIn('m.user_id', ids)
      .orderBy('o.slug')
      .select('m.user_id', 'o.slug');
    const byUser = new Map<number, string[]>();
    for (const o of orgs) {
      const list = byUser.get(Number(o.user_id));
      if (list) list.push(String(o.slug));
      else byUser.set(Number(o.user_id), [String(o.slug)]);
    }
    yield rows.map(
      (r): UserReportRow => ({
        userId: Number(r.id),
        email: r.email,
        name: r.name,
        role: r.role,
        mfa: r.active_id !== null ? 'active' : r.pending_id !== null ? 'pending' : 'none',
        enrolledAt: num(r.enrolled_at),
        lastUsedAt: num(r.last_used_at),
        lockedUntil: num(r.locked_until),
        hardLocked: r.hard_locked_at !== null && r.hard_locked_at !== undefined,
        organisations: (byUser.get(Number(r.id)) ?? []).join(' '),
      }),
    );
    if (rows.length < PAGE) return;
    after = Number(rows[rows.length - 1].id);
  }
}
