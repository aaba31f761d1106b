import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import type { CommandContext } from '../context.js';
import { describeDrift } from '../describe.js';
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

async function replace(ctx: CommandContext, opts: ReplaceOptions): Promise<void> {
  const { flagOrStdin, portal, reauthPassword, resolveActor } = await import('../actor.js');
  const { confirmInteractively, parseEnrolmentFlags, showPendingEnrolment } = await import('../enrolFlow.js');
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
