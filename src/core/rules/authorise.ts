import type { MembershipRow, OrganisationRow, PortalUser } from '../domain.js';
import { findOrganisationBySlug, findUserById, findUsersByEmailKey } from '../../db/identity/reader.js';
import { withWriteTransaction } from '../../db/transaction.js';
import { ambiguousAccount, isOwnEmail } from './identity.js';
import type { Actor } from './actor.js';
import { party, recordAudit, type AuditAction, type AuditEvent, type AuditParty } from '../primitives/audit.js';
import type { MfaDeps } from '../deps.js';
import { normaliseEmail } from '../primitives/email.js';
import { organisationOf, scopeOf } from '../requestScope.js';
import { forbidden, notFound, usageError, type PortalMfaError } from '../errors.js';

/** What the actor wants to do to the target (SPEC §2). */
export type Permission =
  /** status, device list, audit: read-only */
  | 'view'
  /** verify or diagnose the target's code */
  | 'verify'
  /** disable / reset MFA — protected accounts, ticket for support */
  | 'disable'
  /** clear a lockout — protected accounts, ticket for support, never self */
  | 'unlock'
  /** issue or revoke a temporary access code — protected accounts, ticket for support, never self */
  | 'access-code'
  /** revoke trusted devices — ticket for support */
  | 'revoke-devices';

const STATE_CHANGES: ReadonlySet<Permission> = new Set(['disable', 'unlock', 'access-code', 'revoke-devices']);
// 'verify' too: wrong codes count against the target, so an admin could lock out a fellow admin
const PROTECTED: ReadonlySet<Permission> = new Set(['disable', 'unlock', 'access-code', 'verify']);
const NOT_ON_SELF: ReadonlySet<Permission> = new Set(['unlock', 'access-code']);

export interface OrganisationRef {
  id: string;
  slug: string;
}

export interface Authorisation {
  target: PortalUser;
  via: 'self' | 'support' | 'org-admin';
  organisation: OrganisationRef | null;
  /** the ticket reference, required for support's changes to another user */
  ticket: string | null;
}

export type OrganisationPicker = (choices: { slug: string; name: string }[]) => Promise<string>;

export interface AuthoriseRequest {
  /** the user acted on; omitted: the actor themself */
  targetEmail?: string;
  permission: Permission;
  /** audit action of the use case, e.g. 'mfa.disable' */
  action: AuditAction;
  /** the organisation named with --org */
  orgSlug?: string;
  ticket?: string | null;
  /** ask which organisation when the actor administers several of the target's (TTY only) */
  pickOrganisation?: OrganisationPicker;
}

export function validateSlug(raw: string): string {
  const slug = raw.trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(slug)) {
    throw usageError(`not a valid organisation slug: ${JSON.stringify(raw.length > 40 ? raw.slice(0, 40) + '…' : raw)}`);
  }
  return slug;
}

export function parseTargetEmail(raw: string): string {
  if (raw.trim() === '') throw usageError('the user email is empty');
  // a portal account by its id (`id:4410`): how support names one of two accounts sharing an email
  const byId = /^id:([A-Za-z0-9_.:@-]{1,128})$/.exec(raw.trim());
  if (byId) return `id:${byId[1]}`;
  const email = normaliseEmail(raw);
  if (email === null) throw usageError(`not a valid user email: ${JSON.stringify(raw.length > 60 ? raw.slice(0, 60) + '…' : raw)}`);
  return email;
}

/** Support representatives: the portal's role, read through the mapping. The one test of it. */
export const isSupport = (user: Pick<PortalUser, 'role'>): boolean => user.role === 'support';

/** Write a refusal's audit row (rule 10), then hand back the error to throw. */
async function audited(deps: MfaDeps, actor: Actor, action: AuditAction, error: PortalMfaError, audit: RefusalAudit | null): Promise<PortalMfaError> {
  if (audit) await withWriteTransaction(deps.db, (trx) => recordAudit(trx, deps, refusalEvent(actor.user, action, audit)));
  return error;
}

/** A refusal's audit row. */
export function refusalEvent(actor: PortalUser, action: AuditAction, a: RefusalAudit): AuditEvent {
  return {
    action,
    outcome: 'refused',
    actor: party(actor),
    target: a.target,
    organisation: a.organisation,
    ticket: a.ticket ?? null,
    reason: a.reason,
    detail: a.supportReason === undefined ? null : { [SUPPORT_REASON]: a.supportReason },
  };
}

/**
 * The detail key of a refusal's reason for support only: the reason everyone else reads is the same
 * for an existing and an unknown user ("may not act on this user", no enumeration).
 */
export const SUPPORT_REASON = 'supportReason';

/** What the decision is taken on, for one target: read for one user (authorise), or for a chunk of users at once (`org disable-mfa`). */
export interface TargetFacts {
  /** what was typed: the folded email, or `id:…` */
  email: string;
  /** the accounts it names: none, one, or several whose emails fold together (never merged) */
  accounts: readonly PortalUser[];
  /** that account is a member of the organisation acted in */
  member: boolean;
  /** that account administers an organisation (a protected account) */
  adminAnywhere: boolean;
}

/** What the actor acts as, and in which organisation. */
export interface Standing {
  /** support (the portal's role), an admin of `organisation`, or neither (an organisation named that they do not administer) */
  as: 'support' | 'org-admin' | 'none';
  organisation: OrganisationRef | null;
  /** why there is no standing (for support's eyes in the trail) */
  noStanding?: string;
  /** only members of the organisation are acted on, whoever acts (`org disable-mfa`) */
  membersOnly?: boolean;
}

export interface RefusalAudit {
  target: AuditParty | null;
  organisation: OrganisationRef | null;
  ticket?: string | null;
  reason: string;
  /** why, for support's eyes only (readAuditTrail shows it to no one else) */
  supportReason?: string;
}

export interface Refusal {
  error: PortalMfaError;
  /** its audit row; null: told without one (support learning that a user does not exist) */
  audit: RefusalAudit | null;
  /** how `org disable-mfa` reports it, one line per user */
  outcome: 'forbidden' | 'not-found' | 'not-member' | 'ambiguous';
  line: string;
}

export type Decision =
  | { allowed: true; target: PortalUser; via: Authorisation['via']; organisation: OrganisationRef | null }
  | { allowed: false; refusal: Refusal };

/**
 * SPEC §2 in one place: may the actor do this to the target? Oneself (never an unlock or an access
 * code); support on anyone (a ticket for changes); an organisation admin on a member of the
 * organisation, never on a protected account. Someone who may not see a user gets the same answer
 * and the same audit row whether the user exists or not; only support learns that a user does not
 * exist, or that two accounts share the email. Pure: the facts are read by the caller — one user's
 * (authorise) or a whole chunk's (`org disable-mfa`) — and the caller records the refusal.
 */
export function decide(actor: PortalUser, req: { permission: Permission; ticket: string | null }, standing: Standing, facts: TargetFacts): Decision {
  const { email } = facts;
  const one = facts.accounts.length === 1 ? facts.accounts[0]! : undefined;
  const org = standing.organisation;
  const refuse = (r: Omit<Refusal, 'audit'> & { audit: Omit<RefusalAudit, 'ticket'> | null }): Decision => ({
    allowed: false,
    refusal: { ...r, audit: r.audit && { ...r.audit, ticket: req.ticket } },
  });
  /** The one refusal of a user the actor may not act on: the typed email, never the portal's spelling or id. */
  const mayNot = (supportReason: string) =>
    refuse({
      error: forbidden(`${actor.email} may not act on ${email}`, { hint: 'only the user, an admin of their organisation, or support may' }),
      audit: {
        target: { id: null, email },
        organisation: standing.as === 'org-admin' ? org : null,
        reason: 'may not act on this user',
        supportReason: one ? `${supportReason} (user id ${one.id})` : supportReason,
      },
      outcome: 'forbidden',
      line: `may not act on ${email}`,
    });
  const notMember = (target: PortalUser) =>
    refuse({
      error: notFound(`${email} is not a member of ${org?.slug}`, { code: 'user_not_found' }),
      audit: { target: party(target), organisation: org, reason: `not a member of ${org?.slug}` },
      outcome: 'not-member',
      line: `not a member of ${org?.slug}`,
    });

  if (one?.id === actor.id && (facts.member || !standing.membersOnly)) {
    if (NOT_ON_SELF.has(req.permission)) {
      return refuse({
        error: forbidden(`${actor.email} may not do this to their own account`, { hint: 'ask support or an organisation admin' }),
        audit: { target: party(actor), organisation: null, reason: 'not on yourself' },
        outcome: 'forbidden',
        line: 'not on yourself',
      });
    }
    return { allowed: true, target: actor, via: 'self', organisation: facts.member ? org : null };
  }

  if (standing.as === 'support') {
    if (facts.accounts.length > 1) {
      return refuse({
        error: ambiguousAccount(email, [...facts.accounts]),
        audit: { target: { id: null, email }, organisation: org, reason: `ambiguous: portal accounts ${facts.accounts.map((a) => a.id).join(', ')}` },
        outcome: 'ambiguous',
        line: `belongs to ${facts.accounts.length} portal accounts: ask support`,
      });
    }
    if (!one) return refuse({ error: notFound(`no user ${email}`, { code: 'user_not_found' }), audit: null, outcome: 'not-found', line: 'no such user' });
    if (standing.membersOnly && !facts.member) return notMember(one);
    // an organisation is recorded (and its admins see the event) only if the target belongs to it
    const organisation = facts.member ? org : null;
    if (STATE_CHANGES.has(req.permission) && req.ticket === null) {
      return refuse({
        error: ticketRequired(),
        audit: { target: party(one), organisation, reason: 'no ticket reference' },
        outcome: 'forbidden',
        line: 'no ticket reference',
      });
    }
    return { allowed: true, target: one, via: 'support', organisation };
  }

  if (!one) return mayNot('no such user');
  // named, but not administered (or unknown): the same refusal as for any user the actor may not see
  if (standing.as === 'none') return mayNot(standing.noStanding ?? 'not an admin');
  if (!facts.member) return mayNot(org ? `not a member of ${org.slug}` : 'not a member of an organisation the actor administers');
  if (PROTECTED.has(req.permission) && (isSupport(one) || facts.adminAnywhere)) {
    return refuse({
      error: forbidden(`${one.email} is an organisation admin or support representative: an organisation admin may not change their MFA`, {
        code: 'protected_account',
        hint: 'ask support',
      }),
      audit: { target: party(one), organisation: org, reason: 'protected account' },
      outcome: 'forbidden',
      line: 'an organisation admin or support representative: ask support',
    });
  }
  return { allowed: true, target: one, via: 'org-admin', organisation: org };
}

/** A support change to another user without a ticket reference (SPEC §2). */
function ticketRequired(): PortalMfaError {
  return usageError('a support change to another user needs a ticket reference', { code: 'ticket_required', hint: 'pass --ticket SUP-1234' });
}

/** The accounts a typed target names: by portal id (`id:…`), or every account whose email folds to it. */
async function accountsNamed(deps: MfaDeps, email: string): Promise<PortalUser[]> {
  if (email.startsWith('id:')) {
    const user = await findUserById(deps.db, email.slice(3));
    return user ? [user] : [];
  }
  return findUsersByEmailKey(deps.db, email);
}

const roleIn = (memberships: MembershipRow[], organisationId: string) => memberships.find((m) => m.organisation_id === organisationId)?.role;

/**
 * `decide` for one user: the target, the organisation and the actor's standing read through the
 * call's request scope, the refusal audited. An admin of several of the target's organisations who
 * named none is asked which (`pickOrganisation`), or told to name one.
 */
export async function authorise(deps: MfaDeps, actor: Actor, req: AuthoriseRequest): Promise<Authorisation> {
  const scope = scopeOf(deps);
  const email = req.targetEmail === undefined ? actor.user.email : parseTargetEmail(req.targetEmail);
  // oneself by any spelling is oneself, even where another account shares the email
  const named = req.targetEmail === undefined || isOwnEmail(actor.user, email) ? [actor.user] : await accountsNamed(deps, email);
  const target = named.length === 1 ? named[0]! : undefined;
  const ticket = req.ticket ?? null;
  const slug = req.orgSlug !== undefined ? validateSlug(req.orgSlug) : undefined;
  const org = slug !== undefined ? await findOrganisationBySlug(deps.db, slug) : undefined;
  // only support learns that an organisation does not exist; to anyone else it is one they have no role in
  if (slug !== undefined && !org && isSupport(actor.user)) throw organisationNotFound(slug);
  const orgRef = org ? { id: org.id, slug: org.slug } : null;
  const self = target?.id === actor.user.id;
  // (oneself needs them only to record an organisation named)
  const targetMemberships = target && (!self || org) ? await scope.memberships(target.id) : [];
  const facts = (organisation: OrganisationRef | null): TargetFacts => ({
    email,
    accounts: named,
    member: organisation !== null && roleIn(targetMemberships, organisation.id) !== undefined,
    adminAnywhere: targetMemberships.some((m) => m.role === 'admin'),
  });
  let standing: Standing;
  let organisation = orgRef;
  if (isSupport(actor.user)) standing = { as: 'support', organisation };
  // oneself: decided before any standing counts
  else if (self) standing = { as: 'none', organisation };
  else if (org) {
    // a refusal is recorded in (and shown to) the named organisation only if the actor administers it
    const admin = roleIn(await scope.memberships(actor.user.id), org.id) === 'admin';
    standing = admin ? { as: 'org-admin', organisation } : { as: 'none', organisation: null, noStanding: `not an admin of ${org.slug}` };
  } else if (slug !== undefined) standing = { as: 'none', organisation: null, noStanding: `no organisation ${slug}` };
  else {
    // no organisation named: the one the actor administers that the target is in (asked for when several)
    const adminOf = new Set((await scope.memberships(actor.user.id)).filter((m) => m.role === 'admin').map((m) => m.organisation_id));
    const shared = targetMemberships.filter((m) => adminOf.has(m.organisation_id));
    organisation = target && shared.length > 0 ? await pickShared(target, shared, req.pickOrganisation) : null;
    standing = { as: 'org-admin', organisation };
  }
  const decision = decide(actor.user, { permission: req.permission, ticket }, standing, facts(organisation));
  if (!decision.allowed) throw await audited(deps, actor, req.action, decision.refusal.error, decision.refusal.audit);
  return { target: decision.target, via: decision.via, organisation: decision.organisation, ticket };
}

/** Of the target's organisations the actor administers, the one acted in: the only one, or the one picked. */
async function pickShared(target: PortalUser, shared: MembershipRow[], pick: OrganisationPicker | undefined): Promise<OrganisationRef> {
  if (shared.length === 1) return { id: shared[0]!.organisation_id, slug: shared[0]!.slug };
  const choices = shared.map((m) => ({ slug: m.slug, name: m.name }));
  if (!pick) {
    throw usageError(`${target.email} is in several organisations you administer: ${choices.map((c) => c.slug).join(', ')}`, {
      code: 'ambiguous_organisation',
      hint: `name one with --org ${choices[0]!.slug}`,
      details: { organisations: choices.map((c) => c.slug) },
    });
  }
  const slug = await pick(choices);
  const picked = shared.find((m) => m.slug === slug)!;
  return { id: picked.organisation_id, slug: picked.slug };
}

function organisationNotFound(slug: string): PortalMfaError {
  return notFound(`no organisation '${slug}'`, { code: 'organisation_not_found', hint: 'portal-mfa org list shows yours' });
}

/**
 * The organisation an organisation-scoped command acts in: the one named, if the actor administers
 * it (or is support, where allowed); without a name, the only one the actor administers. Ambiguity
 * is a usage error listing the choices (SPEC §2). An organisation the actor administers is taken
 * from their memberships, read once for the call; only support's is read by its slug.
 */
export async function authoriseOrganisation(
  deps: MfaDeps,
  actor: Actor,
  req: { orgSlug?: string; action: AuditAction; supportAllowed: boolean },
): Promise<{ organisation: OrganisationRow; via: 'support' | 'org-admin' }> {
  const adminOf = (await scopeOf(deps).memberships(actor.user.id)).filter((m) => m.role === 'admin');
  const support = req.supportAllowed && isSupport(actor.user);
  if (req.orgSlug !== undefined) {
    const slug = validateSlug(req.orgSlug);
    const mine = adminOf.find((m) => m.slug === slug);
    if (mine) return { organisation: organisationOf(mine), via: 'org-admin' };
    const org = isSupport(actor.user) ? await findOrganisationBySlug(deps.db, slug) : undefined;
    if (org && support) return { organisation: org, via: 'support' };
    // only support learns that an organisation does not exist: to anyone else it is one they do not administer
    if (!org && isSupport(actor.user)) throw organisationNotFound(slug);
    // recorded against the actor, never in the trail of an organisation that is not theirs
    throw await audited(deps, actor, req.action, forbidden(`${actor.user.email} is not an admin of '${slug}'`), {
      target: null,
      organisation: null,
      reason: `not an admin of ${slug}`,
    });
  }
  if (adminOf.length === 1) return { organisation: organisationOf(adminOf[0]!), via: 'org-admin' };
  if (adminOf.length > 1) {
    throw usageError(`${actor.user.email} administers several organisations: ${adminOf.map((m) => m.slug).join(', ')}`, {
      code: 'ambiguous_organisation',
      hint: `name one with --org ${adminOf[0]!.slug}`,
      details: { organisations: adminOf.map((m) => m.slug) },
    });
  }
  if (support) throw usageError('name the organisation', { code: 'missing_input', hint: 'pass --org SLUG (portal-mfa org list shows them)' });
  throw await audited(deps, actor, req.action, forbidden(`${actor.user.email} is not an admin of any organisation`), {
    target: null,
    organisation: null,
    reason: 'not an admin of any organisation',
  });
}

/**
 * The support-only use cases (the portal-wide report, the outbox, the portal policy): anyone else is
 * refused with exit 5, audited. One check, one refusal shape.
 */
export async function requireSupport(deps: MfaDeps, actor: Actor, req: { action: AuditAction; message: string; hint?: string }): Promise<void> {
  if (isSupport(actor.user)) return;
  throw await audited(deps, actor, req.action, forbidden(req.message, req.hint ? { hint: req.hint } : {}), {
    target: null,
    organisation: null,
    reason: 'support only',
  });
}

/**
 * Support's change on a ticket (SPEC §2): refused without one, audited. For the bulk run, whose
 * organisation is authorised by authoriseOrganisation (authorise checks a single target's itself).
 */
export async function requireSupportTicket(
  deps: MfaDeps,
  actor: Actor,
  req: { action: AuditAction; organisation: OrganisationRef; ticket: string | null },
): Promise<void> {
  if (req.ticket !== null) return;
  // the whole list is refused at once, before the password is asked for
  await withWriteTransaction(deps.db, (trx) =>
    recordAudit(trx, deps, refusalEvent(actor.user, req.action, { target: null, organisation: req.organisation, reason: 'no ticket reference' })),
  );
  throw ticketRequired();
}
