import type { Knex } from 'knex';
import type { OrganisationTable } from './tables.js';

export interface OrganisationRow {
  id: number;
  slug: string;
  name: string;
  mfa_required: boolean;
  grace_days: number | null;
  mfa_required_since: number | null;
  device_trust_allowed: boolean;
}

function toOrganisation(r: OrganisationTable): OrganisationRow {
  return {
    id: Number(r.id),
    slug: String(r.slug),
    name: String(r.name),
    mfa_required: Boolean(r.mfa_required),
    grace_days: r.grace_days === null || r.grace_days === undefined ? null : Number(r.grace_days),
    mfa_required_since: r.mfa_required_since === null || r.mfa_required_since === undefined ? null : Number(r.mfa_required_since),
    device_trust_allowed: Boolean(r.device_trust_allowed),
  };
}

export async function findOrganisationBySlug(knex: Knex, slug: string): Promise<OrganisationRow | undefined> {
  const r = await knex('organisations').where('slug', slug).first();
  return r ? toOrganisation(r) : undefined;
}

export async function membershipRole(knex: Knex, organisationId: number, userId: number): Promise<string | undefined> {
  const r = await knex('organisation_members').where({ organisation_id: organisationId, user_id: userId }).first('role');
  return r ? String(r.role) : undefined;
}
