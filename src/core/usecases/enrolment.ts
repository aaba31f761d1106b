import { activatePendingCredential, replacePendingCredential } from '../../db/credentialRepository.js';
import { scopeOf } from '../requestScope.js';
import { replaceRecoveryCodes } from '../../db/recoveryCodeRepository.js';
import { endSessionsOfUser, liftSessionRestriction } from '../../db/sessionRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import { revokeTrustedDevices } from '../../db/trustedDeviceRepository.js';
import { admit, reauthenticate, type Actor } from '../rules/actor.js';
import { party, recordAudit } from '../primitives/audit.js';
import type { MfaDeps } from '../deps.js';
import { rejected, usageError, wrongState } from '../errors.js';
import { assertNotLocked, attempt, MISS, type AttemptEvent, type LockState } from '../rules/lockout.js';
import { queueNotification } from '../notify/outbox.js';
import { looksLikeAccessCode } from './accessCodes.js';
import { looksLikeRecoveryCode, prepareRecoveryCodes } from './recoveryCodes.js';
import { proveSecondFactor } from '../rules/secondFactor.js';
import { decryptSecret, encryptSecret } from '../primitives/secrets.js';
import { generateSecret, matchCode, normaliseCode, otpauthUri } from '../primitives/totp.js';
import { parseCode } from '../rules/verification.js';

export interface PendingEnrolment {
  email: string;
  /** base32; shown once for manual entry (this use case exists to show it) */
  secret: string;
  otpauthUri: string;
  /** a new device is being enrolled while the old one stays active (rule 7) */
  replacing: boolean;
  /** a recovery code stood in for the old device (replace): how many are left */
  recoveryCodesLeft?: number;
}

async function startPending(deps: MfaDeps, actor: Actor, replacing: boolean): Promise<PendingEnrolment> {
  const user = actor.user;
  const secret = generateSecret(deps.random);
  const sealed = encryptSecret(deps, secret);
  await withWriteTransaction(deps.db, async (trx) => {
    await replacePendingCredential(trx, user.id, sealed, deps.clock());
    await recordAudit(trx, deps, { action: replacing ? 'mfa.replace.start' : 'mfa.enroll.start', outcome: 'success', actor: party(user), target: party(user) });
  });
  return { email: user.email, secret, otpauthUri: otpauthUri({ issuer: deps.settings.issuer, account: user.email, secretBase32: secret }), replacing };
}

/**
 * Rule 3: password re-entry, then a new secret, stored encrypted and *pending*; the previous state
 * governs login until the user confirms a code from the new device.
 */
export async function startEnrolment(deps: MfaDeps, actor: Actor, proof: { password?: string }): Promise<PendingEnrolment> {
  await admit(deps, actor, 'enrol');
  await reauthenticate(deps, actor, proof.password, 'mfa.enroll');
  const { active } = await scopeOf(deps).credentials(actor.user.id);
  if (active)
    throw wrongState(`MFA is already active for ${actor.user.email}`, { code: 'mfa_already_active', hint: 'to move to a new phone use: portal-mfa replace' });
  return startPending(deps, actor, false);
}

/** Where the old device cannot be shown: what stands in for it. */
const LOST_DEVICE_HINT =
  'lost the phone? give a recovery code instead (--recovery-code, or typed at the prompt), or ask support for a temporary access code; then type that at portal-mfa login';

/**
 * Rule 7: prove the old device with a current code (unless this sign-in already did, or it was a
 * temporary access code — the phone is lost), re-enter the password, then a pending new secret. A
 * recovery code stands in for the old device's code, as it does at login: it proves as much as
 * `disable` with a recovery code, which removes MFA altogether.
 */
export async function startReplacement(deps: MfaDeps, actor: Actor, proof: { password?: string; oldDeviceCode?: string }): Promise<PendingEnrolment> {
  await admit(deps, actor, 'replace');
  await reauthenticate(deps, actor, proof.password, 'mfa.replace');
  const { active } = await scopeOf(deps).credentials(actor.user.id);
  if (!active)
    throw wrongState(`MFA is not enabled for ${actor.user.email}, so there is no device to replace`, {
      code: 'mfa_not_enabled',
      hint: 'enrol with: portal-mfa enroll',
    });
  // a locked or hard-locked credential is not replaced around its lock (unlock first)
  await assertNotLocked(deps, actor.user, active, { action: 'mfa.replace', actor: party(actor.user), target: party(actor.user) });
  const proven = actor.factor === 'code' || actor.factor === 'recovery-code' || actor.restriction === 'access-code';
  let recoveryCodesLeft: number | undefined;
  if (!proven) {
    const raw = proof.oldDeviceCode;
    if (raw === undefined)
      throw usageError('a code from the current device is needed', { code: 'second_factor_required', hint: `pass --code CODE; ${LOST_DEVICE_HINT}` });
    const isCode = normaliseCode(raw) !== null;
    if (!isCode && looksLikeAccessCode(raw)) {
      throw usageError('a temporary access code is typed at login, not here', {
        hint: 'run portal-mfa login, type it at the code prompt, then portal-mfa replace (no code from the old device is needed then)',
      });
    }
    if (!isCode && !looksLikeRecoveryCode(raw)) throw usageError('not a 6-digit code or a recovery code', { hint: LOST_DEVICE_HINT });
    const r = await proveSecondFactor(
      deps,
      actor.user,
      { kind: isCode ? 'code' : 'recovery-code', code: raw },
      { actor: actor.user, action: 'mfa.replace.prove' },
    );
    recoveryCodesLeft = r.recoveryCodesLeft;
  }
  return { ...(await startPending(deps, actor, true)), ...(recoveryCodesLeft !== undefined ? { recoveryCodesLeft } : {}) };
}

export interface ConfirmedEnrolment {
  email: string;
  driftSteps: number;
  replaced: boolean;
  trustedDevicesRevoked: number;
  sessionsEnded: number;
  /** a first enrolment comes with ten recovery codes, shown once */
  recoveryCodes: string[];
}

/**
 * Confirm the pending enrolment (or replacement) with a current code from the new device; only
 * then is it active. A replacement revokes the trusted devices and ends the user's other sessions.
 */
export async function confirmEnrolment(deps: MfaDeps, actor: Actor, proof: { code: string; password?: string }): Promise<ConfirmedEnrolment> {
  const user = actor.user;
  const { pending, active } = await scopeOf(deps).credentials(user.id);
  await admit(deps, actor, active ? 'replace' : 'enrol');
  await reauthenticate(deps, actor, proof.password, active ? 'mfa.replace' : 'mfa.enroll');
  const code = parseCode(proof.code);
  if (!pending) {
    throw wrongState(`no enrolment is pending for ${user.email}`, {
      code: 'nothing_pending',
      hint: active ? 'MFA is already active' : 'start one with: portal-mfa enroll',
    });
  }
  const replacing = active !== undefined;
  const action = replacing ? 'mfa.replace.confirm' : 'mfa.enroll.confirm';
  const event: AttemptEvent = { action, actor: party(user), target: party(user) };
  const onMiss = (lockedNow: LockState | null): never => {
    if (lockedNow) throw rejected('wrong code; the enrolment is now locked', { code: 'wrong_code' });
    throw rejected('wrong code: MFA is not active yet', {
      code: 'wrong_code',
      hint: 'type the code the app shows now; if it keeps failing, check that the phone sets its clock automatically',
    });
  };
  return attempt(deps, { user, credential: pending, event, onMiss }, async () => {
    const now = deps.clock();
    const match = matchCode(decryptSecret(deps, pending), code, now, deps.settings.window);
    if (!match) return MISS;
    // the first set of recovery codes is stored in the same transaction that activates MFA
    const fresh = replacing ? null : await prepareRecoveryCodes(deps);
    return withWriteTransaction(deps.db, async (trx) => {
      if (!(await activatePendingCredential(trx, pending.id, user.id, match.step, now))) {
        throw wrongState(`the enrolment for ${user.email} was changed by another process`, { code: 'nothing_pending', hint: 'start again: portal-mfa enroll' });
      }
      const revoked = replacing ? await revokeTrustedDevices(trx, user.id, now) : 0;
      const sessionsEnded = replacing ? await endSessionsOfUser(trx, user.id, now, actor.sessionId ?? undefined) : 0;
      if (fresh) await replaceRecoveryCodes(trx, user.id, fresh.hashes, now);
      await liftSessionRestriction(trx, user.id, actor.sessionId, now);
      await recordAudit(trx, deps, {
        ...event,
        outcome: 'success',
        detail: { driftSteps: match.driftSteps, ...(replacing ? { trustedDevicesRevoked: revoked, sessionsEnded } : { recoveryCodes: fresh!.codes.length }) },
      });
      await queueNotification(trx, deps, user, { kind: replacing ? 'device-replaced' : 'mfa-enabled' });
      return {
        email: user.email,
        driftSteps: match.driftSteps,
        replaced: replacing,
        trustedDevicesRevoked: revoked,
        sessionsEnded,
        recoveryCodes: fresh?.codes ?? [],
      };
    });
  });
}
