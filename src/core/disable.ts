import { credentialsOfUser, deleteCredentialsOfUser } from '../db/credentialRepository.js';
import { deleteRecoveryCodesOfUser, countUnusedRecoveryCodes } from '../db/recoveryCodeRepository.js';
import { endSessionsOfUser } from '../db/sessionRepository.js';
import { countActiveTrustedDevices, deleteTrustedDevicesOfUser } from '../db/trustedDeviceRepository.js';
import { withWriteTransaction } from '../db/transaction.js';
import type { PortalUser } from './domain.js';
import { admit, reauthenticate, type Actor } from './actor.js';
import { party, recordAudit } from './audit.js';
import { authorise, type Authorisation, type OrganisationPicker } from './authorise.js';
import type { MfaDeps } from './deps.js';
import { usageError, wrongState } from './errors.js';
import type { NotificationEvent } from './notify/events.js';
import { queueNotification } from './notify/outbox.js';

export interface Removal {
  credentials: number;
  recoveryCodes: number;
  trustedDevices: number;
  sessions: number;
}

const MAX_TICKET = 200;
const MAX_REASON = 1000;

function cleanText(raw: string | undefined | null, what: string, max: number): string | null {
  if (raw === undefined || raw === null) return null;
  const text = raw.trim();
  if (text === '') throw usageError(`the ${what} is empty`);
  if (text.length > max) throw usageError(`the ${what} is longer than ${max} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) throw usageError(`the ${what} contains control characters`);
  return text;
}

export const validateTicket = (raw: string | undefined | null) => {
  const ticket = cleanText(raw, 'ticket', MAX_TICKET);
  // a reference is one line (a reason may span several)
  if (ticket !== null && /[\t\n]/.test(ticket)) throw usageError('the ticket contains control characters');
  return ticket;
};
export const validateReason = (raw: string | undefined | null) => cleanText(raw, 'reason', MAX_REASON);

/** The audit action and the user's notice for a removal, by who did it (SPEC §7). */
export function removalKind(auth: Pick<Authorisation, 'via' | 'organisation' | 'ticket'>, actor: PortalUser): { action: string; notice: NotificationEvent } {
  if (auth.via === 'support') return { action: 'mfa.reset', notice: { kind: 'mfa-reset-support', by: actor.email, ticket: auth.ticket ?? '' } };
  if (auth.via === 'org-admin')
    return { action: 'org.disable-mfa', notice: { kind: 'mfa-disabled-admin', by: actor.email, organisation: auth.organisation?.slug ?? '' } };
  return { action: 'mfa.disable', notice: { kind: 'mfa-disabled-self' } };
}

/**
 * Rules 8 and 9: remove the secret, any pending enrolment, recovery codes, every trusted device and
 * the user's CLI sessions — one transaction with its audit row and notice. A user without MFA is a
 * wrong-state error and changes nothing (so of ten concurrent disables, one succeeds).
 */
async function removeMfa(deps: MfaDeps, actor: PortalUser, auth: Authorisation, opts: { reason: string | null }): Promise<Removal> {
  const target = auth.target;
  const { action, notice } = removalKind(auth, actor);
  return withWriteTransaction(deps.db, async (trx) => {
    const now = deps.clock();
    const credentials = await deleteCredentialsOfUser(trx, target.id);
    if (credentials === 0) throw wrongState(`MFA is not enabled for ${target.email}`, { code: 'mfa_not_enabled', hint: 'nothing to disable' });
    const recoveryCodes = await deleteRecoveryCodesOfUser(trx, target.id);
    const trustedDevices = await deleteTrustedDevicesOfUser(trx, target.id);
    const sessions = await endSessionsOfUser(trx, target.id, now);
    const removal = { credentials, recoveryCodes, trustedDevices, sessions };
    await recordAudit(trx, deps, {
      action,
      outcome: 'success',
      actor: party(actor),
      target: party(target),
      organisation: auth.organisation,
      ticket: auth.ticket,
      reason: opts.reason,
      detail: removal,
    });
    await queueNotification(trx, deps, target, notice);
    return removal;
  });
}

export interface DisableRequest {
  targetEmail?: string;
  orgSlug?: string;
  ticket?: string;
  reason?: string;
  password?: string;
  dryRun?: boolean;
  pickOrganisation?: OrganisationPicker;
  /** asked after authorisation, with what will be removed; false cancels (nothing changes) */
  confirm?: (preview: DisablePreview) => Promise<boolean>;
}

export interface DisablePreview {
  email: string;
  self: boolean;
  state: 'pending' | 'active';
  recoveryCodes: number;
  trustedDevices: number;
}

export type DisableResult =
  | { kind: 'disabled'; email: string; via: Authorisation['via']; organisation: string | null; ticket: string | null; removed: Removal }
  | { kind: 'dry-run'; email: string; via: Authorisation['via']; organisation: string | null; ticket: string | null; wouldRemove: DisablePreview }
  | { kind: 'cancelled'; email: string };

/** `disable`: self-disable, an organisation admin's disable, or a support reset (ticket). */
export async function disableMfa(deps: MfaDeps, actor: Actor, req: DisableRequest): Promise<DisableResult> {
  const ticket = validateTicket(req.ticket);
  const reason = validateReason(req.reason);
  await admit(deps, actor, 'other');
  const auth = await authorise(deps, actor, {
    targetEmail: req.targetEmail,
    permission: 'disable',
    action: 'mfa.disable',
    orgSlug: req.orgSlug,
    ticket,
    pickOrganisation: req.pickOrganisation,
  });
  const target = auth.target;
  const { active, pending } = await credentialsOfUser(deps.db, target.id);
  if (!active && !pending) throw wrongState(`MFA is not enabled for ${target.email}`, { code: 'mfa_not_enabled', hint: 'nothing to disable' });
  const preview: DisablePreview = {
    email: target.email,
    self: target.id === actor.user.id,
    state: active ? 'active' : 'pending',
    recoveryCodes: await countUnusedRecoveryCodes(deps.db, target.id),
    trustedDevices: await countActiveTrustedDevices(deps.db, target.id, deps.clock()),
  };
  const summary = { email: target.email, via: auth.via, organisation: auth.organisation?.slug ?? null, ticket };
  if (req.dryRun) return { kind: 'dry-run', ...summary, wouldRemove: preview };
  await reauthenticate(deps, actor, req.password, 'mfa.disable');
  if (req.confirm && !(await req.confirm(preview))) return { kind: 'cancelled', email: target.email };
  const removed = await removeMfa(deps, actor.user, auth, { reason });
  return { kind: 'disabled', ...summary, removed };
}
