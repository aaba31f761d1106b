/**
 * The portal-mfa core as one object: every use case takes the acting user (an Actor from a sign-in,
 * a session or a backend's vouch) and does its own authorisation, re-authentication, lockout, audit
 * and notification. The CLI is a client of this API and nothing else; so is a portal backend
 * (`import { openPortalMfa } from 'portal-mfa'`).
 */
import {
  actorFor,
  closeSession,
  confirmPassword,
  needsReauthentication,
  openSession,
  precheck,
  reauthenticate,
  resumeSession,
  signIn,
  type Actor,
  type ReauthGrant,
  type Vouch,
} from './rules/actor.js';
import { beginSignIn, completeSignIn, type BeginSignInRequest, type CompletedSignIn, type CompleteSignInRequest, type SignInStep } from './rules/challenge.js';
import { readAuditTrail } from './usecases/auditTrail.js';
import type { MfaDeps } from './deps.js';
import { checkRequestOrigin, type RequestOrigin } from './primitives/audit.js';
import { withRequestScope } from './requestScope.js';
import { listTrustedDevices, revokeDevices, trustThisDevice } from './usecases/devices.js';
import { disableMfa } from './usecases/disable.js';
import { confirmEnrolment, startEnrolment, startReplacement } from './usecases/enrolment.js';
import { disableMembers, listMembers, listOrganisations, listUsers, remindMembers, setPolicy, showPolicy } from './usecases/organisations.js';
import { listOutbox } from './notify/outboxReport.js';
import { setPortalPolicy, showPortalPolicy } from './usecases/portalPolicy.js';
import { getStatus } from './usecases/status.js';
import { issueAccessCodeFor, regenerateOwnRecoveryCodes, revokeAccessCodeFor, unlockUser } from './usecases/support.js';
import { diagnoseClock, verifyCode } from './usecases/verify.js';

/** A use case with its dependencies bound: the same parameters after `deps`. */
type Bound<F> = F extends (deps: MfaDeps, ...rest: infer R) => infer O ? (...rest: R) => O : never;

/**
 * portal-mfa for one process (or, from `forRequest`, for one web request). Every method checks its
 * own arguments and throws a `PortalMfaError` with a stable `code`. Besides the codes each method
 * names, any call may throw:
 * - `invalid_input` — an argument of the wrong type or shape;
 * - `config` — the database cannot be reached or went away (never a driver's own error),
 *   `mapping_missing` before `portal-mfa db init`, `closed` after `close()`;
 * and every call that takes an actor first runs the gate every use case runs (`admit`):
 * `account_inactive` (the portal deactivated the account since the actor was made), `forbidden`
 * (its support role changed), `enrolment_required` (rule 4: it must enrol first, or it signed in
 * with an access code and must set up a device), `second_factor_required` (a deferred actor that
 * has not verified its code). Refusals are audited; nothing returned holds a hash, secret or token
 * unless the method exists to hand one out once (enrolment secret, recovery codes, device token,
 * access code, session, challenge, re-authentication token).
 */
export interface PortalMfa {
  // ── who is acting ──────────────────────────────────────────────────────────

  /**
   * Step one of the two-page login. Checks the password — the wrong-password budget per email,
   * the same answer and the same writes for an unknown email, an inactive account refused — or,
   * with `{ userId, vouchedBy, passwordCheckedAt? }`, takes the backend's word for the first factor.
   * A user without MFA is signed in (`status: 'signed-in'`, an actor); otherwise it writes a
   * challenge row (only its hash) and an audit row (`<action>` / `challenge`) and returns the
   * challenge: single use, bound to the user, valid 5 minutes. `action` is one of SIGN_IN_ACTIONS
   * (default `portal.login`).
   * @throws `wrong_password`, `password_rate_limited`, `ambiguous_account`, `account_inactive`, `user_not_found` (vouch), `invalid_input` (also an action not in the set)
   */
  beginSignIn(req: BeginSignInRequest): Promise<SignInStep>;

  /**
   * Step two: completes a challenge with a code, recovery code, access code or trusted-device
   * token, and with `trustDevice` (after a code or recovery code) trusts this device, returning its
   * token once. One completion at a time holds the challenge: success uses it up (of parallel
   * completions exactly one wins); a wrong proof gives it back and counts as a failure (lockout,
   * audit, lock notice). An access code leaves the actor restricted to enrolment or replacement.
   * @throws `challenge_invalid` (expired, used, unknown, tampered, or being completed by a parallel request), `wrong_code`, `replayed_code`, `wrong_recovery_code`, `wrong_access_code`, `device_not_trusted` (details.reason), `locked`, `hard_locked`, `device_trust_off`, `account_inactive`, `invalid_input`
   */
  completeSignIn(req: CompleteSignInRequest): Promise<CompletedSignIn>;

  /**
   * Password and second factor in one call (the CLI's sign-in): the same two steps without a
   * stored challenge. `secondFactor` may give a proof, a device token, an `ask()` callback, or
   * `deferred: true` (the next `verifyCode` on the actor themself proves the code and makes it a
   * full actor).
   * @throws as beginSignIn and completeSignIn (without `challenge_invalid`), and `second_factor_required` when a code is needed and none was given
   */
  signIn: Bound<typeof signIn>;

  /**
   * For a backend that authenticated the user itself (its own login, SSO): an actor for that
   * portal user id, `via: 'vouched'`. It may take the second-factor steps; a sensitive action also
   * needs a fresh password check (`passwordCheckedAt` within reauthSeconds, a re-authentication
   * token, or the password). It never trusts a device or opens a session. Every audit row it writes
   * records `vouchedBy` (and `passwordCheckedAt`). Writes nothing itself (an inactive account's
   * refusal is audited).
   * @throws `user_not_found`, `account_inactive`, `invalid_input` (empty or non-printable vouchedBy, a passwordCheckedAt in the future)
   */
  actorFor(vouch: Vouch): Promise<Actor>;

  /**
   * The re-authentication of a sensitive action, carried across requests. With `{ password }` it
   * checks the password (the same budget as sign-in; a failure is audited as `portal.reauth`); with
   * `{ reauthToken }` it checks a token from an earlier call (HMAC under the key ring, bound to this
   * user, valid reauthSeconds after the password). Either way this actor then counts as having
   * re-entered the password at that moment, and the returned token carries it to later requests.
   * @throws `wrong_password`, `password_rate_limited` (password); `reauth_invalid` (token: tampered, expired, another user's, another key ring — audited); `invalid_input`
   */
  reauthenticate(actor: Actor, proof: { password: string } | { reauthToken: string }): Promise<ReauthGrant>;

  /**
   * The actor of a session token (from openSession), or null when it is unknown, ended or expired
   * (or the account is no longer active). Writes nothing.
   * @throws `invalid_input`
   */
  resumeSession: Bound<typeof resumeSession>;

  /**
   * Opens a session (12 hours by default) for an actor made by a sign-in — not by a session or a
   * vouch alone; the token is returned once, stored as a hash; audited `session.login`. An actor
   * restricted by an access code opens a restricted session.
   * @throws `invalid_input` (not from a sign-in), and the gate's codes
   */
  openSession: Bound<typeof openSession>;

  /**
   * Ends a session; true when it was open. Audited `session.logout`.
   */
  closeSession: Bound<typeof closeSession>;

  /** Whether a sensitive action by this actor needs the password (or a token) again now. Reads nothing. */
  needsReauthentication(actor: Actor): boolean;

  /**
   * The password again before a sensitive action, checked now — for a client that asks for it at a
   * prompt and asks again when it is wrong (the CLI). The same check the use case would make (the
   * sign-in's budget; a failure audited as `<action>.reauth`, e.g. `mfa.unlock.reauth`); the actor
   * then counts as having re-entered it, for reauthSeconds. No token: within one process only.
   * @throws `wrong_password`, `password_rate_limited`, `missing_input`, `invalid_input`
   */
  reenterPassword: Bound<typeof reauthenticate>;

  /**
   * What a command will check anyway, for an actor already signed in (a CLI session): rule 4, the
   * organisation, authority over the target (ticket, protected accounts) and the state the command
   * needs it in — throwing the refusal the use case would (audited the same way). Run it before
   * asking for the password again; `signIn` runs the same checks (`secondFactor.precheck`) before a
   * code is used.
   */
  precheck: Bound<typeof precheck>;

  /**
   * The same API bound to one web request: `ip` (IPv4/IPv6), `userAgent` (≤ 1024 characters) and
   * `requestId` (≤ 200) are recorded on every audit row its calls write (the audit table's
   * `request` column, with who vouched for the actor). The host and OS user stay the process's.
   * @throws `invalid_input` (synchronously: not an IP address, too long, control characters)
   */
  forRequest(origin: RequestOrigin): PortalMfa;

  // ── the user's own MFA ─────────────────────────────────────────────────────

  /**
   * Rule 3: re-authentication, then a new pending secret (the old state governs login until
   * confirmed); returns the secret and otpauth URI once. Audited `mfa.enroll.start`.
   * @throws `missing_input` (the password is needed again), `wrong_password`, `password_rate_limited`, `mfa_already_active`
   */
  startEnrolment: Bound<typeof startEnrolment>;

  /**
   * Rule 7: proves the old device (a code, unless this sign-in used one or an access code),
   * re-authentication, then a pending new secret; the old one works until confirmed.
   * @throws `missing_input`, `wrong_password`, `mfa_not_enabled`, `second_factor_required` (old device code needed), `wrong_code`, `replayed_code`, `locked`, `hard_locked`
   */
  startReplacement: Bound<typeof startReplacement>;

  /**
   * Confirms the pending enrolment or replacement with a code from the new device; only then is it
   * active. A first enrolment returns ten recovery codes once; a replacement revokes trusted
   * devices and ends the user's other sessions. Audited and notified.
   * @throws `missing_input`, `wrong_password`, `nothing_pending`, `wrong_code`, `locked`, `hard_locked`
   */
  confirmEnrolment: Bound<typeof confirmEnrolment>;

  /**
   * Checks a code or recovery code (the login's second step, or support confirming a caller holds
   * the device); on the actor themself it is also their second factor (a deferred actor becomes a
   * full one) and may trust this device. Audited `mfa.verify`.
   * @throws `wrong_code`, `replayed_code`, `wrong_recovery_code`, `locked`, `hard_locked`, `mfa_not_enabled`, `trust_not_self`, `device_trust_off`, `user_not_found`/`forbidden` (not yours to verify), `ambiguous_organisation`
   */
  verifyCode: Bound<typeof verifyCode>;

  /**
   * Rule 12: the drift of a code without accepting it; burns the matched step and earlier ones; a
   * miss counts as a failure; 10 per user per hour.
   * @throws `rate_limited`, `locked`, `hard_locked`, `mfa_not_enabled`, `user_not_found`/`forbidden`
   */
  diagnoseClock: Bound<typeof diagnoseClock>;

  /**
   * Rule 14: trusts this device for the actor themself, right after a code or recovery code of this
   * sign-in, once; the token is returned once. Audited and notified.
   * @throws `second_factor_required` (not right after a code), `device_trust_off`
   */
  trustThisDevice: Bound<typeof trustThisDevice>;

  /**
   * Ten new single-use recovery codes, shown once (the old ones stop working); re-authentication
   * first. Audited and notified.
   * @throws `missing_input`, `wrong_password`, `mfa_not_enabled`
   */
  regenerateRecoveryCodes: Bound<typeof regenerateOwnRecoveryCodes>;

  /**
   * A user's MFA state (none / pending / active, failures, lock, devices, recovery codes left,
   * enrolment deadlines). Writes nothing but refusals.
   * @throws `user_not_found`/`forbidden` (not yours to see), `ambiguous_organisation`
   */
  status: Bound<typeof getStatus>;

  /**
   * A user's trusted devices (label, created, last used, expiry).
   * @throws `user_not_found`/`forbidden`
   */
  listDevices: Bound<typeof listTrustedDevices>;

  /**
   * Revokes devices by id or all of a user's; re-authentication; one transaction, audited and
   * notified per owner.
   * @throws `device_not_found`, `missing_input`, `wrong_password`, `ticket_required`, `protected_account`, `forbidden`
   */
  revokeDevices: Bound<typeof revokeDevices>;

  /**
   * Rule 8: removes the secret, pending enrolment, recovery codes and trusted devices in one
   * transaction, after re-authentication; support needs a ticket, an org admin acts only on
   * members. Audited and notified.
   * @throws `missing_input`, `wrong_password`, `mfa_not_enabled`, `ticket_required`, `protected_account`, `user_not_found`/`forbidden`, `ambiguous_organisation`
   */
  disableMfa: Bound<typeof disableMfa>;

  // ── support and organisation administration ───────────────────────────────

  /**
   * Clears a lock or hard lock and the failure count (support with a ticket, or an org admin for a
   * non-protected member); re-authentication. Audited and notified.
   * @throws `not_locked`, `missing_input`, `wrong_password`, `ticket_required`, `protected_account`, `user_not_found`/`forbidden`
   */
  unlock: Bound<typeof unlockUser>;

  /**
   * A temporary access code for a user (shown once, stored hashed; one live code per user);
   * re-authentication. Audited and notified.
   * @throws `invalid_input` (minutes 1–10080, uses 1–10), `missing_input`, `wrong_password`, `ticket_required`, `protected_account`, `user_not_found`/`forbidden`
   */
  issueAccessCode: Bound<typeof issueAccessCodeFor>;

  /**
   * Revokes a user's live access code; re-authentication. Audited.
   * @throws `nothing_pending`, `missing_input`, `wrong_password`, `ticket_required`, `protected_account`, `user_not_found`/`forbidden`
   */
  revokeAccessCode: Bound<typeof revokeAccessCodeFor>;

  /** The organisations the actor administers (support: all). */
  listOrganisations: Bound<typeof listOrganisations>;

  /**
   * An organisation's members with their MFA state, streamed (`for await`, or `.pages()`).
   * @throws `organisation_not_found` (support), `forbidden`, `ambiguous_organisation`
   */
  listMembers: Bound<typeof listMembers>;

  /**
   * Support only: every portal user with MFA state, streamed.
   * @throws `forbidden`
   */
  listUsers: Bound<typeof listUsers>;

  /**
   * An organisation's MFA policy and who lacks MFA.
   * @throws `organisation_not_found`, `forbidden`, `ambiguous_organisation`
   */
  showPolicy: Bound<typeof showPolicy>;

  /**
   * Changes an organisation's policy (require MFA, grace, device trust); re-authentication;
   * audited, members notified.
   * @throws `invalid_input`, `missing_input`, `wrong_password`, `organisation_not_found`, `forbidden`
   */
  setPolicy: Bound<typeof setPolicy>;

  /**
   * Queues a reminder to every member without MFA (with their deadline).
   * @throws `organisation_not_found`, `forbidden`
   */
  remindMembers: Bound<typeof remindMembers>;

  /**
   * Disables MFA of many members, one transaction per chunk, one result per user; re-authentication once.
   * @throws `missing_input`, `wrong_password`, `ticket_required`, `organisation_not_found`, `forbidden`
   */
  disableMembers: Bound<typeof disableMembers>;

  /**
   * The audit trail as the actor may see it (support: all; org admins: their organisations; users:
   * their own), newest first, with each row's request origin and vouch. `limit` is 1–100000.
   * @throws `invalid_input` (limit, since, action), `organisation_not_found` (support), `forbidden`, `user_not_found`
   */
  readAuditTrail: Bound<typeof readAuditTrail>;

  /**
   * Support: the notification outbox.
   * @throws `forbidden`, `user_not_found`
   */
  listOutbox: Bound<typeof listOutbox>;

  // ── the portal-wide policy (support) ───────────────────────────────────────

  /** The portal-wide policy: requirement, limits, delivery. @throws `forbidden` */
  showPortalPolicy: Bound<typeof showPortalPolicy>;

  /**
   * Changes the portal-wide policy (support, with a ticket); re-authentication; audited.
   * @throws `ticket_required`, `invalid_config`, `missing_input`, `wrong_password`, `forbidden`
   */
  setPortalPolicy: Bound<typeof setPortalPolicy>;
}

export interface ApiOptions {
  /**
   * The settings of the next call: the portal's stored policy as it is now (a long-running backend
   * sees support's changes), tightened by the caller's own. Omitted: `deps.settings` as given.
   */
  currentSettings?: () => Promise<MfaDeps['settings']>;
}

export function createPortalMfa(given: MfaDeps, opts: ApiOptions = {}): PortalMfa {
  const refresh = opts.currentSettings;
  // the settings of the latest call (needsReauthentication reads them without a call of its own)
  let settings = given.settings;
  const current = async (): Promise<MfaDeps> => {
    if (refresh) settings = await refresh();
    return { ...given, settings };
  };
  // each call gets a request scope of its own: what it reads about its users is read once (src/core/requestScope.ts)
  function bind<F extends (deps: MfaDeps, ...rest: never[]) => Promise<unknown>>(f: F): Bound<F> {
    if (!refresh) return ((...rest: never[]) => f(withRequestScope(given), ...rest)) as Bound<F>;
    return (async (...rest: never[]) => f(withRequestScope(await current()), ...rest)) as Bound<F>;
  }
  return {
    // who is acting
    beginSignIn: bind(beginSignIn),
    completeSignIn: bind(completeSignIn),
    signIn: bind(signIn),
    actorFor: bind(actorFor),
    reauthenticate: bind(confirmPassword),
    resumeSession: bind(resumeSession),
    openSession: bind(openSession),
    closeSession: bind(closeSession),
    needsReauthentication: (actor: Actor) => needsReauthentication(refresh ? { ...given, settings } : given, actor),
    reenterPassword: bind(reauthenticate),
    precheck: bind(precheck),
    forRequest: (origin: RequestOrigin) => createPortalMfa({ ...given, request: checkRequestOrigin(origin) }, opts),
    // the user's own MFA
    startEnrolment: bind(startEnrolment),
    startReplacement: bind(startReplacement),
    confirmEnrolment: bind(confirmEnrolment),
    verifyCode: bind(verifyCode),
    diagnoseClock: bind(diagnoseClock),
    trustThisDevice: bind(trustThisDevice),
    regenerateRecoveryCodes: bind(regenerateOwnRecoveryCodes),
    status: bind(getStatus),
    listDevices: bind(listTrustedDevices),
    revokeDevices: bind(revokeDevices),
    disableMfa: bind(disableMfa),
    // support and organisation administration
    unlock: bind(unlockUser),
    issueAccessCode: bind(issueAccessCodeFor),
    revokeAccessCode: bind(revokeAccessCodeFor),
    listOrganisations: bind(listOrganisations),
    listMembers: bind(listMembers),
    listUsers: bind(listUsers),
    showPolicy: bind(showPolicy),
    setPolicy: bind(setPolicy),
    remindMembers: bind(remindMembers),
    disableMembers: bind(disableMembers),
    readAuditTrail: bind(readAuditTrail),
    listOutbox: bind(listOutbox),
    // the portal-wide policy (support)
    showPortalPolicy: bind(showPortalPolicy),
    setPortalPolicy: bind(setPortalPolicy),
  };
}
