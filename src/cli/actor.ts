import { authenticatePassword, confirmPassword, enforcementFor, sessionUser } from '../core/authentication.js';
import type { MfaDeps } from '../core/deps.js';
import { usageError } from '../core/errors.js';
import { checkTrustedDevice } from '../core/trustedDevices.js';
import { useRecoveryCode } from '../core/recoveryCodes.js';
import { parseCode, party, verifyActiveCode } from '../core/verification.js';
import { credentialsOfUser } from '../db/credentialRepository.js';
import { describeTarget } from '../db/url.js';
import type { UserRow } from '../db/userRepository.js';
import { parseEmail } from './config.js';
import type { CommandContext } from './context.js';
import { LocalStore } from './localStore.js';

export async function mfaDeps(ctx: CommandContext): Promise<MfaDeps> {
  const db = await ctx.database();
  return { knex: db.knex, clock: ctx.clock, random: ctx.random, settings: ctx.settings, origin: ctx.origin, keyring: () => ctx.keyring() };
}

export function dbKey(ctx: CommandContext): string {
  return describeTarget(ctx.target());
}

/** Read a password: --password-stdin (first unread line of stdin) or a hidden prompt. */
export async function readPassword(ctx: CommandContext, message: string): Promise<string> {
  if (ctx.globals.passwordStdin) {
    const line = await ctx.nextStdinLine('a password', 'pipe the password as the first line of stdin');
    if (line === '') throw usageError('the password read from stdin is empty');
    return line;
  }
  const pw = await ctx.prompter.password(message, 'pass --password-stdin and pipe the password');
  if (pw === '') throw usageError('the password is empty');
  return pw;
}

/** Read a code given as a flag value: `-` means the next line of stdin. */
export async function codeFromFlag(ctx: CommandContext, value: string): Promise<string> {
  const raw = value === '-' ? await ctx.nextStdinLine('a code', 'pipe the code on stdin, or pass --code CODE') : value;
  return parseCode(raw);
}

/** A code from --code (`-`: the next line of stdin) or, on a terminal, a prompt. */
export async function readCode(ctx: CommandContext, prompt: string, hint: string): Promise<string> {
  return ctx.globals.code !== undefined ? codeFromFlag(ctx, ctx.globals.code) : parseCode(await ctx.prompter.input(prompt, hint));
}

/**
 * Does this machine's trusted-device token stand in for the user's code? When it no longer does,
 * say why and forget it (unless it is only refused because an organisation turned device trust off).
 */
export async function storedDeviceStandsIn(ctx: CommandContext, deps: MfaDeps, user: UserRow, deviceTrustAllowed: () => Promise<boolean>): Promise<boolean> {
  const store = new LocalStore(ctx.env);
  const stored = store.getDevice(dbKey(ctx), user.email);
  if (!stored) return false;
  const check = await checkTrustedDevice(deps, user, stored.token, await deviceTrustAllowed());
  if (check.valid) return true;
  ctx.out.info(`note: this machine's trusted-device token is ${check.reason === 'trust-off' ? 'not accepted (device trust is off for your organisation)' : check.reason}; a code is needed`);
  if (check.reason !== 'trust-off') store.clearDevice(dbKey(ctx), user.email);
  return false;
}

export interface ActorOptions {
  /** audit action for the authentication events */
  action: string;
  /** always ask for the password again (SPEC §2 sensitive actions) */
  sensitive?: boolean;
  /** the command verifies the actor's own code itself (verify on self): skip the second factor here */
  deferSecondFactor?: boolean;
  /** with --as, stop after the password (enroll: there is no second factor yet) */
  passwordOnly?: boolean;
  /** --code / --recovery-code are the target's (verify --user OTHER): never the actor's second factor */
  codeBelongsToTarget?: boolean;
}

export interface Actor {
  user: UserRow;
  via: 'session' | 'password';
  secondFactor: 'code' | 'device' | 'session' | 'none' | 'deferred';
}

/**
 * Establish who is acting (SPEC §2 "Who is acting"): `--as EMAIL` with the password (and a code or
 * this machine's trusted-device token when the actor has MFA), or the CLI session from `login`.
 */
export async function resolveActor(ctx: CommandContext, deps: MfaDeps, opts: ActorOptions): Promise<Actor> {
  const store = new LocalStore(ctx.env);
  if (ctx.globals.as !== undefined) {
    const email = parseEmail(ctx.globals.as, 'email given to --as');
    const password = await readPassword(ctx, `Password for ${email}:`);
    const user = await authenticatePassword(deps, email, password, { action: opts.action });
    if (opts.passwordOnly) return { user, via: 'password', secondFactor: 'none' };
    const { active } = await credentialsOfUser(deps.knex, user.id);
    if (!active) return { user, via: 'password', secondFactor: 'none' };
    if (opts.deferSecondFactor) return { user, via: 'password', secondFactor: 'deferred' };
    if (await storedDeviceStandsIn(ctx, deps, user, async () => (await enforcementFor(deps, user.id)).deviceTrustAllowed)) {
      return { user, via: 'password', secondFactor: 'device' };
    }
    if (opts.codeBelongsToTarget) {
      const own = await ctx.prompter.input(`Your own authentication code (${user.email}):`, 'log in first (portal-mfa login) or trust this machine: --code is the other user\'s code here');
      await verifyActiveCode(deps, user, parseCode(own), { actor: party(user), action: opts.action });
      return { user, via: 'password', secondFactor: 'code' };
    }
    if (ctx.globals.recoveryCode !== undefined) {
      const { left } = await useRecoveryCode(deps, user, ctx.globals.recoveryCode, { actor: party(user), action: opts.action });
      ctx.out.warn(`recovery code used; ${left} left`);
      return { user, via: 'password', secondFactor: 'code' };
    }
    const code = await readCode(ctx, `Authentication code for ${user.email}:`, 'pass --code CODE (the actor has MFA), or log in first with portal-mfa login');
    await verifyActiveCode(deps, user, code, { actor: party(user), action: opts.action });
    return { user, via: 'password', secondFactor: 'code' };
  }
  const session = store.getSession(dbKey(ctx));
  if (!session) {
    throw usageError('no one is logged in', { hint: 'run portal-mfa login, or pass --as EMAIL' });
  }
  const user = await sessionUser(deps, session.token);
  if (!user) {
    store.clearSession(dbKey(ctx));
    throw usageError('the CLI session has expired or was ended', { hint: 'run portal-mfa login again, or pass --as EMAIL' });
  }
  if (opts.sensitive) {
    const password = await readPassword(ctx, `Enter your password to complete the process (${user.email}):`);
    await confirmPassword(deps, user, password, opts.action);
  }
  return { user, via: 'session', secondFactor: 'session' };
}
