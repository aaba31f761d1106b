import { flagOrStdin, portal, reauthPassword, resolveActor } from '../actor.js';
import type { EnrollOptions } from '../commands/enroll.js';
import type { CommandContext } from '../context.js';
import { describeDrift } from '../describe.js';
import { confirmInteractively, parseEnrolmentFlags, showPendingEnrolment, showRecoveryCodes } from '../enrolFlow.js';

export async function enroll(ctx: CommandContext, opts: EnrollOptions): Promise<void> {
  const { confirmCode, noConfirm, qr } = parseEnrolmentFlags(ctx, opts, {
    message: 'enroll needs a terminal to type the code',
    hint: 'script it: enroll --no-confirm --json, then enroll --confirm CODE',
  });
  const mfa = await portal(ctx);
  // there is no second factor yet: the password (and a session, or --as) is what enrolment asks
  const actor = await resolveActor(ctx, mfa, { action: 'mfa.enroll', deferSecondFactor: true });
  const password = await reauthPassword(ctx, mfa, actor);
  const email = actor.user.email;

  if (confirmCode !== undefined) {
    const result = await mfa.confirmEnrolment(actor, { code: await flagOrStdin(ctx, confirmCode, 'a code'), password });
    const recoveryCodes = result.recoveryCodes;
    if (ctx.out.json) {
      ctx.out.printJson({ status: 'active', email, driftSteps: result.driftSteps, ...(recoveryCodes.length ? { recoveryCodes } : {}) });
      return;
    }
    ctx.out.success(`${result.replaced ? 'new device active' : 'MFA is active'} for ${email} (${describeDrift(result.driftSteps)})`);
    if (recoveryCodes.length) showRecoveryCodes(ctx, recoveryCodes);
    return;
  }
  const pending = await mfa.startEnrolment(actor, { password });
  if (noConfirm) {
    if (ctx.out.json) {
      ctx.out.printJson({ status: 'pending', email, otpauthUri: pending.otpauthUri, secret: pending.secret });
      return;
    }
    await showPendingEnrolment(ctx, pending, qr);
    ctx.out.line(`otpauth URI: ${pending.otpauthUri}`);
    ctx.out.line('Enrolment is pending. Activate it with: portal-mfa enroll --confirm CODE');
    return;
  }
  const result = await confirmInteractively(ctx, mfa, actor, pending, qr);
  if (ctx.out.json) ctx.out.printJson({ status: 'active', email, driftSteps: result.driftSteps, recoveryCodes: result.recoveryCodes });
}
