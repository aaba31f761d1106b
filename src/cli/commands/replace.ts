import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { PortalMfa } from '../../core/api.js';
import type { Actor } from '../../core/rules/actor.js';
import type { PendingEnrolment } from '../../core/usecases/enrolment.js';
import type { Act } from '../act.js';
import type { CommandContext } from '../context.js';
import { describeDrift } from '../describe.js';
import { commandLine } from '../invocation.js';
import { withExamples } from './examples.js';
import { type OptionsOf, qrOption } from './flags.js';

const define = (program: CommandUnknownOpts) =>
  program
    .command('replace')
    .description('move MFA to a new device: prove the old one with a code, then enrol the new one (the old stays valid until then)')
    .option('--confirm <code>', 'activate the pending new device with a code from it (scriptable form)')
    .option('--no-confirm', 'prove the old device and start the new enrolment, leaving it pending (use with --json)')
    .addOption(qrOption('QR code: utf8 (compact), ansi (full size) or none'))
    .addHelpText('after', "\nThe old device's code comes from --code CODE (or a prompt); with --as it is also your second factor.");
type ReplaceOptions = OptionsOf<typeof define>;

export function registerReplace(program: CommandUnknownOpts, act: Act): void {
  withExamples(define(program), [
    'portal-mfa replace                                       # code from the old device, then enrol the new one',
    'portal-mfa replace --code 123456 --no-confirm --json     # scripted: prove the old device, URI of the new',
    'portal-mfa replace --confirm 654321                      # activate the new device',
  ]).action(act(replace));
}

/**
 * Prove the old device and start the new enrolment. A session or a trusted device does not prove the
 * old device: its code is asked for now — or a recovery code, when the phone is lost (typed at the
 * prompt, or --recovery-code). What is typed at the prompt is asked again when wrong, as at login.
 */
async function startWithOldDevice(ctx: CommandContext, mfa: PortalMfa, actor: Actor, password: string | undefined): Promise<PendingEnrolment> {
  const { askAgain, flagOrStdin } = await import('../actor.js');
  const { pasteable } = await import('../invocation.js');
  const proven = actor.factor === 'code' || actor.factor === 'recovery-code' || actor.restriction === 'access-code';
  if (proven) return mfa.startReplacement(actor, { password });
  const { code, recoveryCode } = ctx.globals;
  if (code !== undefined || recoveryCode !== undefined) {
    const given =
      code !== undefined
        ? await flagOrStdin(ctx, code, 'a code', 'Code from your current device:')
        : await flagOrStdin(ctx, recoveryCode!, 'a recovery code', 'Recovery code:');
    return mfa.startReplacement(actor, { password, oldDeviceCode: given });
  }
  for (let attempt = 1; ; attempt++) {
    const typed = await ctx.prompter.input('Code from your current device (or a recovery code):', 'pass --code CODE, or --recovery-code CODE');
    try {
      return await mfa.startReplacement(actor, { password, oldDeviceCode: typed });
    } catch (e) {
      if (!askAgain(ctx, e, attempt, ['wrong_code', 'replayed_code', 'wrong_recovery_code', 'invalid_input'])) throw e;
      // a code refused: maybe not the old phone's at all (it is lost): say what stands in for it
      ctx.out.errorLine(e.message, pasteable(ctx, e.code === 'wrong_code' ? LOST_DEVICE : (e.hint ?? LOST_DEVICE)));
    }
  }
}

/** Said after a wrong code from the old device: where the old device is needed, what stands in for it. */
const LOST_DEVICE = 'lost the phone? type a recovery code here, or ask support for a temporary access code; then type that at portal-mfa login';

async function replace(ctx: CommandContext, opts: ReplaceOptions): Promise<void> {
  const { flagOrStdin, portal, reauthPassword, resolveActor } = await import('../actor.js');
  const { confirmInteractively, parseEnrolmentFlags, showPendingEnrolment } = await import('../enrolFlow.js');
  const { confirmCode, noConfirm, qr } = parseEnrolmentFlags(ctx, opts, {
    message: 'replace needs a terminal to type the new code',
    hint: 'script it: portal-mfa replace --code - --no-confirm --json, then portal-mfa replace --confirm - (each code on stdin)',
  });
  const mfa = await portal(ctx);
  if (confirmCode !== undefined) {
    const actor = await resolveActor(ctx, mfa, { action: 'mfa.replace', deferSecondFactor: true });
    const password = await reauthPassword(ctx, mfa, actor, 'mfa.replace');
    const result = await mfa.confirmEnrolment(actor, { code: await flagOrStdin(ctx, confirmCode, 'a code', 'Code from the new device:'), password });
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
  const password = await reauthPassword(ctx, mfa, actor, 'mfa.replace');
  const pending = await startWithOldDevice(ctx, mfa, actor, password);
  // a recovery code stood in for the old device (at sign-in or at the prompt)
  const left = pending.recoveryCodesLeft ?? (actor.proven?.kind === 'recovery-code' ? actor.proven.recoveryCodesLeft : undefined);
  if (left !== undefined)
    ctx.out.warn(`recovery code used; ${left} left — once the new device is active, make new ones with: ${commandLine(ctx, 'recovery-codes regenerate')}`);
  if (noConfirm) {
    if (ctx.out.json) {
      ctx.out.printJson({ status: 'pending', email: pending.email, otpauthUri: pending.otpauthUri, secret: pending.secret });
      return;
    }
    await showPendingEnrolment(ctx, pending, qr);
    ctx.out.line(`The old device keeps working until you confirm: ${commandLine(ctx, 'replace --confirm -')} (it asks for the code)`);
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
