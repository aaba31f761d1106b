import { scopeOf } from '../requestScope.js';
import { countUnusedRecoveryCodes } from '../../db/recoveryCodeRepository.js';
import { countActiveTrustedDevices } from '../../db/trustedDeviceRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import { admit, reauthenticate, type Actor } from '../rules/actor.js';
import { authorise, type Authorisation, type OrganisationPicker } from '../rules/authorise.js';
import type { MfaDeps } from '../deps.js';
import { usageError, wrongState } from '../errors.js';
import { removeMfa } from '../rules/removal.js';
import type { Removal } from '../domain.js';

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
  const { active, pending } = await scopeOf(deps).credentials(target.id);
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
  const removed = await withWriteTransaction(deps.db, async (trx) => {
    const done = (await removeMfa(trx, deps, actor.user, [{ user: target, authority: auth }], reason)).get(target.id);
    // removed meanwhile by someone else: nothing changed, as for any user without MFA
    if (!done) throw wrongState(`MFA is not enabled for ${target.email}`, { code: 'mfa_not_enabled', hint: 'nothing to disable' });
    return done;
  });
  return { kind: 'disabled', ...summary, removed };
}
