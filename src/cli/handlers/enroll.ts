import { confirmEnrolment, startEnrolment } from '../../core/enrolment.js';
import { usageError } from '../../core/errors.js';
import { describeDrift, parseCode, party } from '../../core/verification.js';
import { mfaDeps, resolveActor } from '../actor.js';
import type { CommandContext } from '../context.js';
import { interactiveEnrolment, showPendingEnrolment, showRecoveryCodes } from '../enrolFlow.js';
import { parseQrMode } from '../qr.js';

interface EnrollOptions {
  /** string: --confirm CODE; false: --no-confirm */
  confirm?: string | false;
  qr?: string;
}


export async function enroll(ctx: CommandContext, opts: EnrollOptions): Promise<void> {
  // validate everything before touching the database
  const confirmCode = typeof opts.confirm === 'string' ? parseCode(opts.confirm) : undefined;
  const noConfirm = opts.confirm === false;
  const qr = parseQrMode(opts.qr, ctx.io.stdoutIsTTY);
  if (confirmCode === undefined && !noConfirm && !ctx.io.canPrompt) {
    throw usageError('enroll needs a terminal to type the code', {
      hint: 'script it: enroll --no-confirm --json, then enroll --confirm CODE',
    });
  }
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
