import type { Role } from '../domain.js';
import { scopeOf } from '../requestScope.js';
import { countUnusedRecoveryCodes } from '../../db/recoveryCodeRepository.js';
import { countActiveTrustedDevices } from '../../db/trustedDeviceRepository.js';
import { accessCodeStatus, type AccessCodeStatus } from './accessCodes.js';
import { admit, enforcementFor, type Actor } from '../rules/actor.js';
import { authorise, parseTargetEmail, type OrganisationPicker } from '../rules/authorise.js';
import type { MfaDeps } from '../deps.js';
import { isOwnEmail } from '../rules/identity.js';
import { lockState } from '../rules/lockout.js';

export interface MfaStatus {
  email: string;
  name: string;
  role: Role;
  state: 'none' | 'pending' | 'active';
  enrolledAt: number | null;
  confirmedAt: number | null;
  lastUsedAt: number | null;
  /** a replacement device (or first enrolment) waiting for its code */
  pendingSince: number | null;
  /** failures since the last success, across lockouts (rule 11) */
  consecutiveFailures: number;
  lockedUntil: number | null;
  hardLocked: boolean;
  trustedDevices: number;
  recoveryCodesLeft: number;
  accessCode: AccessCodeStatus;
  /** organisations requiring MFA with the member's enrolment deadline (null: now) */
  enrolmentDeadlines: { organisation: string; deadline: number | null }[];
}

/** A user's MFA state as `status` shows it; no secrets. */
export async function getStatus(
  deps: MfaDeps,
  actor: Actor,
  req: { targetEmail?: string; orgSlug?: string; pickOrganisation?: OrganisationPicker } = {},
): Promise<MfaStatus> {
  const self = req.targetEmail === undefined || isOwnEmail(actor.user, parseTargetEmail(req.targetEmail));
  await admit(deps, actor, self ? 'status-self' : 'other');
  // read-only: an ambiguous organisation does not matter, so the first is recorded
  const pick = req.pickOrganisation ?? (async (choices: { slug: string }[]) => choices[0]!.slug);
  const { target: user } = await authorise(deps, actor, {
    targetEmail: req.targetEmail,
    permission: 'view',
    action: 'mfa.status',
    orgSlug: req.orgSlug,
    pickOrganisation: pick,
  });
  const { active, pending } = await scopeOf(deps).credentials(user.id);
  const now = deps.clock();
  const governing = active ?? pending;
  const lock = lockState(governing, now);
  const enforcement = await enforcementFor(deps, user.id);
  return {
    email: user.email,
    name: user.name,
    role: user.role,
    state: active ? 'active' : pending ? 'pending' : 'none',
    enrolledAt: active?.created_at ?? null,
    confirmedAt: active?.confirmed_at ?? null,
    lastUsedAt: active?.last_used_at ?? null,
    pendingSince: pending?.created_at ?? null,
    consecutiveFailures: governing?.consecutive_failures ?? 0,
    lockedUntil: lock?.until ?? null,
    hardLocked: lock?.hard ?? false,
    trustedDevices: await countActiveTrustedDevices(deps.db, user.id, now),
    recoveryCodesLeft: await countUnusedRecoveryCodes(deps.db, user.id),
    accessCode: await accessCodeStatus(deps, user),
    enrolmentDeadlines: active
      ? []
      : [
          ...enforcement.requiredBy.map((m) => ({ organisation: m.slug, deadline: null })),
          ...enforcement.inGrace.map((g) => ({ organisation: g.membership.slug, deadline: g.until })),
        ],
  };
}
