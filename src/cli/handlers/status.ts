import { authorise } from '../../core/authorise.js';
import { mfaStatus } from '../../core/status.js';
import { mfaDeps, resolveActor } from '../actor.js';
import type { CommandContext } from '../context.js';
import { humanTime, isoOrNull, painted, type Cell } from '../render.js';
import { findTargetUser, organisationPicker } from '../targets.js';


export async function status(ctx: CommandContext, opts: { user?: string; org?: string }): Promise<void> {
  const deps = await mfaDeps(ctx);
  const actor = await resolveActor(ctx, deps, { action: 'mfa.status' });
  const target = opts.user !== undefined ? await findTargetUser(deps, opts.user) : actor.user;
  await authorise(deps, actor.user, target, 'mfa.status', { orgSlug: opts.org, pickOrganisation: organisationPicker(ctx) });
  const s = await mfaStatus(deps, target);
  if (ctx.out.json) {
    ctx.out.printJson({
      email: s.email,
      name: s.name,
      state: s.state,
      enrolledAt: isoOrNull(s.enrolledAt),
      confirmedAt: isoOrNull(s.confirmedAt),
      lastUsedAt: isoOrNull(s.lastUsedAt),
      pendingSince: isoOrNull(s.pendingSince),
      consecutiveFailures: s.consecutiveFailures,
      locked: s.lockedUntil !== null,
      lockedUntil: isoOrNull(s.lockedUntil),
      trustedDevices: s.trustedDevices,
      recoveryCodesLeft: s.recoveryCodesLeft,
    });
    return;
  }
  const state = painted(s.state, s.state === 'active' ? 'green' : s.state === 'pending' ? 'yellow' : 'red');
  ctx.out.fields([
    ['user', `${s.email}${s.name ? ` (${s.name})` : ''}`],
    ['mfa', state],
    ['enrolled', humanTime(s.enrolledAt)],
    ['confirmed', humanTime(s.confirmedAt)],
    ['last used', humanTime(s.lastUsedAt)],
    ...(s.pendingSince !== null ? ([['pending since', humanTime(s.pendingSince)]] as [string, Cell][]) : []),
    ['failures', String(s.consecutiveFailures)],
    ['locked', s.lockedUntil !== null ? painted(`until ${humanTime(s.lockedUntil)}`, 'red') : 'no'],
    ['trusted devices', String(s.trustedDevices)],
    ['recovery codes', `${s.recoveryCodesLeft} left`],
  ]);
}
