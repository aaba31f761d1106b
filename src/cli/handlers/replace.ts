import { confirmEnrolment, startEnrolment } from '../../core/enrolment.js';
import { describeDrift, party, verifyActiveCode } from '../../core/verification.js';
import { mfaDeps, readCode, resolveActor } from '../actor.js';
import type { CommandContext } from '../context.js';
import { interactiveEnrolment, parseEnrolmentFlags, showPendingEnrolment, type EnrolmentFlags } from '../enrolFlow.js';



export async function replace(ctx: CommandContext, opts: EnrolmentFlags): Promise<void> {
  const { confirmCode, noConfirm, qr } = parseEnrolmentFlags(ctx, opts, {
    message: 'replace needs a terminal to type the new code',
    hint: 'script it: replace --code OLD --no-confirm --json, then replace --confirm NEW',
  });
  const deps = await mfaDeps(ctx);
  if (confirmCode !== undefined) {
    const actor = await resolveActor(ctx, deps, { action: 'mfa.replace', sensitive: true, passwordOnly: true });
    const result = await confirmEnrolment(deps, actor.user, confirmCode, { actor: party(actor.user) });
    if (ctx.out.json) ctx.out.printJson({ status: 'active', email: actor.user.email, replaced: result.replaced, trustedDevicesRevoked: result.trustedDevicesRevoked });
    else ctx.out.success(`new device active for ${actor.user.email} (${describeDrift(result.driftSteps)}); ${result.trustedDevicesRevoked} trusted device(s) revoked`);
    return;
  }
  const actor = await resolveActor(ctx, deps, { action: 'mfa.replace', sensitive: true });
  if (actor.secondFactor !== 'code') {
    // a session or a trusted device does not prove the old device: ask for its code now
    const code = await readCode(ctx, 'Code from your current device:', 'pass --code CODE');
    await verifyActiveCode(deps, actor.user, code, { actor: party(actor.user), action: 'mfa.replace.prove' });
  }
  if (noConfirm) {
    const pending = await startEnrolment(deps, actor.user, { actor: party(actor.user), replacing: true });
    if (ctx.out.json) {
      ctx.out.printJson({ status: 'pending', email: actor.user.email, otpauthUri: pending.otpauthUri, secret: pending.secret });
      return;
    }
    await showPendingEnrolment(ctx, pending, qr);
    ctx.out.line('The old device keeps working until you confirm: portal-mfa replace --confirm CODE');
    return;
  }
  const result = await interactiveEnrolment(ctx, deps, actor.user, { actor: actor.user, replacing: true, qr });
  if (ctx.out.json) ctx.out.printJson({ status: 'active', email: actor.user.email, replaced: true, trustedDevicesRevoked: result.trustedDevicesRevoked });
  else ctx.out.line(`${result.trustedDevicesRevoked} trusted device(s) revoked; log in again to trust this machine.`);
}
