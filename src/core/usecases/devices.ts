import { findTrustedDevicesByIds, revokeTrustedDevices, type TrustedDeviceRow } from '../../db/trustedDeviceRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import { findUserById } from '../rules/identity.js';
import { admit, claimDeviceTrust, enforcementFor, reauthenticate, type Actor } from '../rules/actor.js';
import { party, recordAudit } from '../primitives/audit.js';
import { authorise, type Authorisation, type OrganisationPicker } from '../rules/authorise.js';
import type { MfaDeps } from '../deps.js';
import type { PortalUser } from '../domain.js';
import { type ChangeOnUserRequest, validateReason, validateTicket } from './changeOnUser.js';
import { forbidden, isPortalMfaError, notFound, wrongState } from '../errors.js';
import { queueNotification } from '../notify/outbox.js';
import { deviceIdOfToken, issueTrustedDevice, listDevices, validateLabel, type IssuedDevice } from '../rules/trustedDevices.js';

export interface DeviceView {
  id: number;
  label: string;
  state: 'active' | 'expired' | 'revoked';
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number;
  revokedAt: number | null;
  /** the device whose token this machine holds */
  thisMachine: boolean;
}

function view(d: TrustedDeviceRow, now: number, thisMachineId: number | null): DeviceView {
  const state = d.revoked_at !== null ? 'revoked' : d.expires_at > now ? 'active' : 'expired';
  return {
    id: d.id,
    label: d.label,
    state,
    createdAt: d.created_at,
    lastUsedAt: d.last_used_at,
    expiresAt: d.expires_at,
    revokedAt: d.revoked_at,
    thisMachine: d.id === thisMachineId,
  };
}

export async function listTrustedDevices(
  deps: MfaDeps,
  actor: Actor,
  req: { targetEmail?: string; orgSlug?: string; all?: boolean; machineToken?: string; pickOrganisation?: OrganisationPicker },
): Promise<{ email: string; devices: DeviceView[] }> {
  await admit(deps, actor, 'other');
  const { target } = await authorise(deps, actor, {
    targetEmail: req.targetEmail,
    permission: 'view',
    action: 'device.list',
    orgSlug: req.orgSlug,
    pickOrganisation: req.pickOrganisation,
  });
  const rows = await listDevices(deps, target, Boolean(req.all));
  const here = await deviceIdOfToken(deps, target, req.machineToken);
  const now = deps.clock();
  return { email: target.email, devices: rows.map((d) => view(d, now, here)) };
}

export interface RevokeRequest extends ChangeOnUserRequest {
  /** device ids; omitted: every device of the target (--all) */
  ids?: number[];
  confirm?: (owners: string[]) => Promise<boolean>;
}

export type RevokeResult =
  | { kind: 'revoked' | 'dry-run'; revoked: number; users: string[]; deviceIds: number[] | 'all' }
  | { kind: 'cancelled'; users: string[] };

/** `devices revoke ID…` / `--all`: authorised per owner, one transaction, one audit row and notice per owner. */
export async function revokeDevices(deps: MfaDeps, actor: Actor, req: RevokeRequest): Promise<RevokeResult> {
  const ticket = validateTicket(req.ticket);
  const reason = validateReason(req.reason);
  await admit(deps, actor, 'other');
  const plan: { auth: Authorisation; ids?: number[] }[] = [];
  if (req.ids === undefined) {
    const auth = await authorise(deps, actor, {
      targetEmail: req.targetEmail,
      permission: 'revoke-devices',
      action: 'device.revoke',
      orgSlug: req.orgSlug,
      ticket,
      pickOrganisation: req.pickOrganisation,
    });
    plan.push({ auth });
  } else {
    const rows = await findTrustedDevicesByIds(deps.db, req.ids);
    const missing = req.ids.filter((id) => !rows.some((r) => r.id === id));
    if (missing.length > 0) {
      throw notFound(`no trusted device ${missing.join(', ')}`, { code: 'device_not_found' });
    }
    for (const ownerId of [...new Set(rows.map((r) => r.user_id))]) {
      const owner = (await findUserById(deps.db, ownerId))!;
      const ids = rows.filter((r) => r.user_id === ownerId).map((r) => r.id);
      let auth: Authorisation;
      try {
        auth = await authorise(deps, actor, {
          targetEmail: owner.email,
          permission: 'revoke-devices',
          action: 'device.revoke',
          orgSlug: req.orgSlug,
          ticket,
          pickOrganisation: req.pickOrganisation,
        });
      } catch (e) {
        // the refusal is audited with the owner; the actor learns nothing about whose device it is
        if (isPortalMfaError(e) && e.kind === 'forbidden') throw notFound(`no trusted device ${ids.join(', ')}`, { code: 'device_not_found' });
        throw e;
      }
      plan.push({ auth, ids });
    }
  }
  const users = plan.map((p) => p.auth.target.email);
  const deviceIds = req.ids ?? 'all';
  if (req.dryRun) return { kind: 'dry-run', revoked: 0, users, deviceIds };
  await reauthenticate(deps, actor, req.password, 'device.revoke');
  const others = plan.filter((p) => p.auth.target.id !== actor.user.id).map((p) => p.auth.target.email);
  if (others.length > 0 && req.confirm && !(await req.confirm(others))) return { kind: 'cancelled', users };
  const now = deps.clock();
  const revoked = await withWriteTransaction(deps.db, async (trx) => {
    let n = 0;
    for (const p of plan) {
      const count = await revokeTrustedDevices(trx, p.auth.target.id, now, p.ids);
      n += count;
      await recordAudit(trx, deps, {
        action: 'device.revoke',
        outcome: 'success',
        actor: party(actor.user),
        target: party(p.auth.target),
        organisation: p.auth.organisation,
        ticket,
        reason,
        detail: { deviceIds: p.ids ?? 'all', revoked: count },
      });
      if (count > 0) {
        const by = p.auth.target.id === actor.user.id ? null : actor.user.email;
        await queueNotification(trx, deps, p.auth.target, { kind: 'devices-revoked', count, by, ticket });
      }
    }
    return n;
  });
  return { kind: 'revoked', revoked, users, deviceIds };
}

/**
 * Rule 14: only the user themself, right after proving a code in this sign-in, gets a
 * trusted-device token; re-trusting the same machine replaces its device.
 */
export async function trustThisDevice(deps: MfaDeps, actor: Actor, req: { label: string; previousToken?: string }): Promise<IssuedDevice> {
  await admit(deps, actor, 'other');
  const label = validateLabel(req.label, req.label);
  if ((actor.factor !== 'code' && actor.factor !== 'recovery-code') || !claimDeviceTrust(deps, actor)) {
    throw wrongState('a device is trusted only right after a code from the app, once per sign-in', {
      code: 'second_factor_required',
      hint: 'log in with a code: portal-mfa login --trust-device',
    });
  }
  const { deviceTrustAllowed } = await enforcementFor(deps, actor.user.id);
  if (!deviceTrustAllowed) await refuseTrustOff(deps, actor.user);
  return issueTrustedDevice(deps, actor.user, { label, previousToken: req.previousToken, deviceTrustAllowed });
}

/** The refusal for trusting a device where an organisation turned device trust off, audited. */
export async function refuseTrustOff(deps: MfaDeps, user: PortalUser): Promise<never> {
  await withWriteTransaction(deps.db, (trx) =>
    recordAudit(trx, deps, {
      action: 'device.trust',
      outcome: 'refused',
      actor: party(user),
      target: party(user),
      reason: 'device trust is turned off by an organisation',
    }),
  );
  throw forbidden(`device trust is turned off by an organisation of ${user.email}`, {
    code: 'device_trust_off',
    hint: 'a code is needed at every login',
  });
}

/** The refusal for trusting a device on someone else's behalf (rule 14), audited. */
export async function refuseTrustForOther(deps: MfaDeps, actor: Actor, targetEmail: string): Promise<never> {
  await withWriteTransaction(deps.db, (trx) =>
    recordAudit(trx, deps, {
      action: 'device.trust',
      outcome: 'refused',
      actor: party(actor.user),
      target: { id: null, email: targetEmail },
      reason: 'device tokens are only issued to the user themself',
    }),
  );
  throw forbidden('a trusted-device token is only ever issued to the user themself', {
    code: 'trust_not_self',
    hint: 'the user runs portal-mfa login --trust-device on their own machine',
  });
}
