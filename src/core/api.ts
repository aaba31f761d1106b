/**
 * The portal-mfa core as one object: every use case takes the acting user (an Actor from signIn or
 * resumeSession) and does its own authorisation, re-authentication, lockout, audit and
 * notification. The CLI is a client of this API and nothing else; so is a portal backend
 * (`import { openPortalMfa } from 'portal-mfa'`).
 */
import { closeSession, needsReauthentication, openSession, resumeSession, signIn, type Actor } from './rules/actor.js';
import { readAuditTrail, type AuditFilter } from './usecases/auditTrail.js';
import type { MfaDeps } from './deps.js';
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

type Rest<F> = F extends (deps: MfaDeps, ...rest: infer R) => infer O ? (...rest: R) => O : never;

export interface ApiOptions {
  /**
   * The settings of the next call: the portal's stored policy as it is now (a long-running backend
   * sees support's changes), tightened by the caller's own. Omitted: `deps.settings` as given.
   */
  currentSettings?: () => Promise<MfaDeps['settings']>;
}

export function createPortalMfa(given: MfaDeps, opts: ApiOptions = {}) {
  let deps = given;
  const refresh = opts.currentSettings;
  // each call gets a request scope of its own: what it reads about its users is read once (src/core/requestScope.ts)
  function bind<F extends (deps: MfaDeps, ...rest: never[]) => unknown>(_: MfaDeps, f: F): Rest<F> {
    if (!refresh) return ((...rest: never[]) => f(withRequestScope(deps), ...rest)) as Rest<F>;
    return (async (...rest: never[]) => {
      deps = { ...given, settings: await refresh() };
      return f(withRequestScope(deps), ...rest);
    }) as Rest<F>;
  }
  return {
    // who is acting
    signIn: bind(deps, signIn),
    resumeSession: bind(deps, resumeSession),
    openSession: bind(deps, openSession),
    closeSession: bind(deps, closeSession),
    needsReauthentication: (actor: Actor) => needsReauthentication(deps, actor),
    // the user's own MFA
    startEnrolment: bind(deps, startEnrolment),
    startReplacement: bind(deps, startReplacement),
    confirmEnrolment: bind(deps, confirmEnrolment),
    verifyCode: bind(deps, verifyCode),
    diagnoseClock: bind(deps, diagnoseClock),
    trustThisDevice: bind(deps, trustThisDevice),
    regenerateRecoveryCodes: bind(deps, regenerateOwnRecoveryCodes),
    status: bind(deps, getStatus),
    listDevices: bind(deps, listTrustedDevices),
    revokeDevices: bind(deps, revokeDevices),
    disableMfa: bind(deps, disableMfa),
    // support and organisation administration
    unlock: bind(deps, unlockUser),
    issueAccessCode: bind(deps, issueAccessCodeFor),
    revokeAccessCode: bind(deps, revokeAccessCodeFor),
    listOrganisations: bind(deps, listOrganisations),
    listMembers: bind(deps, listMembers),
    listUsers: bind(deps, listUsers),
    showPolicy: bind(deps, showPolicy),
    setPolicy: bind(deps, setPolicy),
    remindMembers: bind(deps, remindMembers),
    disableMembers: bind(deps, disableMembers),
    readAuditTrail: (actor: Actor, filter: AuditFilter) => readAuditTrail(withRequestScope(deps), actor, filter),
    listOutbox: bind(deps, listOutbox),
    // the portal-wide policy (support)
    showPortalPolicy: bind(deps, showPortalPolicy),
    setPortalPolicy: bind(deps, setPortalPolicy),
  };
}

export type PortalMfa = ReturnType<typeof createPortalMfa>;
