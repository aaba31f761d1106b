import type { UserId } from '../domain.js';
import { scopeOf } from '../requestScope.js';
import {
  budgetSpentUntil,
  ensureReservableBudget,
  refundReservation,
  reserveFromBudget,
  settleReservation,
  type Budget,
  type Reservation,
} from '../../db/rateLimitRepository.js';
import { endSession, findValidSession, insertSession } from '../../db/sessionRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import type { MembershipRow, PortalUser } from '../domain.js';
import { ambiguousAccount, findUserById } from './identity.js';
import { findUsersByEmailKey, passwordHashOf, samplePasswordHash } from '../../db/identity/reader.js';
import { markVouched, party, recordAudit, type AuditAction, type AuditParty, type CoreAuditAction, type Intent } from '../primitives/audit.js';
import { passwordBudget } from './lockout.js';
import { authorise, authoriseOrganisation, requireSupportTicket, type AuthoriseRequest } from './authorise.js';
import type { MfaDeps } from '../deps.js';
import { foldEmail, normaliseEmail } from '../primitives/email.js';
import { forbidden, isPortalMfaError, locked, notFound, rejected, usageError, wrongState, type PortalMfaError } from '../errors.js';
import { dummyHashLike, verifyPassword } from '../primitives/passwords.js';
import { proveSecondFactor, wouldProveSecondFactor, type ProvenFactor, type SecondFactorProof } from './secondFactor.js';
import { hashToken, newToken } from '../primitives/tokens.js';
import { openReauthToken, sealReauthToken } from '../primitives/reauthToken.js';
import { checkTrustedDevice } from './trustedDevices.js';
import { humanTimeUntil } from '../primitives/humanTime.js';
import { requireLockToClear, requireMfaToRemove } from './targetState.js';
import { activeCredential } from './verification.js';

/**
 * Who is acting (SPEC §2). An Actor is only ever made here — by a sign-in (signIn, or the two steps
 * beginSignIn/completeSignIn of rules/challenge.ts), resumeSession (a session token) or actorFor (the
 * portal backend vouching for a user it signed in itself) — so a use case that receives one knows
 * how the person proved who they are. Objects that did not come from here are refused.
 */
export interface Actor {
  readonly user: PortalUser;
  /** how the first factor was established: a password checked here, a session, or the backend's word */
  readonly via: 'session' | 'password' | 'vouched';
  /**
   * what proved the second factor: `deferred` until the command verifies the actor's own code (then
   * the kind of that code), `vouched` when the backend vouched for the user and nothing was proven here
   */
  readonly factor: 'code' | 'recovery-code' | 'access-code' | 'device' | 'session' | 'none' | 'deferred' | 'vouched';
  /** signed in with a temporary access code: enrol or replace before anything else */
  readonly restriction: 'access-code' | null;
  readonly sessionId: number | null;
  readonly proven?: ProvenFactor;
  /** the portal backend that vouched for this user (actorFor, or a vouched first step); null otherwise */
  readonly vouchedBy: string | null;
}

type ActorInit = Omit<Actor, 'vouchedBy' | 'factor' | 'restriction' | 'proven'> & {
  factor: Actor['factor'];
  restriction: Actor['restriction'];
  proven?: ProvenFactor;
};

interface ActorState {
  /** when the password was last proven (or vouched as checked): the re-authentication moment */
  passwordAt: number | null;
  signedInAt: number;
  deviceTrusted: boolean;
  /** made by a sign-in (not a session or a vouch alone): may open a session */
  fromSignIn: boolean;
  factor: Actor['factor'];
  restriction: Actor['restriction'];
  proven: ProvenFactor | undefined;
}

const issued = new WeakMap<Actor, ActorState>();

/**
 * The one constructor of Actors. The user is the core's own frozen copy (read through the mapping,
 * no password hash in it), since authorisation reads actor.user; what the sign-in proved lives in
 * the state here, read through getters, so a deferred actor that proves its code becomes a full one.
 */
function makeActor(
  a: ActorInit,
  passwordAt: number | null,
  now: number,
  opts: { vouch?: { by: string; passwordCheckedAt: number | null }; fromSignIn?: boolean } = {},
): Actor {
  const state: ActorState = {
    passwordAt,
    signedInAt: now,
    deviceTrusted: false,
    fromSignIn: opts.fromSignIn ?? false,
    factor: a.factor,
    restriction: a.restriction,
    proven: a.proven && Object.freeze({ ...a.proven }),
  };
  const user = opts.vouch ? vouchedCopy(a.user, opts.vouch) : Object.freeze({ ...a.user });
  const actor = Object.freeze(
    Object.defineProperties(
      { user, via: a.via, sessionId: a.sessionId, vouchedBy: opts.vouch?.by ?? null },
      {
        factor: { enumerable: true, get: () => state.factor },
        restriction: { enumerable: true, get: () => state.restriction },
        proven: { enumerable: true, get: () => state.proven },
      },
    ),
  ) as Actor;
  issued.set(actor, state);
  return actor;
}

/** A copy of the user whose audit rows record the backend's vouch (see markVouched). */
function vouchedCopy(user: PortalUser, vouch: { by: string; passwordCheckedAt: number | null }): PortalUser {
  const copy = Object.freeze({ ...user });
  markVouched(copy, vouch);
  return copy;
}

/** One trusted device per sign-in, and only soon after it (rule 14: right after the code). */
export function claimDeviceTrust(deps: MfaDeps, actor: Actor): boolean {
  const state = actorState(actor);
  if (state.deviceTrusted || deps.clock() - state.signedInAt > deps.settings.reauthSeconds * 1000) return false;
  state.deviceTrusted = true;
  return true;
}

/**
 * A deferred actor (its code left to the command) verified its own code: from now on it is signed
 * in with that code, like any other (status, sessions, device trust right after it).
 */
export function secondFactorProven(deps: MfaDeps, actor: Actor, proven: ProvenFactor): void {
  const state = actorState(actor);
  if (state.factor !== 'deferred' || provisional.has(actor)) return;
  state.factor = proven.kind;
  state.restriction = proven.kind === 'access-code' ? 'access-code' : state.restriction;
  state.proven = Object.freeze({ ...proven });
  state.signedInAt = deps.clock();
}

function actorState(actor: Actor): ActorState {
  const state = issued.get(actor);
  if (!state) throw new TypeError('not an Actor from signIn, completeSignIn, resumeSession or actorFor');
  return state;
}

export interface SecondFactorSource {
  /** a proof given explicitly (flag or prompt answer): always verified, never skipped for a device */
  proof?: SecondFactorProof;
  /** this machine's trusted-device token, used only when no explicit proof is given */
  deviceToken?: string;
  /** asked only when needed (MFA active, no proof, no valid device) */
  ask?: () => Promise<SecondFactorProof>;
  /** told why the device token no longer stands in (so the caller can say so and forget it) */
  onDeviceRefused?: (reason: 'unknown' | 'expired' | 'revoked' | 'other-user' | 'trust-off') => void;
  /** the command verifies the actor's own code itself (verify on self): stop after the password */
  deferred?: boolean;
  /** a temporary access code is accepted here (login, enrol, replace): elsewhere it would be spent for nothing */
  accessCodeAllowed?: boolean;
  /** what the command will check anyway, checked before any code is asked for or spent (see CommandPrecheck) */
  precheck?: CommandPrecheck;
}

/**
 * What a command signing in for itself (`--as`) will check anyway, checked by signIn after the
 * password and before a code, recovery code or access code is spent: a command that then fails for
 * a reason knowable in advance — rule 4, an organisation that is ambiguous or not the actor's, a
 * user the actor may not act on, a state the command needs — must not use one up. The reason is
 * told only to someone who also holds the second factor (a valid proof, looked at but not used up,
 * or a trusted device): a password alone learns nothing more than before. The same checks run
 * again in the use case; these only run them early.
 */
export interface CommandPrecheck {
  /** rule 4 for what the command is, checked first as the use cases do (default 'other' when an organisation or a target is checked) */
  intent?: Intent;
  /** an organisation-scoped command (authoriseOrganisation); ticket given: support acts only on one (a bulk change) */
  organisation?: { orgSlug?: string; action: AuditAction; supportAllowed: boolean; ticket?: string | null };
  /**
   * a command on one user (authorise); canPick: an ambiguous organisation will be asked for (TTY) or
   * does not matter; needs: the state the command needs the target in — MFA to remove, active MFA
   * to check a code against, a lock to clear (targetState.ts, verification.ts)
   */
  target?: Omit<AuthoriseRequest, 'pickOrganisation'> & { canPick: boolean; needs?: 'mfa' | 'active' | 'lock' };
  /** the command needs the actor's MFA active (replace) */
  mfaActive?: boolean;
}

/** Provisional actors of a precheck: their second factor is not proven yet, and they never leave signIn. */
const provisional = new WeakSet<Actor>();

/** The refusal the command would end in, or null. */
async function precheckCommand(deps: MfaDeps, user: PortalUser, check: CommandPrecheck, passwordAt: number): Promise<PortalMfaError | null> {
  const pending = makeActor({ user, via: 'password', factor: 'deferred', restriction: null, sessionId: null }, passwordAt, passwordAt);
  provisional.add(pending);
  try {
    await runPrecheck(deps, pending, check);
    return null;
  } catch (e) {
    if (isPortalMfaError(e)) return e;
    throw e;
  } finally {
    issued.delete(pending);
  }
}

/** The checks of a CommandPrecheck, in the order the use cases run them; throws the refusal. */
async function runPrecheck(deps: MfaDeps, actor: Actor, check: CommandPrecheck): Promise<void> {
  const intent = check.intent ?? (check.organisation || check.target ? 'other' : undefined);
  if (intent) await admit(deps, actor, intent);
  if (check.mfaActive && !(await scopeOf(deps).credentials(actor.user.id)).active) {
    throw wrongState(`MFA is not enabled for ${actor.user.email}, so there is no device to replace`, {
      code: 'mfa_not_enabled',
      hint: 'enrol with: portal-mfa enroll',
    });
  }
  if (check.organisation) {
    const { ticket, ...request } = check.organisation;
    const { organisation, via } = await authoriseOrganisation(deps, actor, request);
    if (ticket !== undefined && via === 'support')
      await requireSupportTicket(deps, actor, { action: request.action, organisation: { id: organisation.id, slug: organisation.slug }, ticket });
  }
  if (check.target) {
    const { canPick, needs, ...target } = check.target;
    const auth = await authorise(deps, actor, { ...target, pickOrganisation: canPick ? async (choices) => choices[0]!.slug : undefined });
    if (needs === 'mfa') await requireMfaToRemove(deps, auth.target);
    if (needs === 'active') await activeCredential(deps, auth.target, party(actor.user));
    if (needs === 'lock') await requireLockToClear(deps, auth.target);
  }
}

/**
 * A command's precheck for an actor who is already signed in (a CLI session): run before the
 * password is asked again, so a command that will fail says why first. signIn runs the same
 * checks itself (`secondFactor.precheck`), before a code is asked for or spent.
 */
export async function precheck(deps: MfaDeps, actor: Actor, check: CommandPrecheck): Promise<void> {
  actorState(actor);
  await runPrecheck(deps, actor, check);
}
/** How long an attempt waits for a unit held by parallel attempts still being checked (then: rate-limited). */
const RESERVE_WAIT_MS = 20_000;

/**
 * Take one wrong-password unit for this attempt before the hash is compared, waiting while every
 * unit is held by parallel attempts still being checked (each gives its unit back if its password
 * was right). Spent — wrong answers alone used the budget up — is final for the window.
 */
async function reservePasswordAttempt(deps: MfaDeps, budget: Budget): Promise<Reservation | 'read-only'> {
  try {
    await ensureReservableBudget(deps.db, budget);
    const started = Date.now();
    for (;;) {
      const r = await withWriteTransaction(deps.db, (trx) => reserveFromBudget(trx, { ...budget, now: deps.clock() }));
      if (r.reserved || r.spent || Date.now() - started > RESERVE_WAIT_MS) return r;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.floor(Math.random() * 40)));
    }
  } catch (e) {
    if (isReadOnlyDatabase(e)) return 'read-only';
    throw e;
  }
}

/** A database that takes no writes at all (a read-only file, a read-only server): see checkPassword. */
function isReadOnlyDatabase(e: unknown): boolean {
  const code = String((e as { code?: unknown })?.code ?? '');
  return code.startsWith('SQLITE_READONLY') || code === 'ER_OPTION_PREVENTS_STATEMENT' || code === 'ER_READ_ONLY_MODE';
}

/**
 * The password check of every path (sign-in and re-entry): the same message, the same bcrypt cost
 * and the same database writes whether or not the user exists (no enumeration). Wrong passwords
 * are counted per email in an atomic budget, reserved *before* the comparison and given back when
 * the password is right: so of any number of parallel attempts at most passwordFailures are ever
 * answered "wrong" within the window, and once the budget is spent every attempt — right or wrong
 * — gets the same exit 4, before any comparison (no oracle). A right password is never refused
 * while the budget is not spent: when parallel attempts hold every unit, it waits for one.
 */
async function checkPassword(deps: MfaDeps, email: string, found: PortalUser | PortalUser[] | undefined, password: string, action: AuditAction): Promise<void> {
  // several accounts whose emails fold together: the password decides whether the person learns of it
  const candidates = found === undefined ? [] : Array.isArray(found) ? found : [found];
  const user = candidates.length === 1 ? candidates[0] : undefined;
  const budget = passwordBudget(deps, email);
  const who = user ? party(user) : { id: null, email };
  const reservation = await reservePasswordAttempt(deps, budget);
  if (reservation === 'read-only') {
    // nothing can be written, so nothing can be counted: a spent budget still refuses, a right password
    // still reads (status on a read-only copy), and a wrong one fails on its write, as every write does (exit 10)
    const until = await budgetSpentUntil(deps.db, budget);
    if (until !== null) throw locked(`too many wrong passwords for ${email}; try again after ${humanTimeUntil(until)}`, { code: 'password_rate_limited' });
    const check = await comparePassword(deps, candidates, password);
    if (check.ok) return;
    await withWriteTransaction(deps.db, (trx) => recordAudit(trx, deps, { action, outcome: 'failure', actor: who, target: who, reason: check.reason }));
    throw rejected(action.endsWith('.reauth') ? 'wrong password' : 'wrong email or password', { code: 'wrong_password' });
  }
  if (!reservation.reserved) {
    await withWriteTransaction(deps.db, (trx) =>
      recordAudit(trx, deps, { action, outcome: 'locked', actor: who, target: who, reason: 'too many wrong passwords' }),
    );
    throw locked(`too many wrong passwords for ${email}; try again after ${humanTimeUntil(reservation.until)}`, { code: 'password_rate_limited' });
  }
  let check: { ok: boolean; reason: string };
  try {
    check = await comparePassword(deps, candidates, password);
  } catch (e) {
    // no answer was given: the unit goes back
    await withWriteTransaction(deps.db, (trx) => refundReservation(trx, budget, reservation.windowStart));
    throw e;
  }
  if (check.ok) return withWriteTransaction(deps.db, (trx) => refundReservation(trx, budget, reservation.windowStart));
  await withWriteTransaction(deps.db, async (trx) => {
    await settleReservation(trx, budget, reservation.windowStart);
    await recordAudit(trx, deps, { action, outcome: 'failure', actor: who, target: who, reason: check.reason });
  });
  throw rejected(action.endsWith('.reauth') ? 'wrong password' : 'wrong email or password', { code: 'wrong_password' });
}

/**
 * Compare a password with the stored hash of each candidate account (one, or several that share an
 * email), or — for an unknown email — with a dummy hash of the same format and cost. The hash is
 * read here, for this comparison only: it is never part of a PortalUser. A hash portal-mfa cannot
 * verify is a wrong password to the person; the audit reason names its format for operators.
 */
async function comparePassword(deps: MfaDeps, candidates: PortalUser[], password: string): Promise<{ ok: boolean; reason: string }> {
  if (candidates.length === 0) {
    await verifyPassword(password, dummyHashLike(await samplePasswordHash(deps.db)));
    return { ok: false, reason: 'wrong password' };
  }
  let reason = 'wrong password';
  for (const c of candidates) {
    const result = await verifyPassword(password, await passwordHashOf(deps.db, c.id));
    if (result.ok) return { ok: true, reason: '' };
    if (!result.ok && result.reason !== 'mismatch' && candidates.length === 1)
      reason = `wrong password (the stored hash cannot be checked: ${result.format}, ${result.reason})`;
  }
  return { ok: false, reason };
}

/**
 * The portal's active condition (SPEC §5): a deactivated or soft-deleted account can neither act nor
 * be acted for. Told only after the right password (or the backend's vouching), so it reveals
 * nothing to a guesser.
 */
export async function refuseInactive(deps: MfaDeps, user: PortalUser, action: AuditAction, who: AuditParty = party(user)): Promise<void> {
  if (user.active) return;
  await withWriteTransaction(deps.db, (trx) =>
    recordAudit(trx, deps, { action, outcome: 'refused', actor: who, target: who, reason: 'account inactive in the portal' }),
  );
  throw forbidden(`${user.email} is not an active portal account`, { code: 'account_inactive', hint: 'the portal deactivated it: ask the portal team' });
}

/**
 * What a sign-in is for, recorded as the action of its audit rows (a wrong password for a login
 * reads `portal.login failure`). A fixed set, never free text, so a caller cannot write a sign-in
 * into the trail as some other event: `portal.login` and `portal.reauth` for a portal backend,
 * `session.login` for `portal-mfa login`, and the command a CLI `--as` sign-in is for.
 */
export const SIGN_IN_ACTIONS = [
  'portal.login',
  'session.login',
  'mfa.enroll',
  'mfa.replace',
  'mfa.verify',
  'mfa.disable',
  'mfa.status',
  'mfa.unlock',
  'device.list',
  'device.revoke',
  'recovery-codes.regenerate',
  'access-code.issue',
  'access-code.revoke',
  'org.list',
  'org.users',
  'org.policy',
  'org.disable-mfa',
  'org.remind',
  'users.list',
  'audit.read',
  'notify.list',
  'policy.show',
  'policy.set',
  'service-key.create',
  'service-key.list',
  'service-key.revoke',
] as const;

export type SignInAction = (typeof SIGN_IN_ACTIONS)[number];

/** The audit action of a re-authentication through the library (`reauthenticate`). */
const REAUTH_ACTION = 'portal.reauth';

export function checkSignInAction(raw: unknown, what = 'action'): SignInAction {
  if (typeof raw !== 'string' || !(SIGN_IN_ACTIONS as readonly string[]).includes(raw)) {
    throw usageError(`${what} must be one of the sign-in actions (e.g. portal.login), not ${JSON.stringify(String(raw).slice(0, 40))}`, {
      code: 'invalid_input',
      details: { allowed: [...SIGN_IN_ACTIONS] },
    });
  }
  return raw as SignInAction;
}

/**
 * The first step of every sign-in: the email as typed, the password (checkPassword: the budget, the
 * same answer and the same writes for an unknown email), then the account it names — never one of
 * two merged, never an inactive one. Returns the user and when the password was proven.
 */
export async function passwordStep(
  deps: MfaDeps,
  req: { email: unknown; password: unknown; action: SignInAction },
): Promise<{ user: PortalUser; passwordAt: number }> {
  // (library callers: ill-typed arguments are usage errors, never a TypeError or a hashing library's error)
  if (typeof req.email !== 'string') throw usageError('the email is missing', { code: 'invalid_input' });
  if (typeof req.password !== 'string' || req.password === '') throw usageError('the password is missing', { code: 'invalid_input' });
  const email = normaliseEmail(req.email);
  if (email === null) throw usageError(`not a valid email: ${JSON.stringify(req.email.slice(0, 60))}`, { code: 'invalid_input' });
  const found = await findUsersByEmailKey(deps.db, email);
  await checkPassword(deps, email, found, req.password, req.action);
  if (found.length > 1) {
    // told only to someone who knows one of the accounts' passwords: never merged, never guessed between
    const refusal = ambiguousAccount(email, found);
    await withWriteTransaction(deps.db, (trx) =>
      recordAudit(trx, deps, { action: req.action, outcome: 'refused', actor: { id: null, email }, target: { id: null, email }, reason: refusal.message }),
    );
    throw refusal;
  }
  const user = found[0]!;
  await refuseInactive(deps, user, req.action);
  return { user, passwordAt: deps.clock() };
}

/** How the first step was done, for the second (and for the Actor it makes). */
export interface FirstStep {
  user: PortalUser;
  /** when the password was proven here, or vouched as checked by the backend; null: neither */
  passwordAt: number | null;
  vouch?: { by: string; passwordCheckedAt: number | null };
  action: SignInAction;
  /** audit action of the second factor (default: action) */
  factorAction?: SignInAction;
}

/**
 * The second step of every sign-in, once the first is done: when the user has MFA, an explicit
 * proof if one was given, else the trusted-device token, else `ask()`; without MFA the first step
 * was the whole sign-in (an access code then restricts the actor to enrolment). signIn runs it right
 * after the password; completeSignIn (rules/challenge.ts) runs it for the user of a challenge.
 */
export async function secondFactorStep(deps: MfaDeps, first: FirstStep, sf: SecondFactorSource): Promise<Actor> {
  const u = first.user;
  const now = deps.clock();
  const made = (a: Omit<ActorInit, 'user' | 'via' | 'sessionId'>) =>
    makeActor({ ...a, user: u, via: first.vouch ? 'vouched' : 'password', sessionId: null }, first.passwordAt, deps.clock(), {
      vouch: first.vouch,
      fromSignIn: true,
    });
  const early = sf.precheck ? await precheckCommand(deps, u, sf.precheck, first.passwordAt ?? now) : null;
  // who proves it, as the audit rows name them (vouched for by the backend, when it was)
  const who = first.vouch ? vouchedCopy(u, first.vouch) : u;
  const factorAction = first.factorAction ?? first.action;
  if (sf.proof?.kind === 'access-code' && !sf.accessCodeAllowed) {
    throw usageError('a temporary access code is only accepted at login', {
      code: 'invalid_input',
      hint: 'run portal-mfa login and type it at the code prompt',
    });
  }
  const { active } = await scopeOf(deps).credentials(u.id);
  if (!active) {
    // the first step is this user's whole sign-in: a command that will fail says so now, before an access code is used
    if (early) throw early;
    // no MFA: only an access code means anything here (the user lost the phone and was reset)
    if (sf.proof?.kind === 'access-code') {
      const proven = await proveSecondFactor(deps, u, sf.proof, { actor: who, action: factorAction });
      return made({ factor: 'access-code', restriction: 'access-code', proven });
    }
    return made({ factor: 'none', restriction: null });
  }
  if (sf.deferred && sf.proof === undefined && !early) return made({ factor: 'deferred', restriction: null });
  let proof = sf.proof;
  if (proof === undefined && sf.deviceToken !== undefined) {
    const trustAllowed = (await enforcementFor(deps, u.id)).deviceTrustAllowed;
    const check = await checkTrustedDevice(deps, who, sf.deviceToken, trustAllowed, first.action);
    if (check.valid) {
      if (early) throw early;
      return made({ factor: 'device', restriction: null });
    }
    sf.onDeviceRefused?.(check.reason);
  }
  if (proof === undefined && sf.ask) {
    proof = await sf.ask();
    if (proof.kind === 'access-code' && !sf.accessCodeAllowed) throw usageError('a temporary access code is only accepted at login', { code: 'invalid_input' });
  }
  if (proof === undefined) {
    throw usageError(`${u.email} has MFA: a code is needed`, {
      code: 'second_factor_required',
      hint: 'pass --code CODE (or --code - for stdin), or log in first with portal-mfa login',
    });
  }
  if (early) {
    // a valid proof is looked at, not used up: the command fails anyway, and says why
    if (await wouldProveSecondFactor(deps, u, proof)) throw early;
    // an invalid one is refused and counted as always (should it win a race after all, the command still fails)
    await proveSecondFactor(deps, u, proof, { actor: who, action: factorAction });
    throw early;
  }
  const proven = await proveSecondFactor(deps, u, proof, { actor: who, action: factorAction });
  return made({ factor: proven.kind, restriction: proven.kind === 'access-code' ? 'access-code' : null, proven });
}

/**
 * Sign in as `email` in one call — for one command (`--as`) or a login: the password, then — when
 * the user has MFA — an explicit proof if one was given, else this machine's trusted-device token,
 * else `ask()`. The same two steps as beginSignIn/completeSignIn, without a stored challenge.
 */
export async function signIn(
  deps: MfaDeps,
  req: {
    email: string;
    password: string;
    secondFactor: SecondFactorSource;
    /** what the sign-in is for: one of SIGN_IN_ACTIONS, the action of its audit rows */
    action: SignInAction;
    /** audit action of the second factor (default: action) */
    factorAction?: SignInAction;
  },
): Promise<Actor> {
  if (req === null || typeof req !== 'object' || req.secondFactor === null || typeof req.secondFactor !== 'object')
    throw usageError('signIn needs { email, password, action, secondFactor }', { code: 'invalid_input' });
  const action = checkSignInAction(req.action);
  const factorAction = req.factorAction === undefined ? undefined : checkSignInAction(req.factorAction, 'factorAction');
  const { user, passwordAt } = await passwordStep(deps, { email: req.email, password: req.password, action });
  return secondFactorStep(deps, { user, passwordAt, action, factorAction }, req.secondFactor);
}

/** The actor behind a session token, or null when the session is unknown, ended or expired. */
export async function resumeSession(deps: MfaDeps, token: string): Promise<Actor | null> {
  if (typeof token !== 'string') throw usageError('the session token must be a string', { code: 'invalid_input' });
  const session = await findValidSession(deps.db, hashToken(token), deps.clock());
  if (!session) return null;
  const user = await findUserById(deps.db, session.user_id);
  if (!user?.active) return null;
  return makeActor(
    { user, via: 'session', factor: 'session', restriction: session.restriction === 'access-code' ? 'access-code' : null, sessionId: session.id },
    null,
    deps.clock(),
  );
}

/** What a portal backend may say about a user it signed in itself (its own login, SSO). */
export interface Vouch {
  /** the portal user id (as text) the backend vouches for */
  userId: string;
  /** who vouches: the backend's name for itself or its login (`portal-sso`), recorded on every audit row of the actor */
  vouchedBy: string;
  /**
   * when the backend itself checked this user's password (ms since the epoch): within reauthSeconds
   * it counts as the password re-entry of a sensitive action, recorded as vouched
   */
  passwordCheckedAt?: number;
}

/** The audit action of a refused vouch (an inactive account). */
const VOUCH_ACTION = 'portal.vouch';

/** Time a backend's clock may run ahead of ours when it says when it checked a password. */
const VOUCH_CLOCK_SKEW_MS = 60_000;

/** The vouch checked: a known, active user (refusals audited as vouched), a name for who vouches, a sane time. */
export async function checkVouch(
  deps: MfaDeps,
  v: Vouch,
  action: AuditAction,
): Promise<{ user: PortalUser; vouch: { by: string; passwordCheckedAt: number | null } }> {
  if (v === null || typeof v !== 'object' || typeof v.userId !== 'string' || v.userId === '' || v.userId.length > 128)
    throw usageError('a vouch needs { userId, vouchedBy }: the portal user id as text', { code: 'invalid_input' });
  if (typeof v.vouchedBy !== 'string' || !/^[\x21-\x7e][\x20-\x7e]{0,99}$/.test(v.vouchedBy) || v.vouchedBy.trim() !== v.vouchedBy)
    throw usageError('vouchedBy names who vouches: 1–100 printable ASCII characters', { code: 'invalid_input' });
  const at = v.passwordCheckedAt;
  if (at !== undefined && (typeof at !== 'number' || !Number.isFinite(at) || at > deps.clock() + VOUCH_CLOCK_SKEW_MS))
    throw usageError('passwordCheckedAt is when the backend checked the password: ms since the epoch, not in the future', { code: 'invalid_input' });
  const user = await findUserById(deps.db, v.userId);
  if (!user) throw notFound(`no portal user with id ${JSON.stringify(v.userId.slice(0, 40))}`, { code: 'user_not_found' });
  // a backend clock a little ahead is taken as now: the moment never lasts longer than reauthSeconds
  const vouch = { by: v.vouchedBy, passwordCheckedAt: at === undefined ? null : Math.min(at, deps.clock()) };
  await refuseInactive(deps, user, action, { ...party(user), vouchedBy: vouch.by, vouchedPasswordAt: vouch.passwordCheckedAt });
  return { user, vouch };
}

/**
 * A portal backend that authenticated the user itself (its own login, SSO) acts for that user id.
 * The actor may take the second-factor steps (status, enrol and confirm, verify, devices, recovery
 * codes) and passes admit like any other (rule 4, an inactive account, a role change); a sensitive
 * action additionally needs a fresh password check — the backend's `passwordCheckedAt`, a
 * re-authentication token, or the password. It never trusts a device. Every audit row it writes
 * records who vouched.
 */
export async function actorFor(deps: MfaDeps, v: Vouch): Promise<Actor> {
  const { user, vouch } = await checkVouch(deps, v, VOUCH_ACTION);
  return makeActor({ user, via: 'vouched', factor: 'vouched', restriction: null, sessionId: null }, vouch.passwordCheckedAt, deps.clock(), { vouch });
}

/**
 * Sensitive actions (SPEC §2) need the password again, session or not. A password proven by this
 * sign-in within reauthSeconds counts (`--as` gives it for this very command), as does one the
 * backend vouched it checked, or a re-authentication token presented to this actor.
 */
export async function reauthenticate(deps: MfaDeps, actor: Actor, password: string | undefined, action: CoreAuditAction): Promise<void> {
  const state = actorState(actor);
  const now = deps.clock();
  if (state.passwordAt !== null && now - state.passwordAt <= deps.settings.reauthSeconds * 1000) return;
  if (password === undefined) {
    throw usageError('enter your password to complete the process', {
      code: 'missing_input',
      hint: 'pass --password-stdin, or run on a terminal',
    });
  }
  if (typeof password !== 'string' || password === '') throw usageError('the password is missing', { code: 'invalid_input' });
  // the budget is the one sign-in counts against: keyed by the folded email, however the portal spells it
  await checkPassword(deps, foldEmail(actor.user.email.trim()), actor.user, password, `${action}.reauth`);
  state.passwordAt = now;
}

/** A re-authentication carried to later requests (see primitives/reauthToken.ts). */
export interface ReauthGrant {
  /** serialisable, tamper-proof, bound to the user; present it with `reauthenticate(actor, { reauthToken })` */
  reauthToken: string;
  /** when the password was confirmed */
  confirmedAt: number;
  /** after this (confirmedAt + reauthSeconds) the token proves nothing */
  expiresAt: number;
}

/**
 * The library's re-authentication: the password (checked as at every re-entry: the budget, audited
 * failures), or a token from an earlier one. Either leaves this actor confirmed as of the moment the
 * password was checked, and returns a token that carries that moment to later requests.
 */
export async function confirmPassword(deps: MfaDeps, actor: Actor, proof: { password: string } | { reauthToken: string }): Promise<ReauthGrant> {
  const state = actorState(actor);
  if (proof === null || typeof proof !== 'object') throw usageError('reauthenticate needs { password } or { reauthToken }', { code: 'invalid_input' });
  const keys = () => deps.keyring();
  if ('reauthToken' in proof && proof.reauthToken !== undefined) {
    if (typeof proof.reauthToken !== 'string') throw usageError('the re-authentication token must be a string', { code: 'invalid_input' });
    const now = deps.clock();
    const opened = openReauthToken(keys(), deps.db.prefix, proof.reauthToken);
    const refusal =
      opened === null
        ? 'invalid'
        : opened.userId !== actor.user.id
          ? 'for another user'
          : now > opened.expiresAt || now - opened.confirmedAt > deps.settings.reauthSeconds * 1000 || opened.confirmedAt > now + VOUCH_CLOCK_SKEW_MS
            ? 'expired'
            : null;
    if (refusal !== null || opened === null) {
      await withWriteTransaction(deps.db, (trx) =>
        recordAudit(trx, deps, {
          action: REAUTH_ACTION,
          outcome: 'refused',
          actor: party(actor.user),
          target: party(actor.user),
          reason: `re-authentication token ${refusal}`,
        }),
      );
      throw rejected('the re-authentication has expired or is not valid', { code: 'reauth_invalid', hint: 'enter the password again' });
    }
    if (state.passwordAt === null || state.passwordAt < opened.confirmedAt) state.passwordAt = opened.confirmedAt;
    return { reauthToken: proof.reauthToken, confirmedAt: opened.confirmedAt, expiresAt: opened.expiresAt };
  }
  if (!('password' in proof) || typeof proof.password !== 'string' || proof.password === '')
    throw usageError('reauthenticate needs { password } or { reauthToken }', { code: 'invalid_input' });
  await checkPassword(deps, foldEmail(actor.user.email.trim()), actor.user, proof.password, REAUTH_ACTION);
  const confirmedAt = deps.clock();
  state.passwordAt = confirmedAt;
  const claims = { userId: actor.user.id, confirmedAt, expiresAt: confirmedAt + deps.settings.reauthSeconds * 1000 };
  return { reauthToken: sealReauthToken(keys()[0]!, deps.db.prefix, claims), confirmedAt, expiresAt: claims.expiresAt };
}

export interface EnforcementState {
  /** organisations that require MFA now (grace over) */
  requiredBy: MembershipRow[];
  /** organisations that will require it when their grace period ends */
  inGrace: { membership: MembershipRow; until: number }[];
  /** false when any of the user's organisations turned device trust off */
  deviceTrustAllowed: boolean;
}

const DAY_MS = 86_400_000;

/**
 * A portal that requires MFA for everyone (SPEC §8 portal policy) is shown and enforced like one
 * more organisation the user belongs to, named `portal`.
 */
const PORTAL_SCOPE = 'portal';

/** Rule 4: which of the user's organisations (and the portal itself) require MFA, honouring grace periods. */
export async function enforcementFor(deps: MfaDeps, userId: UserId): Promise<EnforcementState> {
  const scope = scopeOf(deps);
  const memberships = await scope.memberships(userId);
  const portal = await scope.policy();
  if (portal.mfaRequired) {
    memberships.unshift({
      organisation_id: '',
      slug: PORTAL_SCOPE,
      name: 'the portal',
      role: 'member',
      joined_at: null,
      mfa_required: true,
      grace_days: portal.graceDays,
      mfa_required_since: portal.requiredSince,
      device_trust_allowed: true,
    });
  }
  const now = deps.clock();
  const requiredBy: MembershipRow[] = [];
  const inGrace: { membership: MembershipRow; until: number }[] = [];
  for (const m of memberships) {
    if (!m.mfa_required) continue;
    const start = Math.max(m.mfa_required_since ?? 0, m.joined_at ?? 0);
    const until = m.grace_days ? start + m.grace_days * DAY_MS : null;
    if (until !== null && until > now) inGrace.push({ membership: m, until });
    else requiredBy.push(m);
  }
  return { requiredBy, inGrace, deviceTrustAllowed: memberships.every((m) => m.device_trust_allowed) };
}

export type { Intent };

/**
 * Rule 4 for every path (SPEC §2): an actor who must enrol may only enrol, verify, see their own
 * status and log out; an actor who signed in with an access code must enrol or replace first; an
 * actor whose code is deferred to the command may only run that command.
 */
export async function admit(deps: MfaDeps, actor: Actor, intent: Intent): Promise<void> {
  actorState(actor);
  const refuse = async (reason: string, error: PortalMfaError): Promise<never> => {
    await withWriteTransaction(deps.db, (trx) =>
      recordAudit(trx, deps, { action: `gate.${intent}`, outcome: 'refused', actor: party(actor.user), target: party(actor.user), reason }),
    );
    throw error;
  };
  // an Actor stands only while the portal still says what it said at sign-in: a backend that keeps
  // one across requests loses it when the portal deactivates the account or changes its support role
  const current = await scopeOf(deps).user(actor.user.id);
  if (!current?.active) {
    await refuse(
      'account no longer active in the portal',
      forbidden(`${actor.user.email} is not an active portal account`, { code: 'account_inactive', hint: 'the portal deactivated it: ask the portal team' }),
    );
  }
  if (current!.role !== actor.user.role) {
    await refuse(
      'role changed since sign-in',
      forbidden(`${actor.user.email}'s role in the portal changed since signing in`, { code: 'forbidden', hint: 'sign in again' }),
    );
  }
  if (actor.factor === 'deferred' && !provisional.has(actor) && !['verify-self', 'enrol', 'replace'].includes(intent)) {
    await refuse(
      'second factor not given',
      usageError(`${actor.user.email} has MFA: a code is needed`, { code: 'second_factor_required', hint: 'pass --code CODE, or log in first' }),
    );
  }
  const { active } = await scopeOf(deps).credentials(actor.user.id);
  if (actor.restriction === 'access-code' && !['enrol', 'replace', 'status-self', 'logout'].includes(intent)) {
    const cmd = active ? 'portal-mfa replace' : 'portal-mfa enroll';
    await refuse(
      'signed in with an access code',
      wrongState(`${actor.user.email} signed in with a temporary access code and must set up a device first`, {
        code: 'enrolment_required',
        hint: `run ${cmd}`,
      }),
    );
  }
  if (active || ['enrol', 'verify-self', 'status-self', 'logout'].includes(intent)) return;
  const { requiredBy } = await enforcementFor(deps, actor.user.id);
  if (requiredBy.length > 0) {
    const slugs = requiredBy.map((m) => m.slug).join(', ');
    // the trail's reader is support or an admin: the reason in their words, not the rule's number
    await refuse(
      `has not set up MFA, which ${requiredBy.map((m) => (m.slug === PORTAL_SCOPE ? 'the portal' : m.slug)).join(', ')} requires`,
      wrongState(`${slugs} requires MFA and ${actor.user.email} has not enrolled`, {
        code: 'enrolment_required',
        hint: 'enrol first: portal-mfa enroll',
      }),
    );
  }
}

export interface OpenedSession {
  token: string;
  expiresAt: number;
}

/** Start a CLI session for a signed-in actor (after enrolment, when rule 4 demanded one). */
/** Rule 4 holds the user now: no active MFA, and an organisation (or the portal) requires it with its grace over. */
async function mustEnrolFirst(deps: MfaDeps, actor: Actor): Promise<boolean> {
  if ((await scopeOf(deps).credentials(actor.user.id)).active) return false;
  return (await enforcementFor(deps, actor.user.id)).requiredBy.length > 0;
}

export async function openSession(deps: MfaDeps, actor: Actor): Promise<OpenedSession> {
  // a session is opened by a sign-in, never extended from another session or made from a vouch alone
  if (!actorState(actor).fromSignIn) throw usageError('a session is opened by a sign-in, not from a session or a vouch', { code: 'invalid_input' });
  // Someone whom rule 4 makes enrol first gets a session too (signed in with the password: there is
  // no second factor yet): every call made with it runs admit, which lets it enrol, verify, show
  // status and log out, and nothing else until MFA is active — so a developer can enrol from a
  // remote terminal (SPEC §10). An actor whose code is still deferred never gets one.
  if (actor.factor === 'deferred') throw usageError(`${actor.user.email} has MFA: a code is needed`, { code: 'second_factor_required' });
  await admit(deps, actor, actor.restriction || (await mustEnrolFirst(deps, actor)) ? 'enrol' : 'other');
  const token = newToken(deps.random);
  const now = deps.clock();
  const expiresAt = now + deps.settings.sessionHours * 3_600_000;
  await withWriteTransaction(deps.db, async (trx) => {
    await insertSession(trx, {
      user_id: actor.user.id,
      token_hash: hashToken(token),
      created_at: now,
      expires_at: expiresAt,
      host: deps.origin.host.slice(0, 255),
      os_user: deps.origin.osUser.slice(0, 255),
      restriction: actor.restriction,
    });
    await recordAudit(trx, deps, {
      action: 'session.login',
      outcome: 'success',
      actor: party(actor.user),
      target: party(actor.user),
      detail: { secondFactor: actor.factor },
    });
  });
  return { token, expiresAt };
}

export async function closeSession(deps: MfaDeps, token: string): Promise<boolean> {
  const session = await findValidSession(deps.db, hashToken(token), deps.clock());
  return withWriteTransaction(deps.db, async (trx) => {
    const ended = await endSession(trx, hashToken(token), deps.clock());
    if (ended && session) {
      const user = await findUserById(trx, session.user_id);
      const who = user ? party(user) : null;
      await recordAudit(trx, deps, { action: 'session.logout', outcome: 'success', actor: who, target: who });
    }
    return ended;
  });
}

/** Whether a sensitive action by this actor needs the password typed again now. */
export function needsReauthentication(deps: MfaDeps, actor: Actor): boolean {
  const { passwordAt } = actorState(actor);
  return passwordAt === null || deps.clock() - passwordAt > deps.settings.reauthSeconds * 1000;
}
