import { admit, enforcementFor, secondFactorProven, type Actor } from '../rules/actor.js';
import { party } from '../primitives/audit.js';
import { authorise, parseTargetEmail, type OrganisationPicker } from '../rules/authorise.js';
import type { MfaDeps } from '../deps.js';
import { refuseTrustForOther, refuseTrustOff } from './devices.js';
import { isOwnEmail } from '../rules/identity.js';
import { usageError } from '../errors.js';
import { proveSecondFactor, type SecondFactorProof } from '../rules/secondFactor.js';
import { issueTrustedDevice, validateLabel, type IssuedDevice } from '../rules/trustedDevices.js';
import { diagnoseCode, parseCode, type DiagnoseResult } from '../rules/verification.js';

export interface VerifyRequest {
  targetEmail?: string;
  orgSlug?: string;
  proof: Extract<SecondFactorProof, { kind: 'code' | 'recovery-code' }>;
  /** self only (rule 14): after a valid code, trust this machine */
  trustDevice?: { label: string; previousToken?: string };
  pickOrganisation?: OrganisationPicker;
}

export interface VerifyOutcome {
  email: string;
  driftSteps: number | null;
  recoveryCodesLeft: number | null;
  device: IssuedDevice | null;
}

const isSelf = (actor: Actor, targetEmail: string | undefined) => targetEmail === undefined || isOwnEmail(actor.user, parseTargetEmail(targetEmail));

/**
 * `verify`: check a code (or use a recovery code) as the login's second step. When the actor is
 * the target, the code is also their second factor. Permission is checked before any code is
 * consumed; a device is only ever trusted for the user themself.
 */
export async function verifyCode(deps: MfaDeps, actor: Actor, req: VerifyRequest): Promise<VerifyOutcome> {
  // an access code signs in (login, enrol, replace); here it would be spent for nothing
  if (req?.proof?.kind !== 'code' && req?.proof?.kind !== 'recovery-code')
    throw usageError('verify takes a code or a recovery code', { code: 'invalid_input', hint: 'proof: { kind: "code" | "recovery-code", code }' });
  const self = isSelf(actor, req.targetEmail);
  await admit(deps, actor, self ? 'verify-self' : 'other');
  if (req.trustDevice && !self) await refuseTrustForOther(deps, actor, parseTargetEmail(req.targetEmail!));
  const label = req.trustDevice ? validateLabel(req.trustDevice.label, req.trustDevice.label) : undefined;
  if (req.trustDevice && !(await enforcementFor(deps, actor.user.id)).deviceTrustAllowed) await refuseTrustOff(deps, actor.user);
  const auth = await authorise(deps, actor, {
    targetEmail: req.targetEmail,
    permission: 'verify',
    action: 'mfa.verify',
    orgSlug: req.orgSlug,
    pickOrganisation: req.pickOrganisation,
  });
  const proven = await proveSecondFactor(deps, auth.target, req.proof, { actor: actor.user, action: 'mfa.verify', organisation: auth.organisation });
  // the actor's own code: a deferred actor is now signed in with it (issue 22)
  if (self) secondFactorProven(deps, actor, proven);
  let device: IssuedDevice | null = null;
  if (req.trustDevice && label !== undefined) {
    const { deviceTrustAllowed } = await enforcementFor(deps, actor.user.id);
    device = await issueTrustedDevice(deps, actor.user, { label, previousToken: req.trustDevice.previousToken, deviceTrustAllowed });
  }
  return { email: auth.target.email, driftSteps: proven.driftSteps ?? null, recoveryCodesLeft: proven.recoveryCodesLeft ?? null, device };
}

/** `verify --diagnose`: the device clock's offset, under rule 12 (see diagnoseCode). */
export async function diagnoseClock(
  deps: MfaDeps,
  actor: Actor,
  req: { targetEmail?: string; orgSlug?: string; code: string; pickOrganisation?: OrganisationPicker },
): Promise<DiagnoseResult & { email: string }> {
  const self = isSelf(actor, req.targetEmail);
  await admit(deps, actor, self ? 'verify-self' : 'other');
  const auth = await authorise(deps, actor, {
    targetEmail: req.targetEmail,
    permission: 'verify',
    action: 'mfa.diagnose',
    orgSlug: req.orgSlug,
    pickOrganisation: req.pickOrganisation,
  });
  const result = await diagnoseCode(deps, auth.target, parseCode(req.code), {
    actor: party(actor.user),
    action: 'mfa.diagnose',
    organisation: auth.organisation,
  });
  return { email: auth.target.email, ...result };
}
