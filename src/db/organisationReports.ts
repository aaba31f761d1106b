/**
 * Reports over the portal's organisations and users with their MFA state. The portal's rows come
 * through the identity reader (any table names, string or integer ids, another database); portal-mfa's
 * state is read for the same ids, a page at a time, from its own tables — no SQL join across the
 * two, so the portal's schema, types and collations never meet ours in one statement.
 */
import type { MemberRole, OrganisationPolicy, Role, UserId } from '../core/domain.js';
import { allUsers, findUsersByIds, IN_LIST, joinedMembers, organisationMembers, organisationsOfUsers } from './identity/reader.js';
import type { Db } from './store.js';

export interface MemberReportRow {
  userId: UserId;
  email: string;
  name: string;
  role: MemberRole;
  active: boolean;
  mfa: 'active' | 'pending' | 'none';
  enrolledAt: number | null;
  lastUsedAt: number | null;
  trustedDevices: number;
  joinedAt: number | null;
}

export interface MemberFilter {
  mfa?: 'on' | 'off' | 'pending';
  role?: MemberRole;
}

/** Rows per page handed on. */
const PAGE = 2000;

export interface MfaState {
  mfa: 'active' | 'pending' | 'none';
  enrolledAt: number | null;
  lastUsedAt: number | null;
  lockedUntil: number | null;
  hardLocked: boolean;
  trustedDevices: number;
}

const NONE: MfaState = { mfa: 'none', enrolledAt: null, lastUsedAt: null, lockedUntil: null, hardLocked: false, trustedDevices: 0 };
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** portal-mfa's state of each of these users (credentials, live trusted devices), in two reads per IN_LIST ids. */
export async function mfaStatesOf(db: Db, userIds: UserId[], now: number): Promise<Map<UserId, MfaState>> {
  const out = new Map<UserId, MfaState>();
  for (let i = 0; i < userIds.length; i += IN_LIST) {
    const ids = userIds.slice(i, i + IN_LIST);
    const creds = await db
      .knex(db.t.credentials)
      .whereIn('user_id', ids)
      .select('user_id', 'status', 'created_at', 'last_used_at', 'locked_until', 'hard_locked_at');
    const byUser = new Map<string, { active?: Record<string, unknown>; pending?: Record<string, unknown> }>();
    for (const c of creds) {
      const e = byUser.get(String(c.user_id)) ?? {};
      if (c.status === 'active') e.active = c;
      else e.pending = c;
      byUser.set(String(c.user_id), e);
    }
    const devices = await db
      .knex(db.t.trusted_devices)
      .whereIn('user_id', ids)
      .whereNull('revoked_at')
      .andWhere('expires_at', '>', now)
      .groupBy('user_id')
      .select('user_id', db.knex.raw('COUNT(*) as n'));
    const deviceCount = new Map<string, number>(devices.map((d: Record<string, unknown>) => [String(d.user_id), Number(d.n)]));
    for (const id of ids) {
      const e = byUser.get(id);
      const locks = [e?.active, e?.pending].filter((x) => x !== undefined);
      out.set(
        id,
        e
          ? {
              mfa: e.active ? 'active' : 'pending',
              enrolledAt: num(e.active?.created_at),
              lastUsedAt: num(e.active?.last_used_at),
              lockedUntil: locks.map((l) => num(l.locked_until)).find((v) => v !== null) ?? null,
              hardLocked: locks.some((l) => l.hard_locked_at !== null && l.hard_locked_at !== undefined),
              trustedDevices: deviceCount.get(id) ?? 0,
            }
          : { ...NONE, trustedDevices: deviceCount.get(id) ?? 0 },
      );
    }
  }
  return out;
}

function mfaMatches(state: MfaState['mfa'], filter: MemberFilter['mfa']): boolean {
  if (filter === 'on') return state === 'active';
  if (filter === 'off') return state === 'none';
  if (filter === 'pending') return state === 'pending';
  return true;
}

/**
 * Every member of an organisation with their MFA state, in pages in user id order; memory stays
 * flat however large the organisation.
 */
export async function* streamMembers(db: Db, organisationId: string, filter: MemberFilter, now: number): AsyncGenerator<MemberReportRow[]> {
  const joined = joinedMembers(db, organisationId, now, PAGE);
  if (joined) {
    for await (const rows of joined) {
      const page: MemberReportRow[] = [];
      for (const r of rows) {
        if ((filter.role && (filter.role === 'admin') !== r.admin) || !mfaMatches(r.mfa, filter.mfa)) continue;
        page.push({
          userId: r.user.id,
          email: r.user.email,
          name: r.user.name,
          role: r.admin ? 'admin' : 'member',
          active: r.user.active,
          mfa: r.mfa,
          enrolledAt: r.enrolledAt,
          lastUsedAt: r.lastUsedAt,
          trustedDevices: r.trustedDevices,
          joinedAt: r.joinedAt,
        });
      }
      if (page.length > 0) yield page;
    }
    return;
  }
  for await (const refs of organisationMembers(db, organisationId, PAGE)) {
    const wanted = filter.role ? refs.filter((r) => (filter.role === 'admin') === r.admin) : refs;
    const ids = wanted.map((r) => r.userId);
    const [users, states] = await Promise.all([findUsersByIds(db, ids), mfaStatesOf(db, ids, now)]);
    const byId = new Map(users.map((u) => [u.id, u]));
    const page: MemberReportRow[] = [];
    for (const ref of wanted) {
      const user = byId.get(ref.userId);
      const state = states.get(ref.userId) ?? NONE;
      // a membership whose user the portal deleted is an orphan for `db check`, not a member
      if (!user || !mfaMatches(state.mfa, filter.mfa)) continue;
      page.push({
        userId: user.id,
        email: user.email,
        name: user.name,
        role: ref.admin ? 'admin' : 'member',
        active: user.active,
        mfa: state.mfa,
        enrolledAt: state.enrolledAt,
        lastUsedAt: state.lastUsedAt,
        trustedDevices: state.trustedDevices,
        joinedAt: ref.joinedAt,
      });
    }
    if (page.length > 0) yield page;
  }
}

export interface OrganisationSummaryRow {
  id: string;
  slug: string;
  name: string;
  /** the viewer's: an admin or member of it, or support seeing every organisation */
  role: MemberRole | 'support';
  mfaRequired: boolean;
  graceDays: number | null;
  deviceTrust: boolean;
  members: number;
  mfaActive: number;
}

/** Member and MFA-active counts of one organisation, a page of members at a time. */
async function countMembers(db: Db, organisationId: string): Promise<{ members: number; mfaActive: number }> {
  let members = 0;
  let mfaActive = 0;
  for await (const refs of organisationMembers(db, organisationId, 5000)) {
    members += refs.length;
    for (let i = 0; i < refs.length; i += 500) {
      const r = await db
        .knex(db.t.credentials)
        .whereIn(
          'user_id',
          refs.slice(i, i + 500).map((x) => x.userId),
        )
        .andWhere('status', 'active')
        .count({ n: '*' })
        .first();
      mfaActive += Number(r?.n ?? 0);
    }
  }
  return { members, mfaActive };
}

/** Organisations (the given ones, with the viewer's role) with member and MFA-active counts. */
export async function organisationSummaries(
  db: Db,
  organisations: { id: string; slug: string; name: string; role: MemberRole | 'support'; policy: OrganisationPolicy }[],
): Promise<OrganisationSummaryRow[]> {
  const out: OrganisationSummaryRow[] = [];
  for (const o of organisations) {
    const counts = await countMembers(db, o.id);
    out.push({
      id: o.id,
      slug: o.slug,
      name: o.name,
      role: o.role,
      mfaRequired: o.policy.mfa_required,
      graceDays: o.policy.grace_days,
      deviceTrust: o.policy.device_trust_allowed,
      ...counts,
    });
  }
  return out;
}

/** Members without active MFA (ids, emails, role, joining time), for --require's report, notices and reminders. */
export async function membersWithoutMfa(db: Db, organisationId: string): Promise<{ id: UserId; email: string; admin: boolean; joinedAt: number | null }[]> {
  const out: { id: UserId; email: string; admin: boolean; joinedAt: number | null }[] = [];
  for await (const refs of organisationMembers(db, organisationId, 5000)) {
    const ids = refs.map((r) => r.userId);
    const withMfa = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      for (const r of await db
        .knex(db.t.credentials)
        .whereIn('user_id', ids.slice(i, i + 500))
        .andWhere('status', 'active')
        .select('user_id')) {
        withMfa.add(String(r.user_id));
      }
    }
    const lacking = refs.filter((r) => !withMfa.has(r.userId));
    const users = new Map(
      (
        await findUsersByIds(
          db,
          lacking.map((r) => r.userId),
        )
      ).map((u) => [u.id, u]),
    );
    for (const r of lacking) {
      const u = users.get(r.userId);
      if (u?.active) out.push({ id: u.id, email: u.email, admin: r.admin, joinedAt: r.joinedAt });
    }
  }
  return out;
}

/** Members (admins included) without active MFA: those `--require` will make enrol. */
export async function countMembersWithoutMfa(db: Db, organisationId: string): Promise<{ total: number; admins: number }> {
  const lacking = await membersWithoutMfa(db, organisationId);
  return { total: lacking.length, admins: lacking.filter((m) => m.admin).length };
}

export async function updateOrganisationPolicy(db: Db, organisationId: string, policy: OrganisationPolicy, now: number): Promise<void> {
  await db
    .knex(db.t.org_policies)
    .insert({ organisation_id: organisationId, ...policy, updated_at: now })
    .onConflict('organisation_id')
    .merge(['mfa_required', 'grace_days', 'mfa_required_since', 'device_trust_allowed', 'updated_at']);
}

/** Revoke the trusted devices of every member (device trust turned off); returns per-user counts. */
export async function revokeDevicesOfMembers(db: Db, organisationId: string, now: number): Promise<{ userId: UserId; email: string; count: number }[]> {
  const out: { userId: UserId; email: string; count: number }[] = [];
  for await (const refs of organisationMembers(db, organisationId, 5000)) {
    const ids = refs.map((r) => r.userId);
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      const rows = await db
        .knex(db.t.trusted_devices)
        .whereIn('user_id', part)
        .whereNull('revoked_at')
        .groupBy('user_id')
        .select('user_id', db.knex.raw('COUNT(*) as n'));
      if (rows.length === 0) continue;
      const users = new Map(
        (
          await findUsersByIds(
            db,
            rows.map((r: Record<string, unknown>) => String(r.user_id)),
          )
        ).map((u) => [u.id, u]),
      );
      await db
        .knex(db.t.trusted_devices)
        .whereIn(
          'user_id',
          rows.map((r: Record<string, unknown>) => String(r.user_id)),
        )
        .whereNull('revoked_at')
        .update({ revoked_at: now });
      for (const r of rows) {
        const u = users.get(String(r.user_id));
        if (u) out.push({ userId: u.id, email: u.email, count: Number(r.n) });
      }
    }
  }
  return out;
}

export interface UserReportRow {
  userId: UserId;
  email: string;
  name: string;
  role: Role;
  active: boolean;
  mfa: 'active' | 'pending' | 'none';
  enrolledAt: number | null;
  lastUsedAt: number | null;
  lockedUntil: number | null;
  hardLocked: boolean;
  organisations: string;
}

export interface UserFilter {
  mfa?: 'on' | 'off' | 'pending';
  organisationId?: string;
  role?: 'developer' | 'support';
  lockedAt?: number;
}

/** Every portal user (in no organisation included), in pages by id. */
export async function* streamUsers(db: Db, filter: UserFilter, now: number): AsyncGenerator<UserReportRow[]> {
  for await (const users of allUsers(db, PAGE)) {
    const wanted = filter.role ? users.filter((u) => u.role === filter.role) : users;
    const ids = wanted.map((u) => u.id);
    const [states, organisations] = await Promise.all([mfaStatesOf(db, ids, now), organisationsOfUsers(db, ids)]);
    const page: UserReportRow[] = [];
    for (const u of wanted) {
      const s = states.get(u.id) ?? NONE;
      if (!mfaMatches(s.mfa, filter.mfa)) continue;
      if (filter.lockedAt !== undefined && !(s.hardLocked || (s.lockedUntil !== null && s.lockedUntil > filter.lockedAt))) continue;
      const memberships = organisations.get(u.id) ?? [];
      if (filter.organisationId !== undefined && !memberships.some((m) => m.id === filter.organisationId)) continue;
      page.push({
        userId: u.id,
        email: u.email,
        name: u.name,
        role: u.role,
        active: u.active,
        mfa: s.mfa,
        enrolledAt: s.enrolledAt,
        lastUsedAt: s.lastUsedAt,
        lockedUntil: s.lockedUntil,
        hardLocked: s.hardLocked,
        organisations: memberships.map((m) => m.slug).join(' '),
      });
    }
    if (page.length > 0) yield page;
  }
}
