/**
 * The start every change to one user shares (`disable`, `unlock`, `access-code issue/revoke`,
 * `devices revoke --all`): the ticket and reason checked as typed, rule 4, then the authorisation —
 * in this order, so bad input changes nothing and is refused before anything is looked up.
 */
import { admit, type Actor } from '../rules/actor.js';
import { authorise, type Authorisation, type OrganisationPicker, type Permission } from '../rules/authorise.js';
import type { AuditAction } from '../primitives/audit.js';
import type { MfaDeps } from '../deps.js';
import { usageError } from '../errors.js';

const MAX_TICKET = 200;
const MAX_REASON = 1000;

function cleanText(raw: string | undefined | null, what: string, max: number): string | null {
  if (raw === undefined || raw === null) return null;
  const text = raw.trim();
  if (text === '') throw usageError(`the ${what} is empty`);
  if (text.length > max) throw usageError(`the ${what} is longer than ${max} characters`);
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) throw usageError(`the ${what} contains control characters`);
  return text;
}

/** A ticket reference as typed: one line, at most 200 characters; null when none was given. */
export const validateTicket = (raw: string | undefined | null) => {
  const ticket = cleanText(raw, 'ticket', MAX_TICKET);
  // a reference is one line (a reason may span several)
  if (ticket !== null && /[\t\n]/.test(ticket)) throw usageError('the ticket contains control characters');
  return ticket;
};
/** A reason as typed, for the audit trail: at most 1000 characters; null when none was given. */
export const validateReason = (raw: string | undefined | null) => cleanText(raw, 'reason', MAX_REASON);

/** What every change to one user is asked with. */
export interface ChangeOnUserRequest {
  /** the user changed; omitted: the actor */
  targetEmail?: string;
  orgSlug?: string;
  ticket?: string;
  reason?: string;
  /** the actor's password again (sensitive actions) */
  password?: string;
  /** check and report, change nothing */
  dryRun?: boolean;
  pickOrganisation?: OrganisationPicker;
}

/** Ticket and reason, rule 4 (`other`), then `authorise` for `permission`; refusals audited under `action`. */
export async function startChangeOnUser(
  deps: MfaDeps,
  actor: Actor,
  req: ChangeOnUserRequest,
  what: { permission: Permission; action: AuditAction },
): Promise<Authorisation & { reason: string | null }> {
  const ticket = validateTicket(req.ticket);
  const reason = validateReason(req.reason);
  await admit(deps, actor, 'other');
  const auth = await authorise(deps, actor, {
    targetEmail: req.targetEmail,
    permission: what.permission,
    action: what.action,
    orgSlug: req.orgSlug,
    ticket,
    pickOrganisation: req.pickOrganisation,
  });
  return { ...auth, reason };
}
