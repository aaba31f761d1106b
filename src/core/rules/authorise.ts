import type { OrganisationRow } from '../domain.js';
import { findOrganisationBySlug, membershipRole } from '../../db/identity/reader.js';
import { withWriteTransaction } from '../../db/transaction.js';
import type { PortalUser } from '../domain.js';
import { findUserByEmail, isOwnEmail } from './identity.js';
import { isAdminAnywhere, membershipsOfUser } from '../../db/identity/reader.js';
import type { Actor } from './actor.js';
import { party, recordAudit } from '../primitives/audit.js';
import type { MfaDeps } from '../deps.js';
import { normaliseEmail } from '../primitives/email.js';
import { forbidden, isPortalMfaError, notFound, usageError, type PortalMfaError } from '../errors.js';

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
  action: string;
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

async function refusal(
  deps: MfaDeps,
  actor: Actor,
  e: {
    action: string;
    target: PortalUser | { email: string } | null;
    organisation?: OrganisationRef | null;
    reason: string;
    /** why, for support's eyes only (readAuditTrail shows it to no one else) */
    supportReason?: string;
  },
  error: PortalMfaError,
): Promise<PortalMfaError> {
  await withWriteTransaction(deps.db, (trx) =>
    recordAudit(trx, deps, {
      action: e.action,
      outcome: 'refused',
      actor: party(actor.user),
      // an unknown email is recorded by text only: the trail never invents a user id
      target: e.target && 'id' in e.target ? party(e.target) : e.target ? { id: null, email: e.target.email } : null,
      organisation: e.organisation ?? null,
      reason: e.reason,
      detail: e.supportReason === undefined ? null : { [SUPPORT_REASON]: e.supportReason },
    }),
  );
  return error;
}

/**
 * The detail key of a refusal's reason for support only: the reason everyone else reads is the same
 * for an existing and an unknown user ("may not act on this user", no enumeration).
 */
export const SUPPORT_REASON = 'supportReason';

/**
 * SPEC §2 in one place: may the actor do this to the target? Self; support for anyone (with a
 * ticket for changes); an organisation admin for a member of an organisation they administer,
 * never on a protected account. An actor who may not see a user gets the same answer whether the
 * user exists or not; only support learns that a user does not exist. Every refusal is audited.
 */
export async function authorise(deps: MfaDeps, actor: Actor, req: AuthoriseRequest): Promise<Authorisation> {
  const email = req.targetEmail === undefined ? actor.user.email : parseTargetEmail(req.targetEmail);
  let found: PortalUser | undefined;
  if (req.targetEmail !== undefined && !isOwnEmail(actor.user, email)) {
    try {
      found = await findUserByEmail(deps.db, email);
    } catch (e) {
      // two accounts sharing the email: support is told (and acts by id); anyone else gets the
      // answer every account they may not see gets, whether it exists or not
      if (!(isPortalMfaError(e) && e.code === 'ambiguous_account') || actor.user.role === 'support') throw e;
      found = undefined;
    }
  }
  // oneself by any spelling, or by one's portal id written another way (id:09): the account found decides
  const isSelf = req.targetEmail === undefined || isOwnEmail(actor.user, email) || found?.id === actor.user.id;
  const target = isSelf ? actor.user : found;
  const ticket = req.ticket ?? null;
  const slug = req.orgSlug !== undefined ? validateSlug(req.orgSlug) : undefined;
  const org = slug !== undefined ? await findOrganisationBySlug(deps.db, slug) : undefined;
  // only support learns that an organisation does not exist; to anyone else it is one they have no role in
  if (slug !== undefined && !org && actor.user.role === 'support') throw organisationNotFound(slug);
  const orgRef = org ? { id: org.id, slug: org.slug } : null;
  // a refusal is recorded in (and shown to) the named organisation only if the actor administers it:
  // never an email the actor chose in the trail of an organisation that is not theirs
  const adminOfNamed = org !== undefined && (await membershipRole(deps.db, org.id, actor.user.id)) === 'admin';
  /** The one refusal of a user the actor may not act on: the same answer and the same audit row whether the user exists or not. */
  const mayNot = (supportReason: string, o: OrganisationRef | null = adminOfNamed ? orgRef : null) =>
    refusal(
      deps,
      actor,
      // the typed (folded) email, never the portal's spelling or id: the row reads the same whether the account exists or not
      {
        action: req.action,
        target: { email },
        organisation: o,
        reason: 'may not act on this user',
        supportReason: target ? `${supportReason} (user id ${target.id})` : supportReason,
      },
      forbidden(`${actor.user.email} may not act on ${email}`, { hint: 'only the user, an admin of their organisation, or support may' }),
    );

  if (isSelf) {
    if (NOT_ON_SELF.has(req.permission)) {
      throw await refusal(
        deps,
        actor,
        { action: req.action, target: actor.user, reason: 'not on yourself' },
        forbidden(`${actor.user.email} may not do this to their own account`, { hint: 'ask support or an organisation admin' }),
      );
    }
    const organisation = org && (await membershipRole(deps.db, org.id, actor.user.id)) !== undefined ? orgRef : null;
    return { target: actor.user, via: 'self', organisation, ticket };
  }

  if (actor.user.role === 'support') {
    if (!target) throw notFound(`no user ${email}`, { code: 'user_not_found' });
    // an organisation is recorded (and its admins see the event) only if the target belongs to it
    const organisation = org && (await membershipRole(deps.db, org.id, target.id)) !== undefined ? orgRef : null;
    if (STATE_CHANGES.has(req.permission) && ticket === null) {
      throw await refusal(
        deps,
        actor,
        { action: req.action, target, organisation, reason: 'no ticket reference' },
        usageError('a support change to another user needs a ticket reference', { code: 'ticket_required', hint: 'pass --ticket SUP-1234' }),
      );
    }
    return { target, via: 'support', organisation, ticket };
  }

  if (!target) throw await mayNot('no such user');
  let organisation: OrganisationRef;
  if (slug !== undefined) {
    // named, but not administered (or unknown): the same refusal as for any user the actor may not see
    if (!org || !adminOfNamed) throw await mayNot(org ? `not an admin of ${org.slug}` : `no organisation ${slug}`);
    if ((await membershipRole(deps.db, org.id, target.id)) === undefined) throw await mayNot(`not a member of ${org.slug}`);
    organisation = orgRef!;
  } else {
    const adminOf = new Set((await membershipsOfUser(deps.db, actor.user.id)).filter((m) => m.role === 'admin').map((m) => m.organisation_id));
    const shared = (await membershipsOfUser(deps.db, target.id)).filter((m) => adminOf.has(m.organisation_id));
    if (shared.length === 0) throw await mayNot('not a member of an organisation the actor administers', null);
    if (shared.length === 1) organisation = { id: shared[0]!.organisation_id, slug: shared[0]!.slug };
    else {
      const choices = shared.map((m) => ({ slug: m.slug, name: m.name }));
      if (!req.pickOrganisation) {
        throw usageError(`${target.email} is in several organisations you administer: ${choices.map((c) => c.slug).join(', ')}`, {
          code: 'ambiguous_organisation',
          hint: `name one with --org ${choices[0]!.slug}`,
          details: { organisations: choices.map((c) => c.slug) },
        });
      }
      const slug = await req.pickOrganisation(choices);
      const picked = shared.find((m) => m.slug === slug)!;
      organisation = { id: picked.organisation_id, slug: picked.slug };
    }
  }
  if (PROTECTED.has(req.permission) && (target.role === 'support' || (await isAdminAnywhere(deps.db, target.id)))) {
    throw await refusal(
      deps,
      actor,
      { action: req.action, target, organisation, reason: 'protected account' },
      forbidden(`${target.email} is an organisation admin or support representative: an organisation admin may not change their MFA`, {
        code: 'protected_account',
        hint: 'ask support',
      }),
    );
  }
  return { target, via: 'org-admin', organisation, ticket };
}

function organisationNotFound(slug: string): PortalMfaError {
  return notFound(`no organisation '${slug}'`, { code: 'organisation_not_found', hint: 'portal-mfa org list shows yours' });
}

/**
 * The organisation an organisation-scoped command acts in: the one named, if the actor administers
 * it (or is support, where allowed); without a name, the only one the actor administers. Ambiguity
 * is a usage error listing the choices (SPEC §2).
 */
export async function authoriseOrganisation(
  deps: MfaDeps,
  actor: Actor,
  req: { orgSlug?: string; action: string; supportAllowed: boolean },
): Promise<{ organisation: OrganisationRow; via: 'support' | 'org-admin' }> {
  if (req.orgSlug !== undefined) {
    const slug = validateSlug(req.orgSlug);
    const org = await findOrganisationBySlug(deps.db, slug);
    if (org) {
      const role = await membershipRole(deps.db, org.id, actor.user.id);
      if (role === 'admin') return { organisation: org, via: 'org-admin' };
      if (req.supportAllowed && actor.user.role === 'support') return { organisation: org, via: 'support' };
    }
    // only support learns that an organisation does not exist: to anyone else it is one they do not administer
    if (!org && actor.user.role === 'support') throw organisationNotFound(slug);
    throw await refusal(
      deps,
      actor,
      // recorded against the actor, never in the trail of an organisation that is not theirs
      { action: req.action, target: null, organisation: null, reason: `not an admin of ${slug}` },
      forbidden(`${actor.user.email} is not an admin of '${slug}'`),
    );
  }
  const adminOf = (await membershipsOfUser(deps.db, actor.user.id)).filter((m) => m.role === 'admin');
  if (adminOf.length === 1) return { organisation: (await findOrganisationBySlug(deps.db, adminOf[0]!.slug))!, via: 'org-admin' };
  if (adminOf.length > 1) {
    throw usageError(`${actor.user.email} administers several organisations: ${adminOf.map((m) => m.slug).join(', ')}`, {
      code: 'ambiguous_organisation',
      hint: `name one with --org ${adminOf[0]!.slug}`,
      details: { organisations: adminOf.map((m) => m.slug) },
    });
  }
  if (actor.user.role === 'support' && req.supportAllowed)
    throw usageError('name the organisation', { code: 'missing_input', hint: 'pass --org SLUG (portal-mfa org list shows them)' });
  throw await refusal(
    deps,
    actor,
    { action: req.action, target: null, reason: 'not an admin of any organisation' },
    forbidden(`${actor.user.email} is not an admin of any organisation`),
  );
}

/**
 * The support-only use cases (the portal-wide report, the outbox, the portal policy): anyone else is
 * refused with exit 5, audited. One check, one refusal shape.
 */
export async function requireSupport(deps: MfaDeps, actor: Actor, req: { action: string; message: string; hint?: string }): Promise<void> {
  if (actor.user.role === 'support') return;
  await withWriteTransaction(deps.db, (trx) =>
    recordAudit(trx, deps, { action: req.action, outcome: 'refused', actor: party(actor.user), reason: 'support only' }),
  );
  throw forbidden(req.message, req.hint ? { hint: req.hint } : {});
}

/**
 * Support's change on a ticket (SPEC §2): refused without one, audited. For the bulk run, whose
 * organisation is authorised by authoriseOrganisation (authorise checks a single target's itself).
 */
export async function requireSupportTicket(
  deps: MfaDeps,
  actor: Actor,
  req: { action: string; organisation: OrganisationRef; ticket: string | null },
): Promise<void> {
  if (req.ticket !== null) return;
  await withWriteTransaction(deps.db, (trx) =>
    recordAudit(trx, deps, { action: req.action, outcome: 'refused', actor: party(actor.user), organisation: req.organisation, reason: 'no ticket reference' }),
  );
  throw usageError('a support change to another user needs a ticket reference', { code: 'ticket_required', hint: 'pass --ticket SUP-1234' });
}
