import { confirmEnrolment, startEnrolment } from '../../core/enrolment.js';
import { describeDrift, party } from '../../core/verification.js';
import { mfaDeps, resolveActor } from '../actor.js';
import type { CommandContext } from '../context.js';
import { interactiveEnrolment, parseEnrolmentFlags, showPendingEnrolment, showRecoveryCodes, type EnrolmentFlags } from '../enrolFlow.js';



export async function enroll(ctx: CommandContext, opts: EnrolmentFlags): Promise<void> {
  const { confirmCode, noConfirm, qr } = parseEnrolmentFlags(ctx, opts, {
    message: 'enroll needs a terminal to type the code',
    hint: 'script it: enroll --no-confirm --json, then enroll --confirm CODE',
  });
  const deps = await mfaDeps(ctx);
  const actor = await resolveActor(ctx, deps, { action: 'mfa.enroll', sensitive: true, passwordOnly: true });
  const user = actor.user;

  if (confirmCode !== undefined) {
    const result = await confirmEnrolment(deps, user, confirmCode, { actor: party(user) });
    const recoveryCodes = result.recoveryCodes;
    if (ctx.out.json) {
      ctx.out.printJson({ status: 'active', email: user.email, driftSteps: result.driftSteps, ...(recoveryCodes.length ? { recoveryCodes } : {}) });
      return;
    }
    ctx.out.success(`MFA is active for ${user.email} (${describeDrift(result.driftSteps)})`);
    if (recoveryCodes.length) showRecoveryCodes(ctx, recoveryCodes);
    return;
  }
  if (noConfirm) {
    const pending = await startEnrolment(deps, user, { actor: party(user) });
    if (ctx.out.json) {
      ctx.out.printJson({ status: 'pending', email: user.email, otpauthUri: pending.otpauthUri, secret: pending.secret });
      return;
    }
    await showPendingEnrolment(ctx, pending, qr);
    ctx.out.line(`otpauth URI: ${pending.otpauthUri}`);
    ctx.out.line(`Enrolment is pending. Activate it with: portal-mfa enroll --confirm CODE`);
    return;
  }
  const result = await interactiveEnrolment(ctx, deps, user, { actor: user, qr });
  if (ctx.out.json) ctx.out.printJson({ status: 'active', email: user.email, driftSteps: result.driftSteps, recoveryCodes: result.recoveryCodes });
}
