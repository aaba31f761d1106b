import { flagOrStdin, portal, reauthPassword, resolveActor } from '../actor.js';
import type { ReplaceOptions } from '../commands/replace.js';
import type { CommandContext } from '../context.js';
import { describeDrift } from '../describe.js';
import { confirmInteractively, parseEnrolmentFlags, showPendingEnrolment } from '../enrolFlow.js';

export async function replace(ctx: CommandContext, opts: ReplaceOptions): Promise<void> {
  const { confirmCode, noConfirm, qr } = parseEnrolmentFlags(ctx, opts, {
    message: 'replace needs a terminal to type the new code',
    hint: 'script it: replace --code OLD --no-confirm --json, then replace --confirm NEW',
  });
  const mfa = await portal(ctx);
  if (confirmCode !== undefined) {
    const actor = await resolveActor(ctx, mfa, { action: 'mfa.replace', deferSecondFactor: true });
    const password = await reauthPassword(ctx, mfa, actor);
    const result = await mfa.confirmEnrolment(actor, { code: await flagOrStdin(ctx, confirmCode, 'a code'), password });
    if (ctx.out.json)
      ctx.out.printJson({
        status: 'active',
        email: result.email,
        replaced: result.replaced,
        trustedDevicesRevoked: result.trustedDevicesRevoked,
        sessionsEnded: result.sessionsEnded,
      });
    else
      ctx.out.success(
        `new device active for ${result.email} (${describeDrift(result.driftSteps)}); ${result.trustedDevicesRevoked} trusted device(s) revoked, ${result.sessionsEnded} other session(s) ended`,
      );
    return;
  }
  const actor = await resolveActor(ctx, mfa, { action: 'mfa.replace', accessCodeAllowed: true, precheck: { mfaActive: true } });
  const password = await reauthPassword(ctx, mfa, actor);
  // a session or a trusted device does not prove the old device: its code is asked for now
  const needsOldCode = actor.factor !== 'code' && actor.restriction !== 'access-code';
  const oldDeviceCode = needsOldCode
    ? ctx.globals.code !== undefined
      ? await flagOrStdin(ctx, ctx.globals.code, 'a code')
      : await ctx.prompter.input('Code from your current device:', 'pass --code CODE')
    : undefined;
  const pending = await mfa.startReplacement(actor, { password, oldDeviceCode });
  if (noConfirm) {
    if (ctx.out.json) {
      ctx.out.printJson({ status: 'pending', email: pending.email, otpauthUri: pending.otpauthUri, secret: pending.secret });
      return;
    }
    await showPendingEnrolment(ctx, pending, qr);
    ctx.out.line('The old device keeps working until you confirm: portal-mfa replace --confirm CODE');
    return;
  }
  const result = await confirmInteractively(ctx, mfa, actor, pending, qr);
  if (ctx.out.json)
    ctx.out.printJson({
      status: 'active',
      email: result.email,
      replaced: true,
      trustedDevicesRevoked: result.trustedDevicesRevoked,
      sessionsEnded: result.sessionsEnded,
    });
  else
    ctx.out.line(
      `${result.trustedDevicesRevoked} trusted device(s) revoked and ${result.sessionsEnded} other session(s) ended; log in again to trust this machine.`,
    );
}
