import {
  findTrustedDeviceByHash,
  insertTrustedDevice,
  listTrustedDevices,
  touchValidTrustedDevice,
  type TrustedDeviceRow,
} from '../db/trustedDeviceRepository.js';
import { withWriteTransaction } from '../db/transaction.js';
import type { UserRow } from '../db/userRepository.js';
import { recordAudit, type AuditParty } from './audit.js';
import type { MfaDeps } from './deps.js';
import { forbidden, usageError } from './errors.js';
import { hashToken, newToken } from './tokens.js';
import { party } from './verification.js';

const DAY_MS = 86_400_000;

export function validateLabel(raw: string | undefined, fallback: string): string {
  const label = (raw ?? fallback).trim();
  if (label === '') throw usageError('the device label is empty');
  if (label.length > 200) throw usageError('the device label is longer than 200 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(label)) throw usageError('the device label contains control characters');
  return label;
}

/**
 * Rule 6: after a successful code, trust a device for trustDays. The token (256 random bits) is
 * returned once; only its SHA-256 is stored.
 */
export async function trustDevice(
  deps: MfaDeps,
  user: UserRow,
  opts: { label: string; actor: AuditParty | null; deviceTrustAllowed: boolean },
): Promise<{ token: string; id: number; expiresAt: number }> {
  if (!opts.deviceTrustAllowed) {
    throw forbidden(`device trust is turned off by an organisation of ${user.email}`, { hint: 'a code is needed at every login' });
  }
  const token = newToken(deps.random);
  const now = deps.clock();
  const expiresAt = now + deps.settings.trustDays * DAY_MS;
  const id = await withWriteTransaction(deps.knex, async (trx) => {
    const deviceId = await insertTrustedDevice(trx, { user_id: user.id, token_hash: hashToken(token), label: opts.label, created_at: now, expires_at: expiresAt });
    await recordAudit(trx, deps, { action: 'device.trust', outcome: 'success', actor: opts.actor, target: party(user), detail: { deviceId, label: opts.label, expiresAt: new Date(expiresAt).toISOString() } });
    return deviceId;
  });
  return { token, id, expiresAt };
}

export type DeviceCheck = { valid: true; device: TrustedDeviceRow } | { valid: false; reason: 'unknown' | 'expired' | 'revoked' | 'other-user' | 'trust-off' };

/** Does this token stand in for a code for this user right now? Expiry is checked in the database. */
export async function checkTrustedDevice(deps: MfaDeps, user: UserRow, token: string, deviceTrustAllowed: boolean): Promise<DeviceCheck> {
  const device = await findTrustedDeviceByHash(deps.knex, hashToken(token));
  if (!device) return { valid: false, reason: 'unknown' };
  if (device.user_id !== user.id) return { valid: false, reason: 'other-user' };
  if (device.revoked_at !== null) return { valid: false, reason: 'revoked' };
  if (!deviceTrustAllowed) return { valid: false, reason: 'trust-off' };
  if (!(await touchValidTrustedDevice(deps.knex, device.id, deps.clock()))) return { valid: false, reason: 'expired' };
  return { valid: true, device };
}

export async function listDevices(deps: MfaDeps, user: UserRow, all: boolean): Promise<TrustedDeviceRow[]> {
  return listTrustedDevices(deps.knex, user.id, { all, now: deps.clock() });
}
