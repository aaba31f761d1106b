import type { Knex } from 'knex';

export interface MemberReportRow {
  userId: number;
  email: string;
  name: string;
  role: string;
  mfa: 'active' | 'pending' | 'none';
  enrolledAt: number | null;
  lastUsedAt: number | null;
  trustedDevices: number;
}

export interface MemberFilter {
  mfa?: 'on' | 'off' | 'pending';
  role?: 'admin' | 'member';
}

const PAGE = 5000;

/**
 * Every member of an organisation with their MFA state, streamed in pages by keyset
 * (organisation_members' primary key (organisation_id, user_id)): memory stays flat however
 * large the organisation.
 */
export async function* streamMembers(knex: Knex, organisationId: number, filter: MemberFilter, now: number): AsyncGenerator<MemberReportRow> {
  let after = 0;
  for (;;) {
    const q = knex('organisation_members as m')
      .join('users as u', 'u.id', 'm.user_id')
      .leftJoin('mfa_credentials as a', (j) => j.on('a.user_id', 'm.user_id').andOn('a.status', knex.raw('?', ['active'])))
      .leftJoin('mfa_credentials as p', (j) => j.on('p.user_id', 'm.user_id').andOn('p.status', knex.raw('?', ['pending'])))
      .where('m.organisation_id', organisationId)
      .andWhere('m.user_id', '>', after)
      .orderBy('m.user_id')
      .limit(PAGE)
      .select(
        'm.user_id',
        'u.email',
        'u.name',
        'm.role',
        'a.id as active_id',
        'a.created_at as enrolled_at',
        'a.last_used_at',
        'p.id as pending_id',
        knex.raw('(SELECT COUNT(*) FROM trusted_devices td WHERE td.user_id = m.user_id AND td.revoked_at IS NULL AND td.expires_at > ?) as devices', [now]),
      );
    if (filter.role) q.andWhere('m.role', filter.role);
    if (filter.mfa === 'on') q.whereNotNull('a.id');
    if (filter.mfa === 'off') q.whereNull('a.id').whereNull('p.id');
    if (filter.mfa === 'pending') q.whereNull('a.id').whereNotNull('p.id');
    const rows = await q;
    for (const r of rows) {
      yield {
        userId: Number(r.user_id),
        email: r.email,
        name: r.name,
        role: r.role,
        mfa: r.active_id !== null ? 'active' : r.pending_id !== null ? 'pending' : 'none',
        enrolledAt: r.enrolled_at === null ? null : Number(r.enrolled_at),
        lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
        trustedDevices: Number(r.devices ?? 0),
      };
    }
    if (rows.length < PAGE) return;
    after = Number(rows[rows.length - 1].user_id);
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
  if (userId !== null) q.join('organisation_members as me', (j) => j.on('me.organisation_id', 'o.id').andOn('me.user_id', knex.raw('?', [userId]))).select('me.role');
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
