import { looksLikeAccessCode } from '../core/usecases/accessCodes.js';
import { looksLikeRecoveryCode } from '../core/usecases/recoveryCodes.js';
import type { Actor, CommandPrecheck, SignInAction } from '../core/rules/actor.js';
import type { MfaDeps } from '../core/deps.js';
import type { AuditAction, CoreAuditAction } from '../core/primitives/audit.js';
import { createPortalMfa, type PortalMfa } from '../core/api.js';
import { normaliseEmail } from '../core/primitives/email.js';
import { validateReason, validateTicket } from '../core/usecases/changeOnUser.js';
import { isPortalMfaError, type PortalMfaError, usageError } from '../core/errors.js';
import { parseTargetEmail, validateSlug } from '../core/rules/authorise.js';
import type { SecondFactorProof } from '../core/rules/secondFactor.js';
import { normaliseCode } from '../core/primitives/totp.js';
import { describeTarget } from '../db/url.js';
import { confirmOrCancel, requireConfirmable } from './confirm.js';
import type { CommandContext } from './context.js';
import { LocalStore } from './localStore.js';

/** What the core needs, over this command's database (opened once), clock and origin. */
export async function mfaDeps(ctx: CommandContext): Promise<MfaDeps> {
  const db = await ctx.database();
  // the portal's policy, read once per command; this client's environment only tightens it
  const { effectiveSettings, readPolicy } = await import('../core/rules/policy.js');
  ctx.settings = effectiveSettings(await readPolicy(db.store), ctx.requestedLimits, ctx.settings.issuer);
  return {
    db: db.store,
    clock: ctx.clock,
    random: ctx.random,
    settings: ctx.settings,
    origin: ctx.origin,
    keyring: () => ctx.keyring(),
    queuedNotifications: ctx.queuedNotifications,
  };
}

/** The core API for a command that acts as a portal user. */
export async function portal(ctx: CommandContext): Promise<PortalMfa> {
  // remote mode: the same interface over the service's HTTP API (src/cli/remote/api.ts)
  if (ctx.server) return (await import('./remote/api.js')).remotePortalMfa(ctx);
  return createPortalMfa(await mfaDeps(ctx));
}

/** Key of this database in the local store (never with credentials). */
export function dbKey(ctx: CommandContext): string {
  // remote mode: sessions and device tokens are the service's, kept under its origin
  if (ctx.server) return `server ${ctx.server.origin}`;
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

/**
 * A flag's value where `-` means the next line of stdin (so no code needs argv). On a terminal
 * that line is typed at a prompt: `enroll --confirm -` asks for the code instead of waiting for
 * end-of-file (with --password-stdin, stdin stays a stream of lines).
 */
export async function flagOrStdin(ctx: CommandContext, value: string, what: string, prompt = `${what[0]!.toUpperCase()}${what.slice(1)}:`): Promise<string> {
  if (value !== '-') return value;
  if (ctx.io.canPrompt && !ctx.globals.passwordStdin) return ctx.prompter.input(prompt, `pipe ${what} on stdin`);
  return ctx.nextStdinLine(what, `pipe ${what} on stdin`);
}

/** Tries at a prompt before giving up (login's codes, a password typed again); each wrong one counts (rule 11). */
export const PROMPT_ATTEMPTS = 5;

/** Whether a refused answer is asked for again: typed at a prompt, a wrong password or code, tries left. */
export function askAgain(ctx: CommandContext, e: unknown, attempt: number, codes: readonly string[]): e is PortalMfaError {
  return ctx.io.canPrompt && !ctx.globals.passwordStdin && attempt < PROMPT_ATTEMPTS && isPortalMfaError(e) && codes.includes(e.code);
}

/**
 * What the user typed where a second factor is expected: a 6-digit code from the app, a recovery
 * code (xxxx-xxxx-xxxx-xxxx) or a temporary access code (XXXX-XXXX-XXXX-XXXX-XXXX).
 */
export function classifyProof(raw: string): SecondFactorProof {
  if (normaliseCode(raw) !== null) return { kind: 'code', code: raw };
  if (looksLikeAccessCode(raw)) return { kind: 'access-code', code: raw };
  if (looksLikeRecoveryCode(raw)) return { kind: 'recovery-code', code: raw };
  throw usageError('not a 6-digit code, a recovery code or an access code', { hint: 'type the code your authenticator app shows now, e.g. 123456' });
}

/** Check flag values early, before any password is asked for (a usage error changes nothing). */
export function checkProofFlags(ctx: CommandContext): void {
  const { code, recoveryCode } = ctx.globals;
  if (code !== undefined && recoveryCode !== undefined) throw usageError('--code and --recovery-code cannot be combined');
  if (code !== undefined && code !== '-') classifyProof(code);
  if (recoveryCode !== undefined && recoveryCode !== '-') classifyProof(recoveryCode);
}

/** The second-factor proof given by flags (`--code`, `--recovery-code`), if any. */
export async function proofFromFlags(ctx: CommandContext): Promise<SecondFactorProof | undefined> {
  const { code, recoveryCode } = ctx.globals;
  if (code !== undefined) return classifyProof(await flagOrStdin(ctx, code, 'a code', 'Your authentication code:'));
  if (recoveryCode !== undefined) return { kind: 'recovery-code', code: await flagOrStdin(ctx, recoveryCode, 'a recovery code', 'Recovery code:') };
  return undefined;
}

/** When this machine's device token no longer stands in: say why, and forget it (unless only trust is off). */
export function forgetRefusedDevice(ctx: CommandContext, store: LocalStore, email: string) {
  return (reason: string) => {
    ctx.out.info(
      `note: this machine's trusted-device token is ${reason === 'trust-off' ? 'not accepted (device trust is off for your organisation)' : reason}; a code is needed`,
    );
    if (reason !== 'trust-off') store.clearDevice(dbKey(ctx), email);
  };
}

export interface ActorOptions {
  /** audit action for the sign-in events (one of the core's SIGN_IN_ACTIONS) */
  action: SignInAction;
  /** the command verifies the actor's own code itself (verify on self): stop after the password */
  deferSecondFactor?: boolean;
  /** --code / --recovery-code are the target's (verify --user OTHER): never the actor's second factor */
  flagsBelongToTarget?: boolean;
  /** a temporary access code may stand in for the code (enrol, replace) */
  accessCodeAllowed?: boolean;
  /** what the command will check anyway: checked with --as before the actor's code is asked for or spent */
  precheck?: CommandPrecheck;
}

/**
 * Establish who is acting (SPEC §2): `--as EMAIL` with the password and — when the actor has MFA —
 * the code given by flag, else this machine's trusted-device token, else a prompt; or the CLI
 * session from `login`.
 */
export async function resolveActor(ctx: CommandContext, mfa: PortalMfa, opts: ActorOptions): Promise<Actor> {
  const store = new LocalStore(ctx.env);
  if (ctx.globals.as !== undefined) {
    if (ctx.globals.as.trim() === '') throw usageError('the email given to --as is empty');
    const email = normaliseEmail(ctx.globals.as);
    if (email === null) throw usageError(`not a valid email given to --as: ${JSON.stringify(ctx.globals.as.slice(0, 60))}`);
    let password = await readPassword(ctx, `Password for ${email}:`);
    const proof = opts.flagsBelongToTarget || opts.deferSecondFactor ? undefined : await proofFromFlags(ctx);
    for (let attempt = 1; ; attempt++) {
      try {
        return await mfa.signIn({
          email,
          password,
          action: opts.action,
          secondFactor: {
            proof,
            deferred: opts.deferSecondFactor,
            accessCodeAllowed: opts.accessCodeAllowed,
            precheck: opts.precheck,
            deviceToken: store.getDevice(dbKey(ctx), email)?.token,
            onDeviceRefused: forgetRefusedDevice(ctx, store, email),
            ask: ctx.io.canPrompt ? async () => classifyProof(await ctx.prompter.input(`Your authentication code (${email}):`, 'pass --code CODE')) : undefined,
          },
        });
      } catch (e) {
        // a wrong password typed at the prompt is asked again, as login does (the budget of rule 11 still counts each)
        if (!askAgain(ctx, e, attempt, ['wrong_password'])) throw e;
        ctx.out.errorLine(e.message, e.hint);
        password = await readPassword(ctx, `Password for ${email}:`);
      }
    }
  }
  const session = store.getSession(dbKey(ctx));
  if (!session) throw usageError('no one is logged in', { code: 'missing_input', hint: 'run portal-mfa login, or pass --as EMAIL' });
  const actor = await mfa.resumeSession(session.token);
  if (!actor) {
    store.clearSession(dbKey(ctx));
    throw usageError('the CLI session has expired or was ended', { code: 'missing_input', hint: 'run portal-mfa login again, or pass --as EMAIL' });
  }
  // signed in already: what the command will check anyway is checked before the password is asked again
  if (opts.precheck) await mfa.precheck(actor, opts.precheck);
  return actor;
}

/**
 * The password again for a sensitive action (SPEC §2), unless this command's sign-in just proved it:
 * checked here, so a wrong one typed at the prompt is asked again (as login does, each counted by
 * rule 11's budget). The use case then finds it proven.
 */
export async function reauthPassword(ctx: CommandContext, mfa: PortalMfa, actor: Actor, action: CoreAuditAction): Promise<string | undefined> {
  if (!mfa.needsReauthentication(actor)) return undefined;
  for (let attempt = 1; ; attempt++) {
    const password = await readPassword(ctx, `Enter your password to complete the process (${actor.user.email}):`);
    try {
      await mfa.reenterPassword(actor, password, action);
      return password;
    } catch (e) {
      if (!askAgain(ctx, e, attempt, ['wrong_password'])) throw e;
      ctx.out.errorLine(e.message, e.hint);
    }
  }
}

/** The state each kind of change needs its target in, checked with the precheck (core/rules/targetState.ts). */
const NEEDS = { disable: 'mfa', unlock: 'lock' } as const;

/**
 * The precheck of a command that changes one user (`--user`, `--org`, `--ticket`): the flags are
 * checked here, before any password is asked for (a malformed one is exit 2 and asks nothing); the
 * actor's authority (ticket, organisation, protected accounts) and the target's state are checked
 * by the core after the password and before the actor's code is asked for or spent — with a
 * session, before the password is asked again (issue 20 finding 8, issue 23 item 3). Nothing that
 * needs the actor's identity is told before a password: no one learns whether a user exists or has
 * MFA without one.
 */
export function changeOnUserPrecheck(
  ctx: CommandContext,
  opts: { user?: string; org?: string; ticket?: string; reason?: string },
  permission: 'disable' | 'unlock' | 'access-code' | 'revoke-devices',
  action: AuditAction,
): CommandPrecheck {
  const ticket = validateTicket(opts.ticket);
  validateReason(opts.reason);
  if (opts.user !== undefined) parseTargetEmail(opts.user);
  if (opts.org !== undefined) validateSlug(opts.org);
  const needs = permission === 'disable' || permission === 'unlock' ? NEEDS[permission] : undefined;
  return {
    target: { targetEmail: opts.user, orgSlug: opts.org, permission, action, ticket, canPick: ctx.io.canPrompt, needs },
  };
}

/**
 * The start of every command that changes one user: no prompt without a terminal unless --yes (a dry
 * run asks nothing), the flags checked, sign-in with the command's precheck, the actor's password
 * re-entered (asked again when wrong), and — when given — the question, after everything that
 * could refuse has been checked.
 */
export async function signInToChangeUser(
  ctx: CommandContext,
  opts: { user?: string; org?: string; ticket?: string; reason?: string; dryRun?: boolean },
  change: { permission: 'disable' | 'unlock' | 'access-code' | 'revoke-devices'; action: SignInAction; question?: string; precheck?: boolean },
): Promise<{ mfa: PortalMfa; actor: Actor; password: string | undefined }> {
  if (!opts.dryRun) requireConfirmable(ctx);
  const check = changeOnUserPrecheck(ctx, opts, change.permission, change.action);
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, { action: change.action, precheck: change.precheck === false ? undefined : check });
  const password = opts.dryRun ? undefined : await reauthPassword(ctx, mfa, actor, change.action);
  if (!opts.dryRun && change.question) await confirmOrCancel(ctx, change.question);
  return { mfa, actor, password };
}
