import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import type { CommandContext } from '../context.js';
import { describeDrift } from '../describe.js';
import { commandLine } from '../invocation.js';
import { withExamples } from './examples.js';
import { type OptionsOf, qrOption } from './flags.js';

const define = (program: CommandUnknownOpts) =>
  program
    .command('enroll')
    .alias('enrol')
    .description('enrol yourself: QR code in the terminal, then confirm with a code from the app')
    .option('--confirm <code>', 'activate a pending enrolment with a current code (scriptable form)')
    .option('--no-confirm', 'start the enrolment and leave it pending (use with --json to get the URI)')
    .addOption(qrOption('QR code: utf8 (compact), ansi (full size) or none (default: utf8 on a terminal)'));
type EnrollOptions = OptionsOf<typeof define>;

export function registerEnroll(program: CommandUnknownOpts, act: Act): void {
  withExamples(define(program), [
    'portal-mfa enroll --as devon@example.com                 # QR code, then type a code from the app',
    'portal-mfa enroll --no-confirm --json > pending.json     # scripted: the otpauth URI, left pending',
    'portal-mfa enroll --confirm 123456                       # activate the pending enrolment',
    'portal-mfa enroll --qr none                              # no QR code: type the key by hand',
  ]).action(act(enroll));
}

async function enroll(ctx: CommandContext, opts: EnrollOptions): Promise<void> {
  const { flagOrStdin, portal, reauthPassword, resolveActor } = await import('../actor.js');
  const { confirmInteractively, parseEnrolmentFlags, showPendingEnrolment, showRecoveryCodes } = await import('../enrolFlow.js');
  const { confirmCode, noConfirm, qr } = parseEnrolmentFlags(ctx, opts, {
    message: 'enroll needs a terminal to type the code',
    hint: 'script it: portal-mfa enroll --no-confirm --json, then portal-mfa enroll --confirm - (the code on stdin)',
  });
  const mfa = await portal(ctx);
  // there is no second factor yet: the password (and a session, or --as) is what enrolment asks
  const actor = await resolveActor(ctx, mfa, { action: 'mfa.enroll', deferSecondFactor: true });
  const password = await reauthPassword(ctx, mfa, actor, 'mfa.enroll');
  const email = actor.user.email;

  if (confirmCode !== undefined) {
    const result = await mfa.confirmEnrolment(actor, { code: await flagOrStdin(ctx, confirmCode, 'a code', 'Code from the app:'), password });
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
    ctx.out.line(`Enrolment is pending. Activate it with: ${commandLine(ctx, 'enroll --confirm -')} (it asks for the code)`);
    return;
  }
  const result = await confirmInteractively(ctx, mfa, actor, pending, qr);
  if (ctx.out.json) ctx.out.printJson({ status: 'active', email, driftSteps: result.driftSteps, recoveryCodes: result.recoveryCodes });
}
