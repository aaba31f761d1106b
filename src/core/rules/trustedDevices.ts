import {
  findTrustedDeviceByHash,
  insertTrustedDevice,
  listTrustedDevices,
  revokeTrustedDevices,
  touchValidTrustedDevice,
  type TrustedDeviceRow,
} from '../../db/trustedDeviceRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import type { PortalUser } from '../domain.js';
import { party, recordAudit, type AuditAction } from '../primitives/audit.js';
import type { MfaDeps } from '../deps.js';
import { forbidden, usageError } from '../errors.js';
import { queueNotification } from '../notify/outbox.js';
import { hashToken, newToken } from '../primitives/tokens.js';

const DAY_MS = 86_400_000;

export function validateLabel(raw: string | undefined, fallback: string): string {
  const label = (raw ?? fallback).trim();
  if (label === '') throw usageError('the device label is empty');
  if (label.length > 200) throw usageError('the device label is longer than 200 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(label)) throw usageError('the device label contains control characters');
  return label;
}

export interface IssuedDevice {
  token: string;
  id: number;
  expiresAt: number;
  /** the earlier device of this machine, revoked by the re-trust */
  replacedDeviceId: number | null;
}

/**
 * Rule 6 and 14: after a successful code, the user (only ever the user themself — the caller has
 * checked) trusts a device for trustDays. The token (256 random bits) is returned once; only its
 * SHA-256 is stored. Re-trusting the same machine (its previous token given) replaces that device.
 */
export async function issueTrustedDevice(
  deps: MfaDeps,
  user: PortalUser,
  opts: { label: string; previousToken?: string; deviceTrustAllowed: boolean },
): Promise<IssuedDevice> {
  if (!opts.deviceTrustAllowed) {
    throw forbidden(`device trust is turned off by an organisation of ${user.email}`, { code: 'device_trust_off', hint: 'a code is needed at every login' });
  }
  const token = newToken(deps.random);
  const now = deps.clock();
  const expiresAt = now + deps.settings.trustDays * DAY_MS;
  const previous = opts.previousToken ? await findTrustedDeviceByHash(deps.db, hashToken(opts.previousToken)) : undefined;
  const replaced = previous && previous.user_id === user.id && previous.revoked_at === null ? previous.id : null;
  const id = await withWriteTransaction(deps.db, async (trx) => {
    if (replaced !== null) await revokeTrustedDevices(trx, user.id, now, [replaced]);
    const deviceId = await insertTrustedDevice(trx, {
      user_id: user.id,
      token_hash: hashToken(token),
      label: opts.label,
      created_at: now,
      expires_at: expiresAt,
    });
    await recordAudit(trx, deps, {
      action: 'device.trust',
      outcome: 'success',
      actor: party(user),
      target: party(user),
      detail: { deviceId, label: opts.label, expiresAt: new Date(expiresAt).toISOString(), replacedDeviceId: replaced },
    });
    await queueNotification(trx, deps, user, { kind: 'device-trusted', label: opts.label, expiresAt });
    return deviceId;
  });
  return { token, id, expiresAt, replacedDeviceId: replaced };
}

export type DeviceCheck = { valid: true; device: TrustedDeviceRow } | { valid: false; reason: 'unknown' | 'expired' | 'revoked' | 'other-user' | 'trust-off' };

/**
 * Does this token stand in for a code for this user right now? Expiry is checked in the database.
 * A token that does not is refused and audited.
 */
export async function checkTrustedDevice(
  deps: MfaDeps,
  user: PortalUser,
  token: string,
  deviceTrustAllowed: boolean,
  action: AuditAction,
): Promise<DeviceCheck> {
  const result = await classify(deps, user, token, deviceTrustAllowed);
  if (!result.valid) {
    await withWriteTransaction(deps.db, (trx) =>
      recordAudit(trx, deps, { action, outcome: 'refused', actor: party(user), target: party(user), reason: `trusted-device token ${result.reason}` }),
    );
  }
  return result;
}

async function classify(deps: MfaDeps, user: PortalUser, token: string, deviceTrustAllowed: boolean): Promise<DeviceCheck> {
  const device = await findTrustedDeviceByHash(deps.db, hashToken(token));
  if (!device) return { valid: false, reason: 'unknown' };
  if (device.user_id !== user.id) return { valid: false, reason: 'other-user' };
  if (device.revoked_at !== null) return { valid: false, reason: 'revoked' };
  if (!deviceTrustAllowed) return { valid: false, reason: 'trust-off' };
  if (!(await touchValidTrustedDevice(deps.db, device.id, deps.clock()))) return { valid: false, reason: 'expired' };
  return { valid: true, device };
}

export async function listDevices(deps: MfaDeps, user: PortalUser, all: boolean): Promise<TrustedDeviceRow[]> {
  return listTrustedDevices(deps.db, user.id, { all, now: deps.clock() });
}

/** The device behind a token (to mark "this machine" in a listing), if it is the user's. */
export async function deviceIdOfToken(deps: MfaDeps, user: PortalUser, token: string | undefined): Promise<number | null> {
  if (!token) return null;
  const d = await findTrustedDeviceByHash(deps.db, hashToken(token));
  return d && d.user_id === user.id ? d.id : null;
}
