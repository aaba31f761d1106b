import { hostname } from 'node:os';
import { authenticatePassword, createSession, enforcementFor, logout, sessionUser } from '../../core/authentication.js';
import { usageError, wrongState } from '../../core/errors.js';
import { trustDevice, validateLabel } from '../../core/trustedDevices.js';
import { useRecoveryCode } from '../../core/recoveryCodes.js';
import { describeDrift, parseCode, party, verifyActiveCode } from '../../core/verification.js';
import { credentialsOfUser } from '../../db/credentialRepository.js';
import { dbKey, mfaDeps, readCode, readPassword, storedDeviceStandsIn } from '../actor.js';
import { parseEmail } from '../config.js';
import type { CommandContext } from '../context.js';
import { interactiveEnrolment } from '../enrolFlow.js';
import { LocalStore } from '../localStore.js';
import { parseQrMode } from '../qr.js';
import { humanTime, isoOrNull } from '../render.js';

interface LoginOptions {
  trustDevice?: boolean;
  label?: string;
  qr?: string;
}


export async function login(ctx: CommandContext, opts: LoginOptions): Promise<void> {
  if (opts.label !== undefined && !opts.trustDevice) throw usageError('--label goes with --trust-device');
  const label = opts.trustDevice ? validateLabel(opts.label, hostname()) : undefined;
  const qr = parseQrMode(opts.qr, ctx.io.stdoutIsTTY);
  const codeFlag = (ctx.globals as { code?: string }).code;
  if (codeFlag !== undefined && codeFlag !== '-') parseCode(codeFlag);
  const email = ctx.globals.as !== undefined
    ? parseEmail(ctx.globals.as, 'email given to --as')
    : parseEmail(await ctx.prompter.input('Email:', 'pass --as EMAIL'), 'email');

  const deps = await mfaDeps(ctx);
  const store = new LocalStore(ctx.env);
  const password = await readPassword(ctx, `Password for ${email}:`);
  const user = await authenticatePassword(deps, email, password, { action: 'session.login' });
  const enforcement = await enforcementFor(deps, user.id);
  const { active } = await credentialsOfUser(deps.knex, user.id);

  // printed once the session exists, so a login that fails ends with its one error line only
  const notes: (() => void)[] = [];
  let secondFactor: 'code' | 'device' | 'none' | 'enrolled' | 'recovery-code' = 'none';
  let codeVerified = false;
  if (active) {
    if (codeFlag === undefined && ctx.globals.recoveryCode === undefined && (await storedDeviceStandsIn(ctx, deps, user, async () => enforcement.deviceTrustAllowed))) {
      secondFactor = 'device';
    }
    if (secondFactor !== 'device' && ctx.globals.recoveryCode !== undefined) {
      const { left } = await useRecoveryCode(deps, user, ctx.globals.recoveryCode, { actor: party(user), action: 'mfa.verify' });
      ctx.out.warn(`recovery code used; ${left} left — if you lost your phone, ask support or your admin to reset MFA, then enrol again`);
      secondFactor = 'recovery-code';
      codeVerified = true;
    } else if (secondFactor !== 'device') {
      const code = await readCode(ctx, 'Authentication code:', 'pass --code CODE or --code -');
      const r = await verifyActiveCode(deps, user, code, { actor: party(user), action: 'mfa.verify' });
      if (r.driftSteps !== 0) ctx.out.info(describeDrift(r.driftSteps));
      secondFactor = 'code';
      codeVerified = true;
    }
  } else if (enforcement.requiredBy.length > 0) {
    const orgs = enforcement.requiredBy.map((m) => m.slug).join(', ');
    if (!ctx.io.canPrompt) {
      throw wrongState(`${orgs} requires MFA and ${user.email} has not enrolled`, {
        hint: 'enrol on a terminal with portal-mfa login, or script it: enroll --no-confirm --json, then enroll --confirm CODE',
      });
    }
    ctx.io.stderr.write(`${orgs} requires multi-factor authentication: set it up now.\n`);
    await interactiveEnrolment(ctx, deps, user, { actor: user, qr });
    secondFactor = 'enrolled';
    codeVerified = true;
  } else {
    for (const g of enforcement.inGrace) {
      notes.push(() => ctx.out.warn(`${g.membership.slug} requires MFA from ${humanTime(g.until)}: enrol before then with portal-mfa enroll`));
    }
    if (enforcement.inGrace.length === 0) notes.push(() => ctx.out.info('note: MFA protects your account — set it up with portal-mfa enroll'));
  }

  let device: { id: number; expiresAt: number } | undefined;
  if (opts.trustDevice && !enforcement.deviceTrustAllowed) {
    ctx.out.warn('device trust is turned off by your organisation; this machine is not trusted (a code is needed at every login)');
  } else if (opts.trustDevice) {
    if (!codeVerified) {
      if (secondFactor === 'device') ctx.out.info('note: this machine is already trusted');
      else ctx.out.info('note: --trust-device needs MFA; nothing to trust without a code');
    } else {
      const issued = await trustDevice(deps, user, { label: label!, actor: party(user), deviceTrustAllowed: enforcement.deviceTrustAllowed });
      store.setDevice(dbKey(ctx), user.email, { token: issued.token, deviceId: issued.id, expiresAt: isoOrNull(issued.expiresAt)! });
      device = { id: issued.id, expiresAt: issued.expiresAt };
    }
  }

  const session = await createSession(deps, user, { secondFactor });
  store.setSession(dbKey(ctx), { email: user.email, token: session.token, expiresAt: isoOrNull(session.expiresAt)! });
  for (const note of notes) note();
  if (ctx.out.json) {
    ctx.out.printJson({
      email: user.email,
      expiresAt: isoOrNull(session.expiresAt),
      secondFactor,
      ...(device ? { trustedDevice: { id: device.id, expiresAt: isoOrNull(device.expiresAt) } } : {}),
    });
    return;
  }
  ctx.out.success(`logged in as ${user.email} until ${humanTime(session.expiresAt)}${secondFactor === 'device' ? ' (trusted device)' : ''}`);
  if (device) ctx.out.line(`This machine is trusted until ${humanTime(device.expiresAt)} (device #${device.id}).`);
}

export async function logoutCommand(ctx: CommandContext): Promise<void> {
  const store = new LocalStore(ctx.env);
  const stored = store.getSession(dbKey(ctx));
  if (!stored) {
    if (ctx.out.json) ctx.out.printJson({ loggedOut: false });
    else ctx.out.info('not logged in');
    return;
  }
  const deps = await mfaDeps(ctx);
  const user = await sessionUser(deps, stored.token);
  await logout(deps, stored.token, user ? party(user) : null);
  store.clearSession(dbKey(ctx));
  if (ctx.out.json) ctx.out.printJson({ loggedOut: true, email: stored.email });
  else ctx.out.success(`logged out ${stored.email}`);
}
