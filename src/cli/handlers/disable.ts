import { authorise } from '../../core/authorise.js';
import { disableMfa, validateReason, validateTicket } from '../../core/disable.js';
import { mfaStatus } from '../../core/status.js';
import { usageError, wrongState } from '../../core/errors.js';
import { party } from '../../core/verification.js';
import { dbKey, mfaDeps, resolveActor } from '../actor.js';
import { confirmOrCancel } from '../confirm.js';
import type { CommandContext } from '../context.js';
import { LocalStore } from '../localStore.js';
import { findTargetUser, organisationPicker } from '../targets.js';

interface DisableOptions {
  user?: string;
  org?: string;
  ticket?: string;
  reason?: string;
}


export async function disable(ctx: CommandContext, opts: DisableOptions): Promise<void> {
  const ticket = validateTicket(opts.ticket);
  const reason = validateReason(opts.reason);
  const deps = await mfaDeps(ctx);
  const actor = await resolveActor(ctx, deps, { action: 'mfa.disable', sensitive: true });
  const target = opts.user !== undefined ? await findTargetUser(deps, opts.user) : actor.user;
  const auth = await authorise(deps, actor.user, target, 'mfa.disable', { orgSlug: opts.org, pickOrganisation: organisationPicker(ctx) });
  if (auth.via === 'support' && ticket === null) {
    throw usageError('a support reset needs a ticket reference', { hint: 'pass --ticket SUP-1234' });
  }
  // what will be removed, for the confirmation
  const preview = await mfaStatus(deps, target);
  if (preview.state === 'none') throw wrongState(`MFA is not enabled for ${target.email}`, { hint: 'nothing to disable' });
  const whose = target.id === actor.user.id ? 'your' : `${target.email}'s`;
  // what will go, shown before the question only: scripted runs (--yes, or refused without a terminal) keep stderr to one line
  if (!ctx.globals.yes && ctx.io.canPrompt) {
    ctx.io.stderr.write(
      `This removes ${whose} authenticator secret${preview.state === 'pending' ? ' (pending enrolment)' : ''}, ` +
        `${preview.recoveryCodesLeft} recovery code(s), ${preview.trustedDevices} trusted device(s) and all CLI sessions.\n`,
    );
  }
  await confirmOrCancel(ctx, `Disable MFA for ${target.email}?`);
  const action = auth.via === 'support' ? 'mfa.reset' : auth.via === 'org-admin' ? 'org.disable-mfa' : 'mfa.disable';
  const removed = await disableMfa(deps, target, { actor: party(actor.user), action, organisation: auth.organisation, ticket, reason });
  if (target.id === actor.user.id) {
    const store = new LocalStore(ctx.env);
    store.clearDevice(dbKey(ctx), target.email);
  }
  if (ctx.out.json) {
    ctx.out.printJson({ email: target.email, disabled: true, via: auth.via, organisation: auth.organisation?.slug ?? null, ticket, removed });
    return;
  }
  ctx.out.success(`MFA disabled for ${target.email}${ticket ? ` (ticket ${ticket})` : ''}`);
  if (target.id !== actor.user.id) ctx.out.line(`${target.email} can now log in with their password only and enrol again.`);
}
