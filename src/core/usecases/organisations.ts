import { findBulkTargets } from '../../db/bulkDisable.js';
import { scopeOf } from '../requestScope.js';
import type { OrganisationRow } from '../domain.js';
import {
  countMembersWithoutMfa,
  membersWithoutMfa,
  organisationSummaries,
  revokeDevicesOfMembers,
  streamMembers,
  streamUsers,
  updateOrganisationPolicy,
  type MemberFilter,
  type MemberReportRow,
  type OrganisationSummaryRow,
  type UserFilter,
  type UserReportRow,
} from '../../db/organisationReports.js';
import { allOrganisations, findOrganisationBySlug } from '../../db/identity/reader.js';
import { withWriteTransaction } from '../../db/transaction.js';
import type { Db } from '../../db/store.js';
import type { PortalUser } from '../domain.js';
import { admit, reauthenticate, type Actor } from '../rules/actor.js';
import { party, recordAudit, recordAudits, type AuditEvent } from '../primitives/audit.js';
import { authoriseOrganisation, decide, isSupport, refusalEvent, requireSupport, requireSupportTicket, validateSlug } from '../rules/authorise.js';
import type { MfaDeps } from '../deps.js';
import { validateReason, validateTicket } from './changeOnUser.js';
import { removeMfa, type RemovalAuthority } from '../rules/removal.js';
import { normaliseEmail } from '../primitives/email.js';
import { isOwnEmail } from '../rules/identity.js';
import { notFound, usageError, type ErrorKind } from '../errors.js';
import { queueNotification } from '../notify/outbox.js';

const DAY_MS = 86_400_000;

/** A member's enrolment deadline under the policy: the later of the policy change and joining, plus grace. */
function enrolmentDeadline(org: Pick<OrganisationRow, 'mfa_required' | 'grace_days' | 'mfa_required_since'>, joinedAt: number | null): number | null {
  if (!org.mfa_required || !org.grace_days) return null;
  return Math.max(org.mfa_required_since ?? 0, joinedAt ?? 0) + org.grace_days * DAY_MS;
}

/**
 * The slugs of the portal's organisations, at most `limit`, for shell completion: no actor (whoever
 * holds the database credentials can read them anyway), nothing before a mapping is stored.
 */
export async function organisationSlugs(db: Db, limit: number): Promise<string[]> {
  if (!db.mapping) return [];
  return (await allOrganisations(db)).slice(0, limit).map((o) => o.slug);
}

export async function listOrganisations(deps: MfaDeps, actor: Actor): Promise<OrganisationSummaryRow[]> {
  await admit(deps, actor, 'other');
  const mine = await scopeOf(deps).memberships(actor.user.id);
  // support sees every organisation; anyone else the ones they belong to, with their role in each
  const orgs = isSupport(actor.user)
    ? (await allOrganisations(deps.db)).map((o) => ({ ...o, role: mine.find((m) => m.organisation_id === o.id)?.role ?? ('support' as const) }))
    : mine.map((m) => ({ ...m, id: m.organisation_id }));
  return organisationSummaries(
    deps.db,
    orgs.map((o) => ({ id: o.id, slug: o.slug, name: o.name, role: o.role, policy: o })),
  );
}

export interface MemberView extends MemberReportRow {
  /** when the member must have enrolled by (policy with grace, no MFA yet) */
  deadline: number | null;
}

/**
 * A streamed report: iterate it row by row, or — cheaper for a large one — page by page with
 * pages(). Either way it can be read once.
 */
export interface RowStream<T> extends AsyncIterable<T> {
  pages(): AsyncIterable<T[]>;
}

function rowStream<T>(pages: AsyncIterable<T[]>): RowStream<T> {
  return {
    pages: () => pages,
    async *[Symbol.asyncIterator]() {
      for await (const page of pages) yield* page;
    },
  };
}

/** `org users`: every member with MFA state, streamed (authorised before the first row). */
export async function listMembers(
  deps: MfaDeps,
  actor: Actor,
  req: { orgSlug?: string; filter: MemberFilter },
): Promise<{ organisation: string; members: RowStream<MemberView> }> {
  await admit(deps, actor, 'other');
  const { organisation: org } = await authoriseOrganisation(deps, actor, { orgSlug: req.orgSlug, action: 'org.users', supportAllowed: true });
  async function* pages(): AsyncGenerator<MemberView[]> {
    for await (const page of streamMembers(deps.db, org.id, req.filter, deps.clock())) {
      // the rows are fresh objects: the deadline is added in place (one shape for all of them)
      for (const m of page as MemberView[]) m.deadline = m.mfa === 'active' ? null : enrolmentDeadline(org, m.joinedAt);
      yield page as MemberView[];
    }
  }
  return { organisation: org.slug, members: rowStream(pages()) };
}

/** `users list` (support only): the portal-wide report, streamed. */
export async function listUsers(
  deps: MfaDeps,
  actor: Actor,
  req: { mfa?: UserFilter['mfa']; orgSlug?: string; role?: UserFilter['role']; locked?: boolean },
): Promise<RowStream<UserReportRow>> {
  await admit(deps, actor, 'other');
  await requireSupport(deps, actor, {
    action: 'users.list',
    message: 'users list is for support representatives',
    hint: 'organisation admins: portal-mfa org users',
  });
  let organisationId: string | undefined;
  if (req.orgSlug !== undefined) {
    const org = await findOrganisationBySlug(deps.db, validateSlug(req.orgSlug));
    if (!org) throw notFound(`no organisation '${req.orgSlug}'`, { code: 'organisation_not_found' });
    organisationId = org.id;
  }
  return rowStream(streamUsers(deps.db, { mfa: req.mfa, role: req.role, organisationId, lockedAt: req.locked ? deps.clock() : undefined }, deps.clock()));
}

export interface PolicyView {
  organisation: string;
  /** the whole portal requires MFA (support's portal policy), whatever the organisation says */
  portalRequiresMfa: boolean;
  mfaRequired: boolean;
  graceDays: number | null;
  deviceTrust: boolean;
  requiredSince: number | null;
  membersWithoutMfa: { total: number; admins: number };
  lacking: { email: string; deadline: number | null }[];
}

/** `org policy --org SLUG` without change flags: the policy and who lacks MFA. */
export async function showPolicy(deps: MfaDeps, actor: Actor, req: { orgSlug?: string }): Promise<PolicyView> {
  await admit(deps, actor, 'other');
  const { organisation: org } = await authoriseOrganisation(deps, actor, { orgSlug: req.orgSlug, action: 'org.policy', supportAllowed: true });
  const lacking = await membersWithoutMfa(deps.db, org.id);
  const portal = await scopeOf(deps).policy();
  return {
    organisation: org.slug,
    portalRequiresMfa: portal.mfaRequired,
    mfaRequired: org.mfa_required,
    graceDays: org.grace_days,
    deviceTrust: org.device_trust_allowed,
    requiredSince: org.mfa_required_since,
    membersWithoutMfa: { total: lacking.length, admins: lacking.filter((m) => m.admin).length },
    lacking: lacking.map((m) => ({ email: m.email, deadline: org.mfa_required ? enrolmentDeadline(org, m.joinedAt) : null })),
  };
}

export interface PolicyChange {
  require?: boolean;
  graceDays?: number | null;
  deviceTrust?: boolean;
}

export interface PolicyResult {
  kind: 'changed' | 'dry-run' | 'cancelled';
  organisation: string;
  before: { mfaRequired: boolean; graceDays: number | null; deviceTrust: boolean };
  after: { mfaRequired: boolean; graceDays: number | null; deviceTrust: boolean };
  membersWithoutMfa: { total: number; admins: number };
  noticesQueued: number;
  devicesRevoked: number;
}

/**
 * Rule 4 settings of an organisation: password re-entry, then one transaction with the audit row,
 * the "now required" notices to members lacking MFA, and — when device trust is turned off — the
 * revocation of the members' trusted devices.
 */
export async function setPolicy(
  deps: MfaDeps,
  actor: Actor,
  req: {
    orgSlug?: string;
    change: PolicyChange;
    password?: string;
    dryRun?: boolean;
    confirm?: (impact: { lacking: { total: number; admins: number }; requiring: boolean }) => Promise<boolean>;
  },
): Promise<PolicyResult> {
  const change = req.change;
  if (change.require === undefined && change.graceDays === undefined && change.deviceTrust === undefined) {
    throw usageError('nothing to change', { hint: 'pass --require or --no-require, --grace-days N, --device-trust on|off' });
  }
  if (change.require === false && change.graceDays !== undefined) throw usageError('--grace-days goes with --require');
  await admit(deps, actor, 'other');
  const { organisation: org } = await authoriseOrganisation(deps, actor, { orgSlug: req.orgSlug, action: 'org.policy', supportAllowed: false });
  const before = { mfaRequired: org.mfa_required, graceDays: org.grace_days, deviceTrust: org.device_trust_allowed };
  const after = {
    mfaRequired: change.require ?? org.mfa_required,
    graceDays: change.graceDays !== undefined ? change.graceDays : org.grace_days,
    deviceTrust: change.deviceTrust ?? org.device_trust_allowed,
  };
  const lacking = await countMembersWithoutMfa(deps.db, org.id);
  const requiring = after.mfaRequired && (!before.mfaRequired || change.graceDays !== undefined);
  const result = { organisation: org.slug, before, after, membersWithoutMfa: lacking, noticesQueued: 0, devicesRevoked: 0 };
  if (req.dryRun) return { kind: 'dry-run', ...result };
  await reauthenticate(deps, actor, req.password, 'org.policy');
  if (req.confirm && !(await req.confirm({ lacking, requiring }))) return { kind: 'cancelled', ...result };
  const now = deps.clock();
  // the grace period runs from when the requirement was switched on (or its length last changed)
  const since = !after.mfaRequired ? null : requiring ? now : (org.mfa_required_since ?? now);
  const counts = await withWriteTransaction(deps.db, async (trx) => {
    await updateOrganisationPolicy(
      trx,
      org.id,
      {
        mfa_required: after.mfaRequired,
        grace_days: after.graceDays,
        mfa_required_since: since,
        device_trust_allowed: after.deviceTrust,
      },
      now,
    );
    let notices = 0;
    if (requiring) {
      const policy = { mfa_required: true, grace_days: after.graceDays, mfa_required_since: since };
      for (const m of await membersWithoutMfa(trx, org.id)) {
        await queueNotification(trx, deps, m, { kind: 'org-mfa-required', organisation: org.slug, deadline: enrolmentDeadline(policy, m.joinedAt) });
        notices++;
      }
    }
    let devices = 0;
    if (before.deviceTrust && !after.deviceTrust) {
      for (const r of await revokeDevicesOfMembers(trx, org.id, now)) {
        devices += r.count;
        await queueNotification(trx, deps, { id: r.userId, email: r.email }, { kind: 'devices-revoked', count: r.count, by: actor.user.email, ticket: null });
      }
    }
    await recordAudit(trx, deps, {
      action: 'org.policy',
      outcome: 'success',
      actor: party(actor.user),
      organisation: { id: org.id, slug: org.slug },
      detail: { before, after, membersWithoutMfa: lacking.total, noticesQueued: notices, devicesRevoked: devices },
    });
    return { notices, devices };
  });
  return { kind: 'changed', ...result, noticesQueued: counts.notices, devicesRevoked: counts.devices };
}

/** `org remind`: one reminder with the member's deadline to every member lacking MFA. */
export async function remindMembers(
  deps: MfaDeps,
  actor: Actor,
  req: { orgSlug?: string; dryRun?: boolean },
): Promise<{ kind: 'queued' | 'dry-run'; organisation: string; members: { email: string; deadline: number | null }[] }> {
  await admit(deps, actor, 'other');
  const { organisation: org } = await authoriseOrganisation(deps, actor, { orgSlug: req.orgSlug, action: 'org.remind', supportAllowed: false });
  const lacking = await membersWithoutMfa(deps.db, org.id);
  const members = lacking.map((m) => ({ email: m.email, deadline: enrolmentDeadline(org, m.joinedAt) }));
  if (req.dryRun) return { kind: 'dry-run', organisation: org.slug, members };
  await withWriteTransaction(deps.db, async (trx) => {
    for (const m of lacking)
      await queueNotification(trx, deps, m, { kind: 'org-reminder', organisation: org.slug, deadline: enrolmentDeadline(org, m.joinedAt) });
    await recordAudit(trx, deps, {
      action: 'org.remind',
      outcome: 'success',
      actor: party(actor.user),
      organisation: { id: org.id, slug: org.slug },
      detail: { reminded: lacking.length },
    });
  });
  return { kind: 'queued', organisation: org.slug, members };
}

export type BulkOutcome = 'disabled' | 'would-disable' | 'already-off' | 'skipped-self' | 'invalid' | 'not-found' | 'not-member' | 'forbidden' | 'ambiguous';

export interface BulkResult {
  email: string;
  outcome: BulkOutcome;
  /** the error kind this user alone would have given (null: fine) */
  errorKind: ErrorKind | null;
  message: string;
}

/** Emails from --users-from: one per line, or CSV with an `email` column. */
export async function parseUserList(text: string): Promise<string[]> {
  const lines = text.split(/\r?\n/);
  const first = (lines.find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? '').trim();
  if (first.includes(',') || /^"?email"?$/i.test(first)) {
    const { parse } = await import('csv-parse/sync');
    let records: Record<string, string>[];
    try {
      records = parse(text, {
        columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
        skip_empty_lines: true,
        trim: true,
        bom: true,
        relax_column_count: true,
      });
    } catch (e) {
      throw usageError(`the user list is not valid CSV: ${(e as Error).message.split('\n')[0]}`);
    }
    if (records.length > 0 && !('email' in records[0]!)) throw usageError('the CSV user list has no "email" column');
    return records.map((r) => r.email ?? '').filter((e) => e !== '');
  }
  return lines.map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** Duplicates (after rule 13 normalisation) are reported once; malformed entries are kept as typed. */
function uniqueEmails(raw: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const r of raw) {
    const key = normaliseEmail(r) ?? r;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}

/** Users per transaction of the bulk `org disable-mfa` (the first chunk is smaller; each doubles up to this). */
const BULK_CHUNK = 500;
const BULK_FIRST_CHUNK = 20;

export interface BulkRun {
  organisation: string;
  total: number;
  /** the acting person is in the list: left out (skipped-self, unless includeSelf) or included */
  self: 'skipped' | 'included' | null;
  results: AsyncGenerator<BulkResult>;
}

/**
 * Bulk `org disable-mfa`: one authorisation and password re-entry for the batch, then chunks of
 * users, each in one transaction (see chunk() below), with one audit row and notice per user, and
 * one result per user. Support needs a ticket and
 * is audited as a reset; protected accounts are refused to organisation admins; refusals are audited.
 */
export async function disableMembers(
  deps: MfaDeps,
  actor: Actor,
  req: {
    orgSlug?: string;
    emails: string[];
    ticket?: string;
    reason?: string;
    password?: string;
    dryRun?: boolean;
    /** the acting person's own account, when listed, is disabled too (otherwise: skipped-self, audited) */
    includeSelf?: boolean;
    /** aborted: no further chunk is started; every result of a committed chunk is still given */
    signal?: AbortSignal;
    /** count: the users to be looked at (without the acting person when skipped) */
    confirm?: (count: number, org: string, self: BulkRun['self']) => Promise<boolean>;
  },
): Promise<BulkRun | { kind: 'cancelled' }> {
  const ticket = validateTicket(req.ticket);
  const reason = validateReason(req.reason);
  const emails = uniqueEmails(req.emails);
  if (emails.length === 0) throw usageError('the user list is empty');
  await admit(deps, actor, 'other');
  const { organisation: org, via } = await authoriseOrganisation(deps, actor, { orgSlug: req.orgSlug, action: 'org.disable-mfa', supportAllowed: true });
  const orgRef = { id: org.id, slug: org.slug };
  if (via === 'support') await requireSupportTicket(deps, actor, { action: 'org.disable-mfa', organisation: orgRef, ticket });
  // an admin's export of her organisation lists her too: her own MFA goes only when she says so
  const listed = emails.some((e) => {
    const email = normaliseEmail(e);
    return email !== null && isOwnEmail(actor.user, email);
  });
  const self: BulkRun['self'] = listed ? (req.includeSelf ? 'included' : 'skipped') : null;
  if (!req.dryRun) {
    await reauthenticate(deps, actor, req.password, 'org.disable-mfa');
    if (req.confirm && !(await req.confirm(emails.length - (self === 'skipped' ? 1 : 0), org.slug, self))) return { kind: 'cancelled' };
  }
  const standing = { as: via, organisation: orgRef, membersOnly: true } as const;

  /**
   * One chunk of the list: the facts read with one statement per table, each user decided by the
   * same decision as a single `disable` (rules/authorise.ts), then — unless a dry run — the chunk's
   * refusals committed with their audit rows, then one transaction removing MFA from every user
   * still to be done, with one audit row and one notice per user. The transaction is the unit of
   * all-or-nothing: a user is either fully done (with audit row and notice) or untouched, and a
   * chunk that fails rolls back whole (a conflict runs it again from the start). Results are
   * given only once the chunk has committed.
   */
  async function chunk(raws: string[]): Promise<BulkResult[]> {
    const emails = raws.map((raw) => normaliseEmail(raw));
    const t = await findBulkTargets(deps.db, org.id, [...new Set(emails.filter((e): e is string => e !== null))]);
    const results: BulkResult[] = [];
    const refusals: AuditEvent[] = [];
    const candidates: { user: PortalUser; authority: RemovalAuthority }[] = [];
    raws.forEach((raw, i) => {
      const email = emails[i]!;
      if (email === null) {
        results.push({ email: raw.slice(0, 254), outcome: 'invalid', errorKind: 'usage', message: 'not a valid email' });
        return;
      }
      const accounts = t.users.get(email) ?? [];
      const one = accounts.length === 1 ? accounts[0]! : undefined;
      if (one && one.id === actor.user.id && !req.includeSelf) {
        refusals.push(
          refusalEvent(actor.user, 'org.disable-mfa', {
            target: party(one),
            organisation: orgRef,
            ticket,
            reason: 'their own account, not included in their own bulk run',
          }),
        );
        results.push({ email, outcome: 'skipped-self', errorKind: null, message: 'your own account: skipped' });
        return;
      }
      const facts = { email, accounts, member: one !== undefined && t.members.has(one.id), adminAnywhere: one !== undefined && t.admins.has(one.id) };
      const decision = decide(actor.user, { permission: 'disable', ticket }, standing, facts);
      if (!decision.allowed) {
        const { refusal } = decision;
        if (refusal.audit) refusals.push(refusalEvent(actor.user, 'org.disable-mfa', refusal.audit));
        results.push({ email, outcome: refusal.outcome, errorKind: refusal.error.kind, message: refusal.line });
        return;
      }
      const user = decision.target;
      if (!t.withMfa.has(user.id)) {
        results.push({ email, outcome: 'already-off', errorKind: null, message: 'MFA is already off' });
        return;
      }
      if (req.dryRun) {
        results.push({ email, outcome: 'would-disable', errorKind: null, message: 'would disable MFA' });
        return;
      }
      candidates.push({ user, authority: { via: decision.via, organisation: orgRef, ticket } });
      // decided in the transaction: disabled, or already-off when someone else got there first
      results.push({ email, outcome: 'disabled', errorKind: null, message: 'MFA disabled' });
    });
    // refusals are committed first, on their own: a removal transaction that fails must not take
    // the record of a refused attempt (rule 10) down with it
    if (refusals.length > 0) await withWriteTransaction(deps.db, (trx) => recordAudits(trx, deps, refusals));
    if (candidates.length === 0) return results;
    const removed = await withWriteTransaction(deps.db, (trx) => removeMfa(trx, deps, actor.user, candidates, reason));
    // keyed by the email as given (folded), not the portal's spelling of it
    const byEmail = new Map(candidates.map(({ user }) => [normaliseEmail(user.email) ?? user.email, user.id]));
    return results.map((r) =>
      r.outcome === 'disabled' && !removed.has(byEmail.get(r.email)!)
        ? { email: r.email, outcome: 'already-off', errorKind: null, message: 'MFA is already off' }
        : r,
    );
  }
  async function* results(): AsyncGenerator<BulkResult> {
    // small chunks first (the first results show at once), then up to BULK_CHUNK users per transaction
    let size = BULK_FIRST_CHUNK;
    for (let i = 0; i < emails.length; ) {
      if (req.signal) {
        // a turn of the event loop first: on SQLite a run is all microtasks, and a signal handler
        // (the CLI's Ctrl-C) only runs between them when the loop gets to poll
        await new Promise((resolve) => setImmediate(resolve));
        // stopped: the chunk before has committed and given all its results; no new one starts
        if (req.signal.aborted) return;
      }
      const part = emails.slice(i, i + size);
      i += part.length;
      for (const r of await chunk(part)) yield r;
      size = Math.min(size * 2, BULK_CHUNK);
    }
  }
  return { organisation: org.slug, total: emails.length, self, results: results() };
}
