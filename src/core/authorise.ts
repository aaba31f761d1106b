import { findOrganisationBySlug, membershipRole } from '../db/organisationRepository.js';
import { membershipsOfUser, type UserRow } from '../db/userRepository.js';
import { recordAudit } from './audit.js';
import type { MfaDeps } from './deps.js';
import { forbidden, notFound, usageError } from './errors.js';
import { party } from './verification.js';

export interface Authorisation {
  via: 'self' | 'support' | 'org-admin';
  organisation: { id: number; slug: string } | null;
}

export interface AuthoriseOptions {
  /** the organisation named with --org */
  orgSlug?: string;
  /** support may not act here (e.g. `org …` commands are an admin's path) */
  supportAllowed?: boolean;
  /** self may not act here (e.g. an admin's `org disable-mfa` on themself is fine, but this lets callers forbid it) */
  selfAllowed?: boolean;
  /** ask which organisation to act in when the actor administers several of the target's (TTY only) */
  pickOrganisation?: (choices: { slug: string; name: string }[]) => Promise<string>;
}

export function validateSlug(raw: string): string {
  const slug = raw.trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(slug)) {
    throw usageError(`not a valid organisation slug: ${JSON.stringify(raw.length > 40 ? raw.slice(0, 40) + '…' : raw)}`);
  }
  return slug;
}

/**
 * SPEC §2 in one place: may `actor` do `action` to `target`? Self; a support representative for
 * anyone; an organisation admin for a member of an organisation they administer (the one named
 * with --org; asked, or refused as ambiguous, when there are several). Every refusal is audited.
 */
export async function authorise(deps: MfaDeps, actor: UserRow, target: UserRow, action: string, opts: AuthoriseOptions = {}): Promise<Authorisation> {
  const refuse = async (message: string, organisation: { id: number; slug: string } | null = null, hint?: string) => {
    await recordAudit(deps.knex, deps, { action, outcome: 'refused', actor: party(actor), target: party(target), organisation, reason: message });
    return forbidden(message, hint ? { hint } : undefined);
  };

  if (opts.orgSlug !== undefined) {
    const slug = validateSlug(opts.orgSlug);
    const org = await findOrganisationBySlug(deps.knex, slug);
    if (!org) throw notFound(`no organisation '${slug}'`, { hint: 'portal-mfa org list shows yours' });
    const organisation = { id: org.id, slug: org.slug };
    if (actor.id === target.id && opts.selfAllowed !== false) {
      // acting on yourself: the organisation is recorded only if you belong to it
      return { via: 'self', organisation: (await membershipRole(deps.knex, org.id, actor.id)) !== undefined ? organisation : null };
    }
    const actorRole = await membershipRole(deps.knex, org.id, actor.id);
    if (actorRole !== 'admin') {
      if (actor.role === 'support' && opts.supportAllowed !== false) return { via: 'support', organisation };
      throw await refuse(`${actor.email} is not an admin of '${slug}'`, organisation);
    }
    if ((await membershipRole(deps.knex, org.id, target.id)) === undefined) {
      throw await refuse(`${target.email} is not a member of '${slug}'`, organisation);
    }
    return { via: 'org-admin', organisation };
  }

  if (actor.id === target.id && opts.selfAllowed !== false) return { via: 'self', organisation: null };
  if (actor.role === 'support' && opts.supportAllowed !== false) return { via: 'support', organisation: null };

  const actorAdminOf = new Set((await membershipsOfUser(deps.knex, actor.id)).filter((m) => m.role === 'admin').map((m) => m.organisation_id));
  const shared = (await membershipsOfUser(deps.knex, target.id)).filter((m) => actorAdminOf.has(m.organisation_id));
  if (shared.length === 0) {
    throw await refuse(
      `${actor.email} may not act on ${target.email}`,
      null,
      actorAdminOf.size > 0 ? `${target.email} is not a member of an organisation you administer` : 'only the user, their organisation admin or support may',
    );
  }
  if (shared.length === 1) return { via: 'org-admin', organisation: { id: shared[0]!.organisation_id, slug: shared[0]!.slug } };
  const choices = shared.map((m) => ({ slug: m.slug, name: m.name }));
  if (opts.pickOrganisation) {
    const slug = await opts.pickOrganisation(choices);
    const picked = shared.find((m) => m.slug === slug)!;
    return { via: 'org-admin', organisation: { id: picked.organisation_id, slug: picked.slug } };
  }
  throw usageError(`${target.email} is in several organisations you administer: ${choices.map((c) => c.slug).join(', ')}`, {
    hint: `name one with --org ${choices[0]!.slug}`,
    details: { organisations: choices.map((c) => c.slug) },
  });
}
