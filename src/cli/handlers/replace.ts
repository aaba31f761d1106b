import { confirmEnrolment, startEnrolment } from '../../core/enrolment.js';
import { usageError } from '../../core/errors.js';
import { describeDrift, parseCode, party, verifyActiveCode } from '../../core/verification.js';
import { codeFromFlag, mfaDeps, resolveActor } from '../actor.js';
import type { CommandContext } from '../context.js';
import { interactiveEnrolment, showPendingEnrolment } from '../enrolFlow.js';
import { parseQrMode } from '../qr.js';

interface ReplaceOptions {
  confirm?: string | false;
  qr?: string;
}


export async function replace(ctx: CommandContext, opts: ReplaceOptions): Promise<void> {
  const confirmCode = typeof opts.confirm === 'string' ? parseCode(opts.confirm) : undefined;
  const noConfirm = opts.confirm === false;
  const qr = parseQrMode(opts.qr, ctx.io.stdoutIsTTY);
  if (confirmCode === undefined && !noConfirm && !ctx.io.canPrompt) {
    throw usageError('replace needs a terminal to type the new code', { hint: 'script it: replace --code OLD --no-confirm --json, then replace --confirm NEW' });
  }
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
    const code = ctx.globals.code !== undefined
      ? await codeFromFlag(ctx, ctx.globals.code)
      : parseCode(await ctx.prompter.input('Code from your current device:', 'pass --code CODE'));
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
