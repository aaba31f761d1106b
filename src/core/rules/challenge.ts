/**
 * The two-step sign-in of a web backend (SPEC §9, issue 22): the password page and the code page are
 * two requests, and the password is never held between them.
 *
 * - beginSignIn checks the password (passwordStep: the same budget, the same answer and writes for
 *   an unknown email, an inactive account refused) — or takes the backend's vouching — and returns a
 *   signed-in Actor when the user has no MFA, or else a challenge: 256 random bits, base64url, of
 *   which only the SHA-256 is stored, bound to the user and living CHALLENGE_SECONDS.
 * - completeSignIn completes it with a code, recovery code, access code or trusted-device token
 *   (secondFactorStep: one order, one audit, the lockout), optionally trusting the device. The
 *   completion holds the challenge while it checks (one at a time: a parallel completion is refused
 *   without checking or using anything), uses it up on success, and gives it back when the proof
 *   fails — which counts as a failure as always. Expired, used, unknown, held or tampered challenges
 *   are all `challenge_invalid`.
 */
import {
  claimChallenge,
  findChallengeByHash,
  insertChallenge,
  releaseChallenge,
  useClaimedChallenge,
  type ChallengeRow,
} from '../../db/challengeRepository.js';
import { scopeOf } from '../requestScope.js';
import { withWriteTransaction } from '../../db/transaction.js';
import type { MfaDeps } from '../deps.js';
import type { PortalUser } from '../domain.js';
import { rejected, usageError } from '../errors.js';
import { party, recordAudit, type AuditParty } from '../primitives/audit.js';
import { hashToken, newToken } from '../primitives/tokens.js';
import { refuseTrustOff } from '../usecases/devices.js';
import { findUserById } from './identity.js';
import {
  checkSignInAction,
  checkVouch,
  claimDeviceTrust,
  enforcementFor,
  passwordStep,
  refuseInactive,
  secondFactorStep,
  type Actor,
  type FirstStep,
  type SignInAction,
  type Vouch,
} from './actor.js';
import type { SecondFactorProof } from './secondFactor.js';
import { issueTrustedDevice, validateLabel, type IssuedDevice } from './trustedDevices.js';

/** How long a challenge waits for its second step. */
const CHALLENGE_SECONDS = 300;

/** The audit action of a refused completion (the challenge names no sign-in it could be recorded under). */
const CHALLENGE_ACTION = 'signin.challenge';

/** What can complete a challenge: a code, recovery code or access code, or a trusted-device token. */
export type ChallengeProof = SecondFactorProof | { kind: 'device'; token: string };

/** The second factors a challenge can be completed with (what the code page may offer). */
export type SecondFactorKind = ChallengeProof['kind'];

export type BeginSignInRequest = { email: string; password: string; action?: SignInAction } | (Vouch & { action?: SignInAction });

export type SignInStep =
  | { status: 'signed-in'; actor: Actor }
  | {
      status: 'second-factor';
      /** serialisable (a cookie, a hidden field); single use; never the password */
      challenge: string;
      expiresAt: number;
      /** which second factors complete it — the same for every account with MFA (device only where device trust is allowed) */
      factors: SecondFactorKind[];
    };

/**
 * Step one: the password (or the backend's vouching), then a signed-in actor (no MFA) or a
 * challenge. The challenge and its audit row are written in one transaction.
 */
export async function beginSignIn(deps: MfaDeps, req: BeginSignInRequest): Promise<SignInStep> {
  if (req === null || typeof req !== 'object') throw usageError('beginSignIn needs { email, password } or { userId, vouchedBy }', { code: 'invalid_input' });
  const action = checkSignInAction(req.action ?? 'portal.login');
  const byPassword = 'password' in req || 'email' in req;
  if (byPassword && 'vouchedBy' in req) throw usageError('beginSignIn takes a password or a vouch, not both', { code: 'invalid_input' });
  let first: FirstStep;
  let who: AuditParty;
  if (byPassword) {
    const { user, passwordAt } = await passwordStep(deps, {
      email: (req as { email: unknown }).email,
      password: (req as { password: unknown }).password,
      action,
    });
    first = { user, passwordAt, action };
    who = party(user);
  } else {
    const { user, vouch } = await checkVouch(deps, req as Vouch, action);
    first = { user, passwordAt: vouch.passwordCheckedAt, vouch, action };
    who = { ...party(user), vouchedBy: vouch.by, vouchedPasswordAt: vouch.passwordCheckedAt };
  }
  const { active } = await scopeOf(deps).credentials(first.user.id);
  // no MFA: the first step is the whole sign-in (rule 4 is admit's, at every later call)
  if (!active) return { status: 'signed-in', actor: await secondFactorStep(deps, first, {}) };
  const challenge = newToken(deps.random);
  const now = deps.clock();
  const expiresAt = now + CHALLENGE_SECONDS * 1000;
  await withWriteTransaction(deps.db, async (trx) => {
    const id = await insertChallenge(trx, {
      token_hash: hashToken(challenge),
      user_id: first.user.id,
      action,
      created_at: now,
      expires_at: expiresAt,
      password_at: first.passwordAt,
      vouched_by: first.vouch?.by ?? null,
    });
    await recordAudit(trx, deps, {
      action,
      outcome: 'challenge',
      actor: who,
      target: who,
      detail: { challengeId: id, expiresAt: new Date(expiresAt).toISOString() },
    });
  });
  const { deviceTrustAllowed } = await enforcementFor(deps, first.user.id);
  const factors: SecondFactorKind[] = ['code', 'recovery-code', 'access-code', ...(deviceTrustAllowed ? (['device'] as const) : [])];
  return { status: 'second-factor', challenge, expiresAt, factors };
}

export interface CompleteSignInRequest {
  challenge: string;
  proof: ChallengeProof;
  /** after a code or recovery code: trust this device (rule 14: the user themself, once per sign-in) */
  trustDevice?: { label: string; previousToken?: string };
}

export interface CompletedSignIn {
  actor: Actor;
  /** the trusted device asked for, with its token — returned this once, stored only as a hash */
  device: IssuedDevice | null;
}

function checkProof(p: unknown): ChallengeProof {
  const proof = p as { kind?: unknown; code?: unknown; token?: unknown } | null;
  if (proof === null || typeof proof !== 'object')
    throw usageError('a proof is needed: { kind, code } or { kind: "device", token }', { code: 'invalid_input' });
  if (proof.kind === 'device') {
    if (typeof proof.token !== 'string' || proof.token === '') throw usageError('a device proof needs the token', { code: 'invalid_input' });
    return { kind: 'device', token: proof.token };
  }
  if (proof.kind !== 'code' && proof.kind !== 'recovery-code' && proof.kind !== 'access-code')
    throw usageError('the proof kind is one of code, recovery-code, access-code, device', { code: 'invalid_input' });
  if (typeof proof.code !== 'string') throw usageError('the proof needs the code as a string', { code: 'invalid_input' });
  return { kind: proof.kind, code: proof.code };
}

/**
 * Step two: the second factor for the challenge's user, under the usual lockout, audit and notices.
 * Exactly one completion of a challenge can succeed; a wrong proof leaves it for another try.
 */
export async function completeSignIn(deps: MfaDeps, req: CompleteSignInRequest): Promise<CompletedSignIn> {
  if (req === null || typeof req !== 'object') throw usageError('completeSignIn needs { challenge, proof }', { code: 'invalid_input' });
  if (typeof req.challenge !== 'string') throw usageError('the challenge must be the string beginSignIn returned', { code: 'invalid_input' });
  const proof = checkProof(req.proof);
  let label: string | undefined;
  if (req.trustDevice !== undefined) {
    if (req.trustDevice === null || typeof req.trustDevice !== 'object' || typeof req.trustDevice.label !== 'string')
      throw usageError('trustDevice needs { label }', { code: 'invalid_input' });
    if (proof.kind !== 'code' && proof.kind !== 'recovery-code')
      throw usageError('a device is trusted only after a code or a recovery code', { code: 'invalid_input' });
    label = validateLabel(req.trustDevice.label, req.trustDevice.label);
  }
  const now = deps.clock();
  const row = req.challenge.length > 0 && req.challenge.length <= 200 ? await findChallengeByHash(deps.db, hashToken(req.challenge)) : undefined;
  const claim = newToken(deps.random).slice(0, 32);
  if (!row || !(await withWriteTransaction(deps.db, (trx) => claimChallenge(trx, row.id, claim, now)))) {
    throw await refuseChallenge(deps, row, now);
  }
  let actor: Actor;
  try {
    const user = await findUserById(deps.db, row.user_id);
    // the portal deleted the account since step one: nothing to complete
    if (!user) throw await refuseChallenge(deps, row, now, 'the user no longer exists');
    actor = await prove(deps, row, user, proof, label !== undefined);
  } catch (e) {
    await withWriteTransaction(deps.db, (trx) => releaseChallenge(trx, row.id, claim)).catch(() => undefined);
    throw e;
  }
  await withWriteTransaction(deps.db, (trx) => useClaimedChallenge(trx, row.id, claim, deps.clock()));
  let device: IssuedDevice | null = null;
  if (label !== undefined && req.trustDevice && claimDeviceTrust(deps, actor)) {
    const { deviceTrustAllowed } = await enforcementFor(deps, actor.user.id);
    device = await issueTrustedDevice(deps, actor.user, { label, previousToken: req.trustDevice.previousToken, deviceTrustAllowed });
  }
  return { actor, device };
}

/** The second factor of a held challenge; device trust refused (audited) before anything is used when it is off. */
async function prove(deps: MfaDeps, row: ChallengeRow, user: PortalUser, proof: ChallengeProof, trustDevice: boolean): Promise<Actor> {
  const action = checkSignInAction(row.action);
  const first: FirstStep = {
    user,
    passwordAt: row.password_at,
    vouch: row.vouched_by === null ? undefined : { by: row.vouched_by, passwordCheckedAt: row.password_at },
    action,
  };
  await refuseInactive(deps, user, action, first.vouch ? { ...party(user), vouchedBy: first.vouch.by } : party(user));
  if (trustDevice && !(await enforcementFor(deps, user.id)).deviceTrustAllowed) {
    await refuseTrustOff(deps, user);
  }
  if (proof.kind !== 'device') return secondFactorStep(deps, first, { proof, accessCodeAllowed: true });
  let refused: string | undefined;
  try {
    return await secondFactorStep(deps, first, { deviceToken: proof.token, onDeviceRefused: (reason) => (refused = reason) });
  } catch (e) {
    if (refused === undefined) throw e;
    throw rejected('this trusted-device token does not stand in for a code', {
      code: 'device_not_trusted',
      hint: 'forget the token and ask for a code',
      details: { reason: refused },
    });
  }
}

/** The one refusal of a challenge that cannot be completed, audited (against its user when it has one). */
async function refuseChallenge(deps: MfaDeps, row: ChallengeRow | undefined, now: number, why?: string) {
  const reason =
    why ??
    (row === undefined
      ? 'unknown challenge'
      : row.used_at !== null
        ? 'challenge already used'
        : row.expires_at <= now
          ? 'challenge expired'
          : 'challenge being completed by another request');
  const user = row ? await findUserById(deps.db, row.user_id) : undefined;
  const who = user ? party(user) : null;
  await withWriteTransaction(deps.db, (trx) => recordAudit(trx, deps, { action: CHALLENGE_ACTION, outcome: 'refused', actor: who, target: who, reason }));
  return rejected('this sign-in has expired or was already completed: start again with the password', { code: 'challenge_invalid' });
}
