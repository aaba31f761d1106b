// PLACEHOLDER on main until the notifications branch lands (same API).
export type NotificationEvent =
  | { kind: 'mfa-enabled' }
  | { kind: 'mfa-disabled-self' }
  | { kind: 'mfa-reset-support'; by: string; ticket: string }
  | { kind: 'mfa-disabled-admin'; by: string; organisation: string }
  | { kind: 'device-replaced' }
  | { kind: 'device-trusted'; label: string; expiresAt: number }
  | { kind: 'devices-revoked'; count: number; by: string | null; ticket: string | null }
  | { kind: 'recovery-codes-regenerated' }
  | { kind: 'recovery-code-used'; left: number }
  | { kind: 'locked'; until: number }
  | { kind: 'hard-locked' }
  | { kind: 'unlocked'; by: string; ticket: string | null }
  | { kind: 'access-code-issued'; by: string; ticket: string | null; expiresAt: number; uses: number }
  | { kind: 'org-mfa-required'; organisation: string; deadline: number | null }
  | { kind: 'org-reminder'; organisation: string; deadline: number | null };
