import { authorise } from '../../core/authorise.js';
import { enforcementFor } from '../../core/authentication.js';
import { rejected, usageError } from '../../core/errors.js';
import { trustDevice, validateLabel } from '../../core/trustedDevices.js';
import { normaliseRecoveryCode, useRecoveryCode } from '../../core/recoveryCodes.js';
import { describeDrift, diagnoseCode, parseCode, party, verifyActiveCode } from '../../core/verification.js';
import { humanTime, isoOrNull } from '../render.js';
import { dbKey, mfaDeps, readCode, resolveActor } from '../actor.js';
import { parseEmail } from '../config.js';
import type { CommandContext } from '../context.js';
import { LocalStore } from '../localStore.js';
import { findTargetUser, organisationPicker } from '../targets.js';
import { hostname } from 'node:os';

interface VerifyOptions {
  user?: string;
  org?: string;
  diagnose?: boolean;
  trustDevice?: boolean;
  label?: string;
}


export async function verify(ctx: CommandContext, opts: VerifyOptions): Promise<void> {
  const codeFlag = ctx.globals.code;
  if (opts.diagnose && opts.trustDevice) throw usageError('--diagnose and --trust-device cannot be combined');
  if (opts.label !== undefined && !opts.trustDevice) throw usageError('--label goes with --trust-device');
  const label = opts.trustDevice ? validateLabel(opts.label, `${hostname()} (verify)`) : undefined;
  const targetEmail = opts.user !== undefined ? parseEmail(opts.user, 'user email') : undefined;
  const recoveryFlag = ctx.globals.recoveryCode;
  if (recoveryFlag !== undefined && (codeFlag !== undefined || opts.diagnose)) throw usageError('--recovery-code replaces --code and cannot be used with --diagnose');
  if (recoveryFlag !== undefined) normaliseRecoveryCode(recoveryFlag);
  if (codeFlag === undefined && recoveryFlag === undefined && !ctx.io.canPrompt) throw usageError('a code is needed but stdin is not a terminal', { hint: 'pass --code CODE or --code - to read it from stdin' });
  if (codeFlag !== undefined && codeFlag !== '-') parseCode(codeFlag);

  const deps = await mfaDeps(ctx);
  const asEmail = ctx.globals.as !== undefined ? parseEmail(ctx.globals.as, 'email given to --as') : undefined;
  const selfByFlags = targetEmail === undefined || targetEmail === asEmail;
  const actor = await resolveActor(ctx, deps, { action: 'mfa.verify', deferSecondFactor: selfByFlags, codeBelongsToTarget: !selfByFlags });
  const target = targetEmail === undefined || targetEmail === actor.user.email ? actor.user : await findTargetUser(deps, targetEmail);
  const auth = await authorise(deps, actor.user, target, 'mfa.verify', { orgSlug: opts.org, pickOrganisation: organisationPicker(ctx) });
  if (recoveryFlag !== undefined) {
    const { left } = await useRecoveryCode(deps, target, recoveryFlag, { actor: party(actor.user), action: 'mfa.verify' });
    if (ctx.out.json) ctx.out.printJson({ valid: true, email: target.email, recoveryCode: true, recoveryCodesLeft: left });
    else ctx.out.success(`recovery code valid for ${target.email} (used up; ${left} left)`);
    return;
  }
  const code = await readCode(ctx, `Code for ${target.email}:`, 'pass --code CODE');

  if (opts.diagnose) {
    const d = await diagnoseCode(deps, target, code, party(actor.user));
    if (ctx.out.json) ctx.out.printJson({ email: target.email, diagnose: true, ...d });
    else if (d.matched) {
      ctx.out.line(`${describeDrift(d.driftSteps!)}; ${d.withinWindow ? 'within' : ctx.out.style.red('outside')} the accepted window of ±${ctx.settings.window} step(s)`);
      if (!d.withinWindow) ctx.out.line('Fix: set the phone\'s date & time to update automatically, then try again.');
    } else {
      ctx.out.line(`no match within ±${d.searchedMinutes} minutes: the app holds another secret, or the clock is off by more`);
    }
    if (!d.matched) {
      throw rejected(`the code matches no time within ±${d.searchedMinutes} minutes`, { hint: 'check that the app entry is for this account' });
    }
    return;
  }

  const result = await verifyActiveCode(deps, target, code, { actor: party(actor.user), action: 'mfa.verify', organisation: auth.organisation });
  let device: { token: string; id: number; expiresAt: number } | undefined;
  if (opts.trustDevice) {
    const { deviceTrustAllowed } = await enforcementFor(deps, target.id);
    device = await trustDevice(deps, target, { label: label!, actor: party(actor.user), deviceTrustAllowed });
    if (target.id === actor.user.id) {
      new LocalStore(ctx.env).setDevice(dbKey(ctx), target.email, { token: device.token, deviceId: device.id, expiresAt: isoOrNull(device.expiresAt)! });
    }
  }
  if (ctx.out.json) {
    ctx.out.printJson({
      valid: true,
      email: target.email,
      driftSteps: result.driftSteps,
      ...(device ? { trustedDevice: { id: device.id, token: device.token, expiresAt: isoOrNull(device.expiresAt) } } : {}),
    });
    return;
  }
  ctx.out.success(`code valid for ${target.email} (${describeDrift(result.driftSteps)})`);
  if (device) {
    ctx.out.line(`Trusted device #${device.id} until ${humanTime(device.expiresAt)}; its token (shown once): ${device.token}`);
  }
}
