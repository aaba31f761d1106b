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
import { party, recordAudit, type AuditAction, type CoreAuditAction, type Intent } from '../primitives/audit.js';
import { authorise, authoriseOrganisation, type AuthoriseRequest } from './authorise.js';
import type { MfaDeps } from '../deps.js';
import { foldEmail, normaliseEmail } from '../primitives/email.js';
import { passwordBudget } from './lockout.js';
import { forbidden, isPortalMfaError, locked, rejected, usageError, wrongState, type PortalMfaError } from '../errors.js';
import { dummyHashLike, verifyPassword } from '../primitives/passwords.js';
import { proveSecondFactor, wouldProveSecondFactor, type ProvenFactor, type SecondFactorProof } from './secondFactor.js';
import { hashToken, newToken } from '../primitives/tokens.js';
import { checkTrustedDevice } from './trustedDevices.js';
import { humanTimeUntil } from '../primitives/humanTime.js';

/**
 * Who is acting (SPEC §2). An Actor is only ever made here — by signIn (password and second
 * factor) or resumeSession (a CLI session token) — so a use case that receives one knows the
 * person proved who they are. Objects that did not come from here are refused.
 */
export interface Actor {
  readonly user: PortalUser;
  readonly via: 'session' | 'password';
  /** what proved the second factor in this sign-in */
  readonly factor: 'code' | 'recovery-code' | 'access-code' | 'device' | 'session' | 'none' | 'deferred';
  /** signed in with a temporary access code: enrol or replace before anything else */
  readonly restriction: 'access-code' | null;
  readonly sessionId: number | null;
  readonly proven?: ProvenFactor;
}

const issued = new WeakMap<Actor, { passwordAt: number | null; signedInAt: number; deviceTrusted: boolean }>();

function makeActor(a: Actor, passwordAt: number | null, now: number): Actor {
  // frozen all the way down: authorisation reads actor.user, so nothing a caller holds may change it
  // (the user is the core's own copy, read through the mapping, with no password hash in it)
  const actor = Object.freeze({ ...a, user: Object.freeze({ ...a.user }), proven: a.proven && Object.freeze({ ...a.proven }) });
  issued.set(actor, { passwordAt, signedInAt: now, deviceTrusted: false });
  return actor;
}

/** One trusted device per sign-in, and only soon after it (rule 14: right after the code). */
export function claimDeviceTrust(deps: MfaDeps, actor: Actor): boolean {
  const state = actorState(actor);
  if (state.deviceTrusted || deps.clock() - state.signedInAt > deps.settings.reauthSeconds * 1000) return false;
  state.deviceTrusted = true;
  return true;
}

function actorState(actor: Actor) {
  const state = issued.get(actor);
  if (!state) throw new TypeError('not an Actor from signIn or resumeSession');
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
  /** an organisation-scoped command (authoriseOrganisation) */
  organisation?: { orgSlug?: string; action: AuditAction; supportAllowed: boolean };
  /** a command on one user (authorise); canPick: an ambiguous organisation will be asked for (TTY) or does not matter */
  target?: Omit<AuthoriseRequest, 'pickOrganisation'> & { canPick: boolean };
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
    const intent = check.intent ?? (check.organisation || check.target ? 'other' : undefined);
    if (intent) await admit(deps, pending, intent);
    if (check.mfaActive && !(await scopeOf(deps).credentials(user.id)).active) {
      throw wrongState(`MFA is not enabled for ${user.email}, so there is no device to replace`, {
        code: 'mfa_not_enabled',
        hint: 'enrol with: portal-mfa enroll',
      });
    }
    if (check.organisation) await authoriseOrganisation(deps, pending, check.organisation);
    if (check.target) {
      const { canPick, ...target } = check.target;
      await authorise(deps, pending, { ...target, pickOrganisation: canPick ? async (choices) => choices[0]!.slug : undefined });
    }
    return null;
  } catch (e) {
    if (isPortalMfaError(e)) return e;
    throw e;
  } finally {
    issued.delete(pending);
  }
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
 * be acted for. Told only after the right password, so it reveals nothing to a guesser.
 */
async function refuseInactive(deps: MfaDeps, user: PortalUser, action: AuditAction): Promise<void> {
  if (user.active) return;
  await withWriteTransaction(deps.db, (trx) =>
    recordAudit(trx, deps, { action, outcome: 'refused', actor: party(user), target: party(user), reason: 'account inactive in the portal' }),
  );
  throw forbidden(`${user.email} is not an active portal account`, { code: 'account_inactive', hint: 'the portal deactivated it: ask the portal team' });
}

/**
 * Sign in as `email` for one command (`--as`) or a login: password, then — when the user has MFA —
 * an explicit proof if one was given, else this machine's trusted-device token, else `ask()`.
 */
export async function signIn(
  deps: MfaDeps,
  req: {
    email: string;
    password: string;
    secondFactor: SecondFactorSource;
    action: AuditAction /** audit action of the second factor (default: action) */;
    factorAction?: AuditAction;
  },
): Promise<Actor> {
  // (library callers: ill-typed arguments are usage errors, never a TypeError or a hashing library's error)
  if (typeof req?.email !== 'string') throw usageError('the email is missing', { code: 'invalid_input' });
  if (typeof req.password !== 'string' || req.password === '') throw usageError('the password is missing', { code: 'invalid_input' });
  if (typeof req.action !== 'string' || req.secondFactor === null || typeof req.secondFactor !== 'object')
    throw usageError('signIn needs { email, password, action, secondFactor }', { code: 'invalid_input' });
  const email = normaliseEmail(req.email);
  if (email === null) throw usageError(`not a valid email: ${JSON.stringify(req.email.slice(0, 60))}`);
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
  const user = found[0];
  await refuseInactive(deps, user!, req.action);
  const u = user!;
  const passwordAt = deps.clock();
  const early = req.secondFactor.precheck ? await precheckCommand(deps, u, req.secondFactor.precheck, passwordAt) : null;
  const base = { user: u, via: 'password' as const, restriction: null, sessionId: null };
  const sf = req.secondFactor;
  if (sf.proof?.kind === 'access-code' && !sf.accessCodeAllowed) {
    throw usageError('a temporary access code is only accepted at login', {
      code: 'invalid_input',
      hint: 'run portal-mfa login and type it at the code prompt',
    });
  }
  const { active } = await scopeOf(deps).credentials(u.id);
  if (!active) {
    // the password is this user's whole sign-in: a command that will fail says so now, before an access code is used
    if (early) throw early;
    // no MFA: only an access code means anything here (the user lost the phone and was reset)
    if (sf.proof?.kind === 'access-code') {
      const proven = await proveSecondFactor(deps, u, sf.proof, { actor: u, action: req.factorAction ?? req.action });
      return makeActor({ ...base, factor: 'access-code', restriction: 'access-code', proven }, passwordAt, passwordAt);
    }
    return makeActor({ ...base, factor: 'none' }, passwordAt, passwordAt);
  }
  if (sf.deferred && sf.proof === undefined && !early) return makeActor({ ...base, factor: 'deferred' }, passwordAt, passwordAt);
  let proof = sf.proof;
  if (proof === undefined && sf.deviceToken !== undefined) {
    const trustAllowed = (await enforcementFor(deps, u.id)).deviceTrustAllowed;
    const check = await checkTrustedDevice(deps, u, sf.deviceToken, trustAllowed, req.action);
    if (check.valid) {
      if (early) throw early;
      return makeActor({ ...base, factor: 'device' }, passwordAt, passwordAt);
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
    await proveSecondFactor(deps, u, proof, { actor: u, action: req.factorAction ?? req.action });
    throw early;
  }
  const proven = await proveSecondFactor(deps, u, proof, { actor: u, action: req.factorAction ?? req.action });
  return makeActor({ ...base, factor: proven.kind, restriction: proven.kind === 'access-code' ? 'access-code' : null, proven }, passwordAt, passwordAt);
}

/** The actor behind a CLI session token, or null when the session is unknown, ended or expired. */
export async function resumeSession(deps: MfaDeps, token: string): Promise<Actor | null> {
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

/**
 * Sensitive actions (SPEC §2) need the password again, session or not. A password proven by this
 * sign-in within reauthSeconds counts (`--as` gives it for this very command).
 */
export async function reauthenticate(deps: MfaDeps, actor: Actor, password: string | undefined, action: CoreAuditAction): Promise<void> {
  const state = actorState(actor);
  const now = deps.clock();
  if (state.passwordAt !== null && now - state.passwordAt <= deps.settings.reauthSeconds * 1000) return;
  if (password === undefined) {
    throw usageError('enter your password to complete the process', { code: 'missing_input', hint: 'pass --password-stdin, or run on a terminal' });
  }
  if (typeof password !== 'string' || password === '') throw usageError('the password is missing', { code: 'invalid_input' });
  // the budget is the one sign-in counts against: keyed by the folded email, however the portal spells it
  await checkPassword(deps, foldEmail(actor.user.email.trim()), actor.user, password, `${action}.reauth`);
  state.passwordAt = now;
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
    await refuse(
      'must enrol first (rule 4)',
      wrongState(`${requiredBy.map((m) => m.slug).join(', ')} requires MFA and ${actor.user.email} has not enrolled`, {
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
export async function openSession(deps: MfaDeps, actor: Actor): Promise<OpenedSession> {
  // a session is opened by a sign-in, never extended from another session
  if (actor.via !== 'password') throw usageError('a CLI session is opened by signing in with a password', { code: 'invalid_input' });
  await admit(deps, actor, actor.restriction ? 'enrol' : 'other');
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
