/**
 * The portal database's tables as knex sees them, declared once (SPEC §5): every `knex('users')`
 * is typed from here. Times are BIGINT epoch milliseconds; booleans come back as 0/1 from both
 * drivers, so repositories still convert at their edge.
 */
import type { Knex } from 'knex';

type Row<T> = Knex.CompositeTableType<T, Partial<T>, Partial<T>>;
type Flag = boolean | number;

export interface OrganisationTable {
  id: number;
  slug: string;
  name: string;
  mfa_required: Flag;
  grace_days: number | null;
  mfa_required_since: number | null;
  device_trust_allowed: Flag;
  created_at: number;
}

export interface UserTable {
  id: number;
  email: string;
  name: string;
  password_hash: string;
  role: string;
  created_at: number;
}

export interface MemberTable {
  organisation_id: number;
  user_id: number;
  role: string;
  created_at: number;
  joined_at: number | null;
}

export interface CredentialTable {
  id: number;
  user_id: number;
  status: 'pending' | 'active';
  secret_ciphertext: string;
  key_id: string;
  created_at: number;
  confirmed_at: number | null;
  last_used_at: number | null;
  last_accepted_step: number | null;
  consecutive_failures: number;
  locked_until: number | null;
  hard_locked_at: number | null;
}

export interface TrustedDeviceTable {
  id: number;
  user_id: number;
  token_hash: string;
  label: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number;
  revoked_at: number | null;
}

export interface RecoveryCodeTable {
  id: number;
  user_id: number;
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

export interface SessionTable {
  id: number;
  user_id: number;
  token_hash: string;
  created_at: number;
  expires_at: number;
  ended_at: number | null;
  host: string;
  os_user: string;
  restriction: string | null;
}

export interface RateLimitTable {
  subject: string;
  bucket: string;
  window_start: number;
  used: number;
}

export interface AccessCodeTable {
  id: number;
  user_id: number;
  code_hash: string;
  created_at: number;
  expires_at: number;
  uses_left: number;
  failed_attempts: number;
  issued_by_user_id: number | null;
  issued_by_email: string | null;
  ticket: string | null;
  revoked_at: number | null;
}

declare module 'knex/types/tables.js' {
  interface Tables {
    organisations: Row<OrganisationTable>;
    users: Row<UserTable>;
    organisation_members: Row<MemberTable>;
    mfa_credentials: Row<CredentialTable>;
    trusted_devices: Row<TrustedDeviceTable>;
    recovery_codes: Row<RecoveryCodeTable>;
    cli_sessions: Row<SessionTable>;
    rate_limits: Row<RateLimitTable>;
    access_codes: Row<AccessCodeTable>;
  }
}
