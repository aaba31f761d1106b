import { hostname } from 'node:os';
import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import { rejected, usageError } from '../../core/errors.js';
import type { Act } from '../act.js';
import type { CommandContext } from '../context.js';
import { describeDrift } from '../describe.js';
import { LocalStore } from '../localStore.js';
import { humanTime, isoOrNull } from '../render.js';
import { organisationPicker } from '../targets.js';
import { withExamples } from './examples.js';
import { type OptionsOf, orgOption } from './flags.js';

const define = (program: CommandUnknownOpts) =>
  program
    .command('verify')
    .description("check a code as the login's second step (exit 0 valid, 1 wrong or replayed, 4 locked); reports clock drift")
    .option('--user <email>', 'whose code (default: the actor)')
    .addOption(orgOption('the organisation you act in, for an admin of several'))
    .addOption(new Option('--diagnose', "measure the device clock's offset (±10 min) without using up the code").conflicts('trustDevice'))
    .option('--trust-device', 'after a valid code, trust this device for 30 days (prints its token once)')
    .option('--label <label>', 'a name for the trusted device')
    .addHelpText('after', '\nThe code comes from --code CODE, --code - (stdin), or a prompt on a terminal.');
type VerifyOptions = OptionsOf<typeof define>;

export function registerVerify(program: CommandUnknownOpts, act: Act): void {
  withExamples(define(program), [
    'portal-mfa verify --code 123456                          # your own code (exit 0 valid, 1 wrong)',
    'portal-mfa verify --user devon@example.com --code -      # support: the code read from stdin',
    "portal-mfa verify --user devon@example.com --diagnose    # is the phone's clock off?",
    'portal-mfa verify --trust-device --label laptop          # skip the code on this device for 30 days',
  ]).action(act(verify));
}

async function verify(ctx: CommandContext, opts: VerifyOptions): Promise<void> {
  const { parseTargetEmail } = await import('../../core/rules/authorise.js');
  const { normaliseRecoveryCode } = await import('../../core/usecases/recoveryCodes.js');
  const { validateLabel } = await import('../../core/rules/trustedDevices.js');
  const { dbKey, flagOrStdin, portal, resolveActor } = await import('../actor.js');
  const { code: codeFlag, recoveryCode: recoveryFlag } = ctx.globals;
  if (opts.label !== undefined && !opts.trustDevice) throw usageError('--label goes with --trust-device');
  const label = opts.trustDevice ? validateLabel(opts.label, `${hostname()} (verify)`) : undefined;
  // (parsed here, not only by the core: whether --code is the actor's second factor or the target's code depends on it)
  const targetEmail = opts.user !== undefined ? parseTargetEmail(opts.user) : undefined;
  if (recoveryFlag !== undefined && (codeFlag !== undefined || opts.diagnose))
    throw usageError('--recovery-code replaces --code and cannot be used with --diagnose');
  // checked early still: this is the only caller of the core's exported normaliseRecoveryCode (to go with the core rebuild, issue 21 item 5)
  if (recoveryFlag !== undefined && recoveryFlag !== '-') normaliseRecoveryCode(recoveryFlag);
  if (codeFlag === undefined && recoveryFlag === undefined && !ctx.io.canPrompt)
    throw usageError('a code is needed but stdin is not a terminal', { hint: 'pass --code CODE or --code - to read it from stdin' });
  // a malformed code is the core's usage error (exit 2), as in every other command

  const mfa = await portal(ctx);
  const asEmail = ctx.globals.as !== undefined ? parseTargetEmail(ctx.globals.as) : undefined;
  const selfByFlags = targetEmail === undefined || targetEmail === asEmail;
  // on yourself the code is also your second factor; on someone else it is theirs, never yours
  const actor = await resolveActor(ctx, mfa, {
    action: 'mfa.verify',
    deferSecondFactor: selfByFlags,
    flagsBelongToTarget: !selfByFlags,
    // on someone else: the actor's own code (device or prompt) is not spent on a target they may not verify
    precheck: selfByFlags
      ? undefined
      : {
          target: {
            targetEmail,
            orgSlug: opts.org,
            permission: 'verify',
            action: opts.diagnose ? 'mfa.diagnose' : 'mfa.verify',
            canPick: ctx.io.canPrompt,
            // a user without MFA has no code to check: said before the actor's own code is used
            needs: 'active',
          },
        },
  });
  const picker = organisationPicker(ctx);
  const common = { targetEmail, orgSlug: opts.org, pickOrganisation: picker };
  const readCode = async () =>
    codeFlag !== undefined
      ? flagOrStdin(ctx, codeFlag, 'a code', `Code for ${targetEmail ?? actor.user.email}:`)
      : ctx.prompter.input(`Code for ${targetEmail ?? actor.user.email}:`, 'pass --code CODE');

  if (opts.diagnose) {
    const d = await mfa.diagnoseClock(actor, { ...common, code: await readCode() });
    if (ctx.out.json)
      ctx.out.printJson({
        email: d.email,
        diagnose: true,
        matched: d.matched,
        driftSteps: d.driftSteps,
        offsetSeconds: d.offsetSeconds,
        withinWindow: d.withinWindow,
        searchedMinutes: d.searchedMinutes,
      });
    else if (d.matched) {
      ctx.out.line(
        `${describeDrift(d.driftSteps!)}; ${d.withinWindow ? 'within' : ctx.out.style.red('outside')} the accepted window of ±${ctx.settings.window} step(s)`,
      );
      ctx.out.line('This code and any earlier one can no longer be used; wait for the next code to log in.');
      if (!d.withinWindow) ctx.out.line("Fix: set the phone's date & time to update automatically, then try again.");
    } else {
      ctx.out.line(`no match within ±${d.searchedMinutes} minutes: the app holds another secret, or the clock is off by more`);
    }
    if (!d.matched)
      throw rejected(`the code matches no time within ±${d.searchedMinutes} minutes`, {
        code: 'no_match',
        hint: 'check that the app entry is for this account',
      });
    return;
  }

  const proof =
    recoveryFlag !== undefined
      ? { kind: 'recovery-code' as const, code: await flagOrStdin(ctx, recoveryFlag, 'a recovery code', 'Recovery code:') }
      : { kind: 'code' as const, code: await readCode() };
  const store = new LocalStore(ctx.env);
  const result = await mfa.verifyCode(actor, {
    ...common,
    proof,
    trustDevice: label !== undefined ? { label, previousToken: store.getDevice(dbKey(ctx), actor.user.email)?.token } : undefined,
  });
  const device = result.device;
  if (device) store.setDevice(dbKey(ctx), actor.user.email, { token: device.token, deviceId: device.id, expiresAt: isoOrNull(device.expiresAt)! });
  if (ctx.out.json) {
    ctx.out.printJson({
      valid: true,
      email: result.email,
      ...(result.driftSteps !== null ? { driftSteps: result.driftSteps } : {}),
      ...(result.recoveryCodesLeft !== null ? { recoveryCode: true, recoveryCodesLeft: result.recoveryCodesLeft } : {}),
      ...(device ? { trustedDevice: { id: device.id, token: device.token, expiresAt: isoOrNull(device.expiresAt) } } : {}),
    });
    return;
  }
  if (result.recoveryCodesLeft !== null) ctx.out.success(`recovery code valid for ${result.email} (used up; ${result.recoveryCodesLeft} left)`);
  else ctx.out.success(`code valid for ${result.email} (${describeDrift(result.driftSteps!)})`);
  if (device) ctx.out.line(`Trusted device #${device.id} until ${humanTime(device.expiresAt)}; its token (shown once): ${device.token}`);
}
