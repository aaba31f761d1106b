/**
 * Rows of portal-mfa's own tables as the repositories read them (SPEC §5). Table names carry the
 * configured prefix (store.ts), so knex cannot type queries by name: repositories convert at their
 * edge into these shapes. Times are BIGINT epoch milliseconds; user ids are the portal's, as text.
 */

export interface CredentialTable {
  id: number;
  user_id: string;
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
  failures_at_lock: number;
  lock_count: number;
}

export interface TrustedDeviceTable {
  id: number;
  user_id: string;
  token_hash: string;
  label: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number;
  revoked_at: number | null;
}

export interface AccessCodeTable {
  id: number;
  user_id: string;
  code_hash: string;
  created_at: number;
  expires_at: number;
  uses_left: number;
  failed_attempts: number;
  issued_by_user_id: string | null;
  issued_by_email: string | null;
  ticket: string | null;
  revoked_at: number | null;
}

export interface ServiceKeyTable {
  id: number;
  name: string;
  key_hash: string;
  /** space-separated */
  scopes: string;
  created_at: number;
  created_by: string;
  last_used_at: number | null;
  revoked_at: number | null;
  revoked_by: string | null;
}
