import type { Knex } from 'knex';
import type {} from './tables.js';

export interface UserRow {
  id: number;
  email: string;
  name: string;
  password_hash: string;
  role: 'developer' | 'support' | string;
}

export interface MembershipRow {
  organisation_id: number;
  slug: string;
  name: string;
  role: 'member' | 'admin' | string;
  mfa_required: boolean;
  grace_days: number | null;
  mfa_required_since: number | null;
  device_trust_allowed: boolean;
  /** when the user joined (null for rows written by tools that do not set it) */
  joined_at: number | null;
}

const USER_COLUMNS = ['id', 'email', 'name', 'password_hash', 'role'];

function toUser(row: Record<string, unknown> | undefined): UserRow | undefined {
  if (!row) return undefined;
  return { ...(row as unknown as UserRow), id: Number(row.id) };
}

export async function findUserByEmail(knex: Knex, email: string): Promise<UserRow | undefined> {
  return toUser(await knex('users').where('email', email).first(USER_COLUMNS));
}

export async function findUserById(knex: Knex | Knex.Transaction, id: number): Promise<UserRow | undefined> {
  return toUser(await knex('users').where('id', id).first(USER_COLUMNS));
}

export async function membershipsOfUser(knex: Knex, userId: number): Promise<MembershipRow[]> {
  const rows = await knex('organisation_members as m')
    .join('organisations as o', 'o.id', 'm.organisation_id')
    .where('m.user_id', userId)
    .orderBy('o.slug')
    .select(
      'm.organisation_id',
      'o.slug',
      'o.name',
      'm.role',
      'o.mfa_required',
      'o.grace_days',
      'o.mfa_required_since',
      'o.device_trust_allowed',
      'm.joined_at',
    );
  return rows.map((r) => ({
    organisation_id: Number(r.organisation_id),
    slug: r.slug,
    name: r.name,
    role: r.role,
    mfa_required: Boolean(r.mfa_required),
    grace_days: r.grace_days === null ? null : Number(r.grace_days),
    mfa_required_since: r.mfa_required_since === null ? null : Number(r.mfa_required_since),
    device_trust_allowed: Boolean(r.device_trust_allowed),
    joined_at: r.joined_at === null || r.joined_at === undefined ? null : Number(r.joined_at),
  }));
}

/** One stored password hash (its bcrypt cost sets the cost of checks for unknown users). */
export async function samplePasswordHash(knex: Knex): Promise<string | undefined> {
  const r = await knex('users').orderBy('id').first('password_hash');
  return r ? String(r.password_hash) : undefined;
}

/** Is the user an admin of any organisation (a protected account, SPEC §2)? */
export async function isAdminAnywhere(knex: Knex, userId: number): Promise<boolean> {
  return (await knex('organisation_members').where({ user_id: userId, role: 'admin' }).first('user_id')) !== undefined;
}
