/**
 * The portal's people and organisations as the core sees them: read through the identity mapping,
 * never database rows, never a password hash (SPEC §9: nothing returned exposes a hash, secret or
 * token). Ids are the portal's, as text (integers and UUIDs alike).
 */
export type UserId = string;

/** A portal account's role (the mapping's support condition decides it). */
export type Role = 'support' | 'developer';

/** A member's role in an organisation. */
export type MemberRole = 'member' | 'admin';

export interface PortalUser {
  readonly id: UserId;
  /** the email as the portal stores it (shown and mailed to) */
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  /** false: the portal's active condition excludes the account (deactivated, soft-deleted) */
  readonly active: boolean;
}

/** An organisation's MFA policy, kept in portal-mfa's own table under the portal's organisation id. */
export interface OrganisationPolicy {
  mfa_required: boolean;
  grace_days: number | null;
  mfa_required_since: number | null;
  device_trust_allowed: boolean;
}

export interface OrganisationRow extends OrganisationPolicy {
  id: string;
  slug: string;
  name: string;
}

/** One of a user's organisations, with the user's role in it and the organisation's policy. */
export interface MembershipRow extends OrganisationPolicy {
  organisation_id: string;
  slug: string;
  name: string;
  role: MemberRole;
  /** when the user joined (null where the portal does not record it) */
  joined_at: number | null;
}

/** What removing a user's MFA took away (rules 8 and 9): counts per kind, for the audit row and the result. */
export interface Removal {
  credentials: number;
  recoveryCodes: number;
  trustedDevices: number;
  sessions: number;
}

export const NO_POLICY: OrganisationPolicy = Object.freeze({ mfa_required: false, grace_days: null, mfa_required_since: null, device_trust_allowed: true });
