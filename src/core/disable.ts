import { deleteCredentialsOfUser } from '../db/credentialRepository.js';
import { deleteRecoveryCodesOfUser } from '../db/recoveryCodeRepository.js';
import { endSessionsOfUser } from '../db/sessionRepository.js';
import { deleteTrustedDevicesOfUser } from '../db/trustedDeviceRepository.js';
import { withWriteTransaction } from '../db/transaction.js';
import type { UserRow } from '../db/userRepository.js';
import { recordAudit, type AuditParty } from './audit.js';
import type { MfaDeps } from './deps.js';
import { usageError, wrongState } from './errors.js';
import { party } from './verification.js';

export interface Removal {
  credentials: number;
  recoveryCodes: number;
  trustedDevices: number;
  sessions: number;
}

const MAX_TICKET = 200;
const MAX_REASON = 1000;

function cleanText(raw: string | undefined, what: string, max: number): string | null {
  if (raw === undefined) return null;
  const text = raw.trim();
  if (text === '') throw usageError(`the ${what} is empty`);
  if (text.length > max) throw usageError(`the ${what} is longer than ${max} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) throw usageError(`the ${what} contains control characters`);
  return text;
}

export const validateTicket = (raw: string | undefined) => {
  const ticket = cleanText(raw, 'ticket', MAX_TICKET);
  // a reference is one line (a reason may span several)
  if (ticket !== null && /[\t\n]/.test(ticket)) throw usageError('the ticket contains control characters');
  return ticket;
};
export const validateReason = (raw: string | undefined) => cleanText(raw, 'reason', MAX_REASON);

/**
 * Rules 8 and 9: remove the secret, any pending enrolment, recovery codes, every trusted device and
 * the user's CLI sessions — one transaction, together with its audit event. A user without MFA
 * is a wrong-state error and changes nothing (so of ten concurrent disables, one succeeds).
 */
export async function disableMfa(
  deps: MfaDeps,
  target: UserRow,
  opts: { actor: AuditParty; action: string; organisation: { id: number; slug: string } | null; ticket: string | null; reason: string | null },
): Promise<Removal> {
  return withWriteTransaction(deps.knex, async (trx) => {
    const now = deps.clock();
    const credentials = await deleteCredentialsOfUser(trx, target.id);
    if (credentials === 0) {
      throw wrongState(`MFA is not enabled for ${target.email}`, { hint: 'nothing to disable' });
    }
    const recoveryCodes = await deleteRecoveryCodesOfUser(trx, target.id);
    const trustedDevices = await deleteTrustedDevicesOfUser(trx, target.id);
    const sessions = await endSessionsOfUser(trx, target.id, now);
    const removal = { credentials, recoveryCodes, trustedDevices, sessions };
    await recordAudit(trx, deps, {
      action: opts.action,
      outcome: 'success',
      actor: opts.actor,
      target: party(target),
      organisation: opts.organisation,
      ticket: opts.ticket,
      reason: opts.reason,
      detail: removal,
    });
    return removal;
  });
}
