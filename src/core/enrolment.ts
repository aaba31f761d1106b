import {
  activatePendingCredential,
  credentialsOfUser,
  replacePendingCredential,
} from '../db/credentialRepository.js';
import { withWriteTransaction } from '../db/transaction.js';
import type { UserRow } from '../db/userRepository.js';
import { recordAudit, type AuditParty } from './audit.js';
import type { MfaDeps } from './deps.js';
import { rejected, wrongState } from './errors.js';
import { decryptSecret, encryptSecret } from './secrets.js';
import { generateSecret, matchCode, otpauthUri } from './totp.js';
import { activeLock, lockedError, party, registerFailure } from './verification.js';
import { prepareRecoveryCodes } from './recoveryCodes.js';
import { replaceRecoveryCodes } from '../db/recoveryCodeRepository.js';
import { revokeTrustedDevices } from '../db/trustedDeviceRepository.js';

export interface PendingEnrolment {
  secret: string;
  otpauthUri: string;
  credentialId: number;
  /** a new device is being enrolled while the old one stays active (rule 7) */
  replacing: boolean;
}

/**
 * Rule 3: a new secret, stored encrypted and *pending*; the previous state (none, or the old
 * secret) governs login until the user confirms a code from the new device.
 */
export async function startEnrolment(
  deps: MfaDeps,
  user: UserRow,
  opts: { actor: AuditParty | null; replacing?: boolean },
): Promise<PendingEnrolment> {
  const { active } = await credentialsOfUser(deps.knex, user.id);
  if (active && !opts.replacing) {
    throw wrongState(`MFA is already active for ${user.email}`, { hint: 'to move to a new phone use: portal-mfa replace' });
  }
  if (!active && opts.replacing) {
    throw wrongState(`MFA is not enabled for ${user.email}, so there is no device to replace`, { hint: 'enrol with: portal-mfa enroll' });
  }
  const secret = generateSecret(deps.random);
  const sealed = encryptSecret(deps, secret);
  const now = deps.clock();
  const credentialId = await withWriteTransaction(deps.knex, async (trx) => {
    const id = await replacePendingCredential(trx, user.id, sealed, now);
    await recordAudit(trx, deps, {
      action: opts.replacing ? 'mfa.replace.start' : 'mfa.enroll.start',
      outcome: 'success',
      actor: opts.actor,
      target: party(user),
    });
    return id;
  });
  return {
    secret,
    otpauthUri: otpauthUri({ issuer: deps.settings.issuer, account: user.email, secretBase32: secret }),
    credentialId,
    replacing: Boolean(opts.replacing),
  };
}

export interface ConfirmedEnrolment {
  driftSteps: number;
  replaced: boolean;
  trustedDevicesRevoked: number;
  /** a first enrolment comes with ten recovery codes, shown once */
  recoveryCodes: string[];
}

/** Confirm the pending enrolment with a current code from the new device; only then is it active. */
export async function confirmEnrolment(deps: MfaDeps, user: UserRow, code: string, opts: { actor: AuditParty | null }): Promise<ConfirmedEnrolment> {
  const { pending, active } = await credentialsOfUser(deps.knex, user.id);
  if (!pending) {
    throw wrongState(`no enrolment is pending for ${user.email}`, {
      hint: active ? 'MFA is already active' : 'start one with: portal-mfa enroll',
    });
  }
  const now = deps.clock();
  const lockEnd = activeLock(pending, now);
  if (lockEnd !== null) throw lockedError(user, lockEnd);
  const replacing = active !== undefined;
  const action = replacing ? 'mfa.replace.confirm' : 'mfa.enroll.confirm';
  const secret = decryptSecret(deps, pending);
  const match = matchCode(secret, code, now, deps.settings.window);
  if (!match) {
    const { lockedUntil, alreadyLockedUntil } = await registerFailure(deps, pending.id, now, { action, actor: opts.actor, target: party(user) });
    if (alreadyLockedUntil !== null) throw lockedError(user, alreadyLockedUntil);
    if (lockedUntil !== null) throw rejected(`wrong code; the enrolment is locked until ${new Date(lockedUntil).toISOString()}`);
    throw rejected('wrong code: MFA is not active yet', {
      hint: 'type the code the app shows now; if it keeps failing, check that the phone sets its clock automatically',
    });
  }
  // the first set of recovery codes is stored in the same transaction that activates MFA
  const fresh = replacing ? null : await prepareRecoveryCodes(deps);
  return withWriteTransaction(deps.knex, async (trx) => {
    if (!(await activatePendingCredential(trx, pending.id, user.id, match.step, now))) {
      throw wrongState(`the enrolment for ${user.email} was changed by another process`, { hint: 'start again: portal-mfa enroll' });
    }
    const revoked = replacing ? await revokeTrustedDevices(trx, user.id, now) : 0;
    if (fresh) await replaceRecoveryCodes(trx, user.id, fresh.hashes, now);
    await recordAudit(trx, deps, {
      action,
      outcome: 'success',
      actor: opts.actor,
      target: party(user),
      detail: { driftSteps: match.driftSteps, ...(replacing ? { trustedDevicesRevoked: revoked } : { recoveryCodes: fresh!.codes.length }) },
    });
    return { driftSteps: match.driftSteps, replaced: replacing, trustedDevicesRevoked: revoked, recoveryCodes: fresh?.codes ?? [] };
  });
}
