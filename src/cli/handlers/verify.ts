import { hostname } from 'node:os';
import { parseTargetEmail } from '../../core/authorise.js';
import { rejected, usageError } from '../../core/errors.js';
import { normaliseRecoveryCode } from '../../core/recoveryCodes.js';
import { validateLabel } from '../../core/trustedDevices.js';
import { parseCode } from '../../core/verification.js';
import { dbKey, flagOrStdin, portal, resolveActor } from '../actor.js';
import type { VerifyOptions } from '../commands/verify.js';
import type { CommandContext } from '../context.js';
import { describeDrift } from '../describe.js';
import { LocalStore } from '../localStore.js';
import { humanTime, isoOrNull } from '../render.js';
import { organisationPicker } from '../targets.js';

export async function verify(ctx: CommandContext, opts: VerifyOptions): Promise<void> {
  const { code: codeFlag, recoveryCode: recoveryFlag } = ctx.globals;
  if (opts.label !== undefined && !opts.trustDevice) throw usageError('--label goes with --trust-device');
  const label = opts.trustDevice ? validateLabel(opts.label, `${hostname()} (verify)`) : undefined;
  const targetEmail = opts.user !== undefined ? parseTargetEmail(opts.user) : undefined;
  if (recoveryFlag !== undefined && (codeFlag !== undefined || opts.diagnose))
    throw usageError('--recovery-code replaces --code and cannot be used with --diagnose');
  if (recoveryFlag !== undefined && recoveryFlag !== '-') normaliseRecoveryCode(recoveryFlag);
  if (codeFlag === undefined && recoveryFlag === undefined && !ctx.io.canPrompt)
    throw usageError('a code is needed but stdin is not a terminal', { hint: 'pass --code CODE or --code - to read it from stdin' });
  if (codeFlag !== undefined && codeFlag !== '-') parseCode(codeFlag);

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
          },
        },
  });
  const picker = organisationPicker(ctx);
  const common = { targetEmail, orgSlug: opts.org, pickOrganisation: picker };
  const readCode = async () =>
    codeFlag !== undefined ? flagOrStdin(ctx, codeFlag, 'a code') : ctx.prompter.input(`Code for ${targetEmail ?? actor.user.email}:`, 'pass --code CODE');

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
      ? { kind: 'recovery-code' as const, code: await flagOrStdin(ctx, recoveryFlag, 'a recovery code') }
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
