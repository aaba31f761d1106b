import { countUnusedRecoveryCodes } from '../../db/recoveryCodeRepository.js';
import { countActiveTrustedDevices } from '../../db/trustedDeviceRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import { reauthenticate, type Actor } from '../rules/actor.js';
import type { Authorisation } from '../rules/authorise.js';
import { type ChangeOnUserRequest, startChangeOnUser } from './changeOnUser.js';
import type { MfaDeps } from '../deps.js';
import { wrongState } from '../errors.js';
import { removeMfa } from '../rules/removal.js';
import type { Removal } from '../domain.js';
import { requireMfaToRemove } from '../rules/targetState.js';

export interface DisableRequest extends ChangeOnUserRequest {
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
  const auth = await startChangeOnUser(deps, actor, req, { permission: 'disable', action: 'mfa.disable' });
  const { target, ticket, reason } = auth;
  const { active } = await requireMfaToRemove(deps, target);
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
