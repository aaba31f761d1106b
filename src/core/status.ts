import { credentialsOfUser } from '../db/credentialRepository.js';
import { countUnusedRecoveryCodes } from '../db/recoveryCodeRepository.js';
import { countActiveTrustedDevices } from '../db/trustedDeviceRepository.js';
import type { UserRow } from '../db/userRepository.js';
import type { MfaDeps } from './deps.js';
import { activeLock } from './verification.js';

export interface MfaStatus {
  email: string;
  name: string;
  state: 'none' | 'pending' | 'active';
  enrolledAt: number | null;
  confirmedAt: number | null;
  lastUsedAt: number | null;
  /** a replacement device (or first enrolment) waiting for its code */
  pendingSince: number | null;
  consecutiveFailures: number;
  lockedUntil: number | null;
  trustedDevices: number;
  recoveryCodesLeft: number;
}

/** A user's MFA state as `status` shows it; no secrets. */
export async function mfaStatus(deps: MfaDeps, user: UserRow): Promise<MfaStatus> {
  const { active, pending } = await credentialsOfUser(deps.knex, user.id);
  const now = deps.clock();
  const governing = active ?? pending;
  const lockedUntil = activeLock(governing, now);
  return {
    email: user.email,
    name: user.name,
    state: active ? 'active' : pending ? 'pending' : 'none',
    enrolledAt: active?.created_at ?? null,
    confirmedAt: active?.confirmed_at ?? null,
    lastUsedAt: active?.last_used_at ?? null,
    pendingSince: pending?.created_at ?? null,
    consecutiveFailures: governing?.consecutive_failures ?? 0,
    lockedUntil,
    trustedDevices: await countActiveTrustedDevices(deps.knex, user.id, now),
    recoveryCodesLeft: await countUnusedRecoveryCodes(deps.knex, user.id),
  };
}
