import { queryAuditEvents, type AuditRow } from '../../db/auditRepository.js';
import { scopeOf } from '../requestScope.js';
import type { PortalUser } from '../domain.js';
import { admit, type Actor } from '../rules/actor.js';
import { authorise, authoriseOrganisation, isSupport, SUPPORT_REASON } from '../rules/authorise.js';
import type { MfaDeps } from '../deps.js';
import { usageError } from '../errors.js';

export interface AuditFilter {
  userEmail?: string;
  orgSlug?: string;
  action?: string;
  since?: number;
  limit: number;
  /** only events after this id (audit --follow polls with it) */
  afterId?: number;
}

/** An audit action name (`mfa.reset`), or a prefix of one with `*` (`mfa.*`). */
export function validateAction(raw: string): string {
  const a = raw.trim();
  if (!/^[a-z][a-z0-9.-]{0,63}\*?$/.test(a))
    throw usageError(`not an audit action: ${JSON.stringify(raw.slice(0, 40))}`, { code: 'invalid_input', hint: 'e.g. mfa.verify, mfa.reset, mfa.*' });
  return a;
}

/**
 * The audit trail as the actor may see it (SPEC §2): support sees everything; an organisation
 * admin sees their organisations' events; everyone sees events about themselves.
 */
/** One audit event as callers see it (camelCase; detail parsed). */
export interface AuditView {
  id: number;
  time: number;
  actor: string | null;
  target: string | null;
  organisation: string | null;
  action: string;
  outcome: string;
  ticket: string | null;
  reason: string | null;
  host: string;
  osUser: string;
  detail: Record<string, unknown> | null;
  /** the web request's origin (ip, userAgent, requestId) and who vouched for the actor, when recorded */
  request: Record<string, unknown> | null;
}

function view(r: AuditRow, forSupport: boolean): AuditView {
  let detail = r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null;
  if (detail && !forSupport && SUPPORT_REASON in detail) {
    // why a user could not be acted on tells whether they exist: for support's eyes only
    const { [SUPPORT_REASON]: _, ...rest } = detail;
    detail = Object.keys(rest).length > 0 ? rest : null;
  }
  return {
    id: Number(r.id),
    time: Number(r.occurred_at),
    actor: r.actor_email,
    target: r.target_email,
    organisation: r.organisation_slug,
    action: r.action,
    outcome: r.outcome,
    ticket: r.ticket,
    reason: r.reason,
    host: r.host,
    osUser: r.os_user,
    detail,
    request: r.request ? (JSON.parse(r.request) as Record<string, unknown>) : null,
  };
}

/** Most events one read returns (the CLI's `--limit` takes the same range). */
const AUDIT_READ_MAX = 100_000;

/** The filter as given by a library caller or the CLI: every field checked before anything is read. */
function checkFilter(filter: AuditFilter): AuditFilter {
  if (filter === null || typeof filter !== 'object') throw usageError('readAuditTrail needs a filter with a limit', { code: 'invalid_input' });
  const { limit, since, afterId, userEmail, orgSlug, action } = filter;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > AUDIT_READ_MAX)
    throw usageError(`the limit must be a whole number from 1 to ${AUDIT_READ_MAX} (got ${String(limit).slice(0, 20)})`, { code: 'invalid_input' });
  if (since !== undefined && (typeof since !== 'number' || !Number.isFinite(since)))
    throw usageError('since must be a time in milliseconds since the epoch', { code: 'invalid_input' });
  if (afterId !== undefined && (typeof afterId !== 'number' || !Number.isInteger(afterId) || afterId < 0))
    throw usageError('afterId must be a whole number of 0 or more', { code: 'invalid_input' });
  if (userEmail !== undefined && typeof userEmail !== 'string') throw usageError('userEmail must be a string', { code: 'invalid_input' });
  if (orgSlug !== undefined && typeof orgSlug !== 'string') throw usageError('orgSlug must be a string', { code: 'invalid_input' });
  return { ...filter, action: action === undefined ? undefined : validateAction(String(action)) };
}

export async function readAuditTrail(deps: MfaDeps, actor: Actor, given: AuditFilter): Promise<AuditView[]> {
  const filter = checkFilter(given);
  await admit(deps, actor, 'other');
  const forSupport = isSupport(actor.user);
  const adminOf = (await scopeOf(deps).memberships(actor.user.id)).filter((m) => m.role === 'admin');
  // an organisation's events: support's, or its admins' (the same refusal as any organisation-scoped command)
  const organisationId =
    filter.orgSlug === undefined
      ? undefined
      : (await authoriseOrganisation(deps, actor, { orgSlug: filter.orgSlug, action: 'audit.read', supportAllowed: true })).organisation.id;
  let user: PortalUser | undefined;
  if (filter.userEmail !== undefined) {
    // the same authorisation as every other read of a user (no enumeration)
    user = (
      await authorise(deps, actor, { targetEmail: filter.userEmail, permission: 'view', action: 'audit.read', pickOrganisation: async (c) => c[0]!.slug })
    ).target;
  }
  const rows = await queryAuditEvents(deps.db, {
    involvingUserId: user?.id,
    organisationId,
    action: filter.action,
    since: filter.since,
    limit: filter.limit,
    afterId: filter.afterId,
    visibleTo: forSupport ? undefined : { userId: actor.user.id, organisationIds: adminOf.map((m) => m.organisation_id) },
  });
  return rows.map((r) => view(r, forSupport));
}
