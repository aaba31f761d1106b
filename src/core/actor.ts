import { credentialsOfUser } from '../db/credentialRepository.js';
import { budgetSpentUntil, ensureBudget, takeFromBudget } from '../db/rateLimitRepository.js';
import { endSession, findValidSession, insertSession } from '../db/sessionRepository.js';
import { withWriteTransaction } from '../db/transaction.js';
import { findUserByEmail, findUserById, membershipsOfUser, samplePasswordHash, type MembershipRow, type UserRow } from '../db/userRepository.js';
import { party, recordAudit } from './audit.js';
import type { MfaDeps } from './deps.js';
import { normaliseEmail } from './email.js';
import { locked, rejected, usageError, wrongState, type PortalMfaError } from './errors.js';
import { dummyHashLike, verifyPassword } from './passwords.js';
import { proveSecondFactor, type ProvenFactor, type SecondFactorProof } from './secondFactor.js';
import { hashToken, newToken } from './tokens.js';
import { checkTrustedDevice } from './trustedDevices.js';
import { humanTimeUntil } from './humanTime.js';

/**
 * Who is acting (SPEC §2). An Actor is only ever made here — by signIn (password and second
 * factor) or resumeSession (a CLI session token) — so a use case that receives one knows the
 * person proved who they are. Objects that did not come from here are refused.
 */
export interface Actor {
  readonly user: UserRow;
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
  const actor = Object.freeze({ ...a });
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
}

const PASSWORD_BUCKET = 'password';

/**
 * The password check of every path (sign-in and re-entry): the same message, the same bcrypt cost
 * and the same database writes whether or not the user exists (no enumeration). Wrong passwords
 * are counted per email in an atomic budget; once passwordFailures are spent within the window the
 * answer is exit 4 — also for a right password that raced a parallel burst of wrong ones (it is
 * checked again after bcrypt). Right passwords write nothing, so parallel scripts of one admin are
 * never slowed or refused.
 */
async function checkPassword(deps: MfaDeps, email: string, user: UserRow | undefined, password: string, action: string): Promise<void> {
  const s = deps.settings;
  const budget = { subject: email, bucket: PASSWORD_BUCKET, limit: s.passwordFailures, windowMs: s.passwordWindowMinutes * 60_000, now: deps.clock() };
  const who = user ? party(user) : { id: null, email };
  const refuseIfSpent = async () => {
    const until = await budgetSpentUntil(deps.knex, budget);
    if (until === null) return;
    await withWriteTransaction(deps.knex, (trx) =>
      recordAudit(trx, deps, { action, outcome: 'locked', actor: who, target: who, reason: 'too many wrong passwords' }),
    );
    throw locked(`too many wrong passwords for ${email}; try again after ${humanTimeUntil(until)}`, { code: 'password_rate_limited' });
  };
  await refuseIfSpent();
  const hash = user?.password_hash ?? dummyHashLike(await samplePasswordHash(deps.knex));
  const ok = (await verifyPassword(password, hash)).ok && user !== undefined;
  if (ok) return refuseIfSpent();
  await ensureBudget(deps.knex, budget);
  await withWriteTransaction(deps.knex, async (trx) => {
    await takeFromBudget(trx, budget);
    await recordAudit(trx, deps, { action, outcome: 'failure', actor: who, target: who, reason: 'wrong password' });
  });
  throw rejected(action.endsWith('.reauth') ? 'wrong password' : 'wrong email or password', { code: 'wrong_password' });
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
    action: string /** audit action of the second factor (default: action) */;
    factorAction?: string;
  },
): Promise<Actor> {
  const email = normaliseEmail(req.email);
  if (email === null) throw usageError(`not a valid email: ${JSON.stringify(req.email.slice(0, 60))}`);
  const user = await findUserByEmail(deps.knex, email);
  await checkPassword(deps, email, user, req.password, req.action);
  const u = user!;
  const passwordAt = deps.clock();
  const base = { user: u, via: 'password' as const, restriction: null, sessionId: null };
  const sf = req.secondFactor;
  if (sf.proof?.kind === 'access-code' && !sf.accessCodeAllowed) {
    throw usageError('a temporary access code is only accepted at login', {
      code: 'invalid_input',
      hint: 'run portal-mfa login and type it at the code prompt',
    });
  }
  const { active } = await credentialsOfUser(deps.knex, u.id);
  if (!active) {
    // no MFA: only an access code means anything here (the user lost the phone and was reset)
    if (sf.proof?.kind === 'access-code') {
      const proven = await proveSecondFactor(deps, u, sf.proof, { actor: u, action: req.factorAction ?? req.action });
      return makeActor({ ...base, factor: 'access-code', restriction: 'access-code', proven }, passwordAt, passwordAt);
    }
    return makeActor({ ...base, factor: 'none' }, passwordAt, passwordAt);
  }
  if (sf.deferred && sf.proof === undefined) return makeActor({ ...base, factor: 'deferred' }, passwordAt, passwordAt);
  let proof = sf.proof;
  if (proof === undefined && sf.deviceToken !== undefined) {
    const trustAllowed = (await enforcementFor(deps, u.id)).deviceTrustAllowed;
    const check = await checkTrustedDevice(deps, u, sf.deviceToken, trustAllowed, req.action);
    if (check.valid) return makeActor({ ...base, factor: 'device' }, passwordAt, passwordAt);
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
  const proven = await proveSecondFactor(deps, u, proof, { actor: u, action: req.factorAction ?? req.action });
  return makeActor({ ...base, factor: proven.kind, restriction: proven.kind === 'access-code' ? 'access-code' : null, proven }, passwordAt, passwordAt);
}

/** The actor behind a CLI session token, or null when the session is unknown, ended or expired. */
export async function resumeSession(deps: MfaDeps, token: string): Promise<Actor | null> {
  const session = await findValidSession(deps.knex, hashToken(token), deps.clock());
  if (!session) return null;
  const user = await findUserById(deps.knex, session.user_id);
  if (!user) return null;
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
export async function reauthenticate(deps: MfaDeps, actor: Actor, password: string | undefined, action: string): Promise<void> {
  const state = actorState(actor);
  const now = deps.clock();
  if (state.passwordAt !== null && now - state.passwordAt <= deps.settings.reauthSeconds * 1000) return;
  if (password === undefined) {
    throw usageError('enter your password to complete the process', { code: 'missing_input', hint: 'pass --password-stdin, or run on a terminal' });
  }
  await checkPassword(deps, actor.user.email, actor.user, password, `${action}.reauth`);
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

/** Rule 4: which of the user's organisations require MFA, honouring grace periods. */
export async function enforcementFor(deps: MfaDeps, userId: number): Promise<EnforcementState> {
  const memberships = await membershipsOfUser(deps.knex, userId);
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

/** What a use case is, for rule 4: the few things an actor who must enrol may still do. */
export type Intent = 'enrol' | 'replace' | 'verify-self' | 'status-self' | 'logout' | 'other';

/**
 * Rule 4 for every path (SPEC §2): an actor who must enrol may only enrol, verify, see their own
 * status and log out; an actor who signed in with an access code must enrol or replace first; an
 * actor whose code is deferred to the command may only run that command.
 */
export async function admit(deps: MfaDeps, actor: Actor, intent: Intent): Promise<void> {
  actorState(actor);
  const refuse = async (reason: string, error: PortalMfaError): Promise<never> => {
    await withWriteTransaction(deps.knex, (trx) =>
      recordAudit(trx, deps, { action: `gate.${intent}`, outcome: 'refused', actor: party(actor.user), target: party(actor.user), reason }),
    );
    throw error;
  };
  if (actor.factor === 'deferred' && !['verify-self', 'enrol', 'replace'].includes(intent)) {
    await refuse(
      'second factor not given',
      usageError(`${actor.user.email} has MFA: a code is needed`, { code: 'second_factor_required', hint: 'pass --code CODE, or log in first' }),
    );
  }
  const { active } = await credentialsOfUser(deps.knex, actor.user.id);
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
  await withWriteTransaction(deps.knex, async (trx) => {
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
  const session = await findValidSession(deps.knex, hashToken(token), deps.clock());
  return withWriteTransaction(deps.knex, async (trx) => {
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
