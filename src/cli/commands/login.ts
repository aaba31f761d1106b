import { hostname } from 'node:os';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Actor } from '../../core/rules/actor.js';
import type { PortalMfa } from '../../core/api.js';
import { isPortalMfaError, usageError, wrongState } from '../../core/errors.js';
import type { Act } from '../act.js';
import type { CommandContext } from '../context.js';
import { describeDrift } from '../describe.js';
import { commandLine } from '../invocation.js';
import { LocalStore } from '../localStore.js';
import { qrModeOf } from '../qr.js';
import { humanTime, isoOrNull } from '../render.js';
import { withExamples } from './examples.js';
import { type OptionsOf, qrOption } from './flags.js';

const define = (program: CommandUnknownOpts) =>
  program
    .command('login')
    .description("start a CLI session: password, then a code (or this machine's trusted-device token)")
    .option('--trust-device', 'trust this machine for 30 days: later logins skip the code')
    .option('--label <label>', 'a name for this machine (default: its host name)')
    .addOption(qrOption('QR code when login makes you enrol: utf8, ansi or none'))
    .addHelpText('after', '\nThe email comes from --as EMAIL (or PORTAL_MFA_AS), or a prompt.');
type LoginOptions = OptionsOf<typeof define>;

export function registerLogin(program: CommandUnknownOpts, act: Act): void {
  withExamples(define(program), [
    'portal-mfa login --as alice@acme.example                 # password, then a code',
    'portal-mfa login --trust-device --label work-laptop      # later logins on this machine skip the code',
    'echo "$PASSWORD" | portal-mfa login --as alice@acme.example --password-stdin --code 123456',
  ]).action(act(login));
}

/**
 * Sign in interactively: the password once, then — at a prompt — codes, recovery codes or access
 * codes until one is accepted, the lockout stops it, or the tries run out.
 */
async function signInWithRetries(ctx: CommandContext, mfa: PortalMfa, email: string, store: LocalStore): Promise<Actor> {
  const { classifyProof, dbKey, forgetRefusedDevice, PROMPT_ATTEMPTS, proofFromFlags, readPassword } = await import('../actor.js');
  const { pasteable } = await import('../invocation.js');
  let password = await readPassword(ctx, `Password for ${email}:`);
  const explicit = await proofFromFlags(ctx);
  for (let attempt = 1; ; attempt++) {
    try {
      return await mfa.signIn({
        email,
        password,
        action: 'session.login',
        // the code is audited as a verification, the session as the login (one row each)
        factorAction: 'mfa.verify',
        secondFactor: {
          proof: explicit,
          accessCodeAllowed: true,
          // without a terminal a user who must enrol cannot do it here: refused before any code is spent
          precheck: ctx.io.canPrompt ? undefined : { intent: 'other' },
          // an explicit --code is always verified; the stored device only when no proof is given
          deviceToken: explicit === undefined ? store.getDevice(dbKey(ctx), email)?.token : undefined,
          onDeviceRefused: forgetRefusedDevice(ctx, store, email),
          ask: ctx.io.canPrompt
            ? async () => classifyProof(await ctx.prompter.input('Authentication code (or a recovery or access code):', 'pass --code CODE or --code -'))
            : undefined,
        },
      });
    } catch (e) {
      const retry = ctx.io.canPrompt && explicit === undefined && !ctx.globals.passwordStdin && attempt < PROMPT_ATTEMPTS && isPortalMfaError(e);
      if (!retry || (e.kind !== 'rejected' && e.kind !== 'usage')) throw e;
      ctx.out.errorLine(e.message, e.hint && pasteable(ctx, e.hint));
      // a wrong password is asked again; after a wrong code the password is kept
      if (e.code === 'wrong_password') password = await readPassword(ctx, `Password for ${email}:`);
    }
  }
}

async function login(ctx: CommandContext, opts: LoginOptions): Promise<void> {
  const { validateLabel } = await import('../../core/rules/trustedDevices.js');
  const { checkProofFlags, dbKey, portal } = await import('../actor.js');
  const { parseEmail } = await import('../config.js');
  const { confirmInteractively } = await import('../enrolFlow.js');
  if (opts.label !== undefined && !opts.trustDevice) throw usageError('--label goes with --trust-device');
  const label = opts.trustDevice ? validateLabel(opts.label, hostname()) : undefined;
  const qr = qrModeOf(opts.qr, ctx.io.stdoutIsTTY);
  checkProofFlags(ctx);
  const email =
    ctx.globals.as !== undefined
      ? parseEmail(ctx.globals.as, 'email given to --as')
      : parseEmail(await ctx.prompter.input('Email:', 'pass --as EMAIL'), 'email');
  const mfa = await portal(ctx);
  const store = new LocalStore(ctx.env);
  const actor = await signInWithRetries(ctx, mfa, email, store);
  if (actor.proven?.kind === 'recovery-code') {
    ctx.out.warn(`recovery code used; ${actor.proven.recoveryCodesLeft} left — if you lost your phone, ask support for an access code or a reset`);
  }
  if (actor.proven?.driftSteps) ctx.out.info(describeDrift(actor.proven.driftSteps));

  const status = await mfa.status(actor);
  let factor: string = actor.factor;
  if (status.state !== 'active' && status.enrolmentDeadlines.some((d) => d.deadline === null)) {
    // rule 4: enrol before anything else
    const orgs = status.enrolmentDeadlines
      .filter((d) => d.deadline === null)
      .map((d) => d.organisation)
      .join(', ');
    if (!ctx.io.canPrompt) {
      throw wrongState(`${orgs} requires MFA and ${actor.user.email} has not enrolled`, {
        code: 'enrolment_required',
        hint: 'enrol on a terminal with portal-mfa login, or script it: portal-mfa enroll --no-confirm --json, then portal-mfa enroll --confirm - (the code on stdin)',
      });
    }
    ctx.io.stderr.write(`${orgs} requires multi-factor authentication: set it up now.\n`);
    const pending = await mfa.startEnrolment(actor, {});
    await confirmInteractively(ctx, mfa, actor, pending, qr);
    factor = 'enrolled';
  }

  let device: { id: number; expiresAt: number } | undefined;
  if (opts.trustDevice) {
    if (actor.factor === 'code' || actor.factor === 'recovery-code') {
      try {
        const previous = store.getDevice(dbKey(ctx), actor.user.email)?.token;
        const issued = await mfa.trustThisDevice(actor, { label: label!, previousToken: previous });
        store.setDevice(dbKey(ctx), actor.user.email, { token: issued.token, deviceId: issued.id, expiresAt: isoOrNull(issued.expiresAt)! });
        device = { id: issued.id, expiresAt: issued.expiresAt };
      } catch (e) {
        if (!isPortalMfaError(e) || e.code !== 'device_trust_off') throw e;
        ctx.out.warn('device trust is turned off by your organisation; this machine is not trusted (a code is needed at every login)');
      }
    } else if (actor.factor === 'device') ctx.out.info('note: this machine is already trusted');
    else ctx.out.info('note: --trust-device needs a code from the app; nothing was trusted');
  }

  const session = await mfa.openSession(actor);
  store.setSession(dbKey(ctx), { email: actor.user.email, token: session.token, expiresAt: isoOrNull(session.expiresAt)! });
  if (status.state === 'none' && factor !== 'enrolled') {
    const graced = status.enrolmentDeadlines.filter((d) => d.deadline !== null);
    // (the session just opened acts for this user: the commands need no --as)
    for (const g of graced)
      ctx.out.warn(`${g.organisation} requires MFA from ${humanTime(g.deadline)}: enrol before then with ${commandLine(ctx, 'enroll', { as: false })}`);
    if (graced.length === 0 && actor.restriction === null)
      ctx.out.info(`note: MFA protects your account — set it up with ${commandLine(ctx, 'enroll', { as: false })}`);
  }
  if (actor.restriction === 'access-code') {
    ctx.out.warn(
      `signed in with a temporary access code: set up your authenticator now with ${commandLine(ctx, status.state === 'active' ? 'replace' : 'enroll', { as: false })}`,
    );
  }
  if (ctx.out.json) {
    ctx.out.printJson({
      email: actor.user.email,
      expiresAt: isoOrNull(session.expiresAt),
      secondFactor: factor,
      restricted: actor.restriction !== null,
      ...(device ? { trustedDevice: { id: device.id, expiresAt: isoOrNull(device.expiresAt) } } : {}),
    });
    return;
  }
  ctx.out.success(`logged in as ${actor.user.email} until ${humanTime(session.expiresAt)}${actor.factor === 'device' ? ' (trusted device)' : ''}`);
  if (device) ctx.out.line(`This machine is trusted until ${humanTime(device.expiresAt)} (device #${device.id}).`);
}
