/**
 * Identity mappings for the portal shapes `db init --detect` recognises. Each is what the framework
 * creates by default; an operator reviews it (and names what cannot be known, such as who is
 * support) before it is stored.
 */
import type { IdentityMapping } from './mapping.js';

/** The demo portal (`portal-mfa demo`), also what installations before the identity mapping had. */
export const DEMO_MAPPING: IdentityMapping = {
  version: 1,
  preset: 'demo',
  users: {
    table: 'users',
    id: 'id',
    email: 'email',
    name: ['name'],
    passwordHash: 'password_hash',
    support: { kind: 'column', condition: { column: 'role', in: ['support'] } },
  },
  organisations: { table: 'organisations', id: 'id', slug: 'slug', name: 'name' },
  memberships: {
    table: 'organisation_members',
    organisationId: 'organisation_id',
    userId: 'user_id',
    admin: { column: 'role', in: ['admin'] },
    joinedAt: { column: 'joined_at', type: 'epoch-ms' },
  },
};

/**
 * Laravel with Jetstream teams: `users` (bcrypt `$2y$`), `teams` (owner in `teams.user_id`; every
 * user's personal team is left out), `team_user` (role strings; Jetstream's default admin role is
 * `admin`). Laravel has no notion of support staff: the operator names it.
 */
export function laravelJetstreamMapping(schema?: string): IdentityMapping {
  const q = (t: string) => (schema ? `${schema}.${t}` : t);
  return {
    version: 1,
    preset: 'laravel-jetstream',
    users: { table: q('users'), id: 'id', email: 'email', name: ['name'], passwordHash: 'password', support: { kind: 'none' } },
    organisations: { table: q('teams'), id: 'id', name: 'name', active: { column: 'personal_team', is: 'false' }, owner: 'user_id' },
    memberships: {
      table: q('team_user'),
      organisationId: 'team_id',
      userId: 'user_id',
      admin: { column: 'role', in: ['admin'] },
      joinedAt: { column: 'created_at', type: 'datetime' },
    },
  };
}

/**
 * Django's `auth_user` (inactive users have `is_active = false`; staff are support) with
 * django-organizations (`is_admin` on the membership row).
 */
export function djangoOrganizationsMapping(schema?: string): IdentityMapping {
  const q = (t: string) => (schema ? `${schema}.${t}` : t);
  return {
    version: 1,
    preset: 'django-organizations',
    users: {
      table: q('auth_user'),
      id: 'id',
      email: 'email',
      name: ['first_name', 'last_name'],
      passwordHash: 'password',
      active: { column: 'is_active', is: 'true' },
      support: { kind: 'column', condition: { column: 'is_staff', is: 'true' } },
    },
    organisations: { table: q('organizations_organization'), id: 'id', slug: 'slug', name: 'name', active: { column: 'is_active', is: 'true' } },
    memberships: {
      table: q('organizations_organizationuser'),
      organisationId: 'organization_id',
      userId: 'user_id',
      admin: { column: 'is_admin', is: 'true' },
      joinedAt: { column: 'created', type: 'datetime' },
    },
  };
}
