import { credentialsOfUser } from '../db/credentialRepository.js';
import { findOrganisationBySlug, membershipRole, type OrganisationRow } from '../db/organisationRepository.js';
import { countMembersWithoutMfa, updateOrganisationPolicy } from '../db/organisationReports.js';
import { withWriteTransaction } from '../db/transaction.js';
import { findUserByEmail, type UserRow } from '../db/userRepository.js';
import { recordAudit } from './audit.js';
import { validateSlug } from './authorise.js';
import type { MfaDeps } from './deps.js';
import { disableMfa } from './disable.js';
import { normaliseEmail } from './email.js';
import { forbidden, isPortalMfaError, notFound, usageError } from './errors.js';
import { party } from './verification.js';

/** The organisation named with --org, if the actor administers it (or is support, where allowed). */
export async function organisationForAdmin(
  deps: MfaDeps,
  actor: UserRow,
  rawSlug: string,
  action: string,
  opts: { supportAllowed: boolean },
): Promise<OrganisationRow> {
  const slug = validateSlug(rawSlug);
  const org = await findOrganisationBySlug(deps.knex, slug);
  if (!org) throw notFound(`no organisation '${slug}'`, { hint: 'portal-mfa org list shows yours' });
  const role = await membershipRole(deps.knex, org.id, actor.id);
  if (role === 'admin' || (opts.supportAllowed && actor.role === 'support')) return org;
  await recordAudit(deps.knex, deps, { action, outcome: 'refused', actor: party(actor), organisation: { id: org.id, slug: org.slug }, reason: 'not an admin of the organisation' });
  throw forbidden(`${actor.email} is not an admin of '${slug}'`);
}

export interface PolicyChange {
  require?: boolean;
  graceDays?: number | null;
  deviceTrust?: boolean;
}

export interface PolicyResult {
  before: { mfaRequired: boolean; graceDays: number | null; deviceTrust: boolean };
  after: { mfaRequired: boolean; graceDays: number | null; deviceTrust: boolean };
  membersWithoutMfa: { total: number; admins: number };
}

export async function membersWithoutMfa(deps: MfaDeps, org: OrganisationRow) {
  return countMembersWithoutMfa(deps.knex, org.id);
}

/** Rule 4 settings of an organisation, changed and audited in one transaction. */
export async function setOrganisationPolicy(deps: MfaDeps, actor: UserRow, org: OrganisationRow, change: PolicyChange): Promise<PolicyResult> {
  const now = deps.clock();
  const before = { mfaRequired: org.mfa_required, graceDays: org.grace_days, deviceTrust: org.device_trust_allowed };
  const after = {
    mfaRequired: change.require ?? org.mfa_required,
    graceDays: change.graceDays !== undefined ? change.graceDays : org.grace_days,
    deviceTrust: change.deviceTrust ?? org.device_trust_allowed,
  };
  // the grace period runs from when the requirement was switched on (or its length last changed)
  const since = !after.mfaRequired ? null : !before.mfaRequired || change.graceDays !== undefined ? now : org.mfa_required_since ?? now;
  const lacking = await countMembersWithoutMfa(deps.knex, org.id);
  await withWriteTransaction(deps.knex, async (trx) => {
    await updateOrganisationPolicy(trx, org.id, { mfa_required: after.mfaRequired, grace_days: after.graceDays, mfa_required_since: since, device_trust_allowed: after.deviceTrust });
    await recordAudit(trx, deps, {
      action: 'org.policy',
      outcome: 'success',
      actor: party(actor),
      organisation: { id: org.id, slug: org.slug },
      detail: { before, after, membersWithoutMfa: lacking.total },
    });
  });
  return { before, after, membersWithoutMfa: lacking };
}

export type BulkOutcome = 'disabled' | 'would-disable' | 'invalid' | 'not-found' | 'not-member' | 'no-mfa' | 'error';

export interface BulkResult {
  email: string;
  outcome: BulkOutcome;
  /** the exit code this user alone would have given (SPEC §4) */
  exitCode: number;
  message: string;
}

/**
 * One user of a bulk `org disable-mfa`: its own transaction, its own result; problems with one
 * user (unknown, not a member, no MFA) are reported and change nothing.
 */
export async function disableMemberMfa(
  deps: MfaDeps,
  actor: UserRow,
  org: OrganisationRow,
  rawEmail: string,
  opts: { dryRun: boolean; ticket: string | null; reason: string | null },
): Promise<BulkResult> {
  const email = normaliseEmail(rawEmail);
  if (email === null) return { email: rawEmail.slice(0, 254), outcome: 'invalid', exitCode: 2, message: 'not a valid email' };
  const user = await findUserByEmail(deps.knex, email);
  if (!user) return { email, outcome: 'not-found', exitCode: 3, message: 'no such user' };
  if ((await membershipRole(deps.knex, org.id, user.id)) === undefined) {
    return { email, outcome: 'not-member', exitCode: 3, message: `not a member of ${org.slug}` };
  }
  if (opts.dryRun) {
    const { active, pending } = await credentialsOfUser(deps.knex, user.id);
    return active || pending
      ? { email, outcome: 'would-disable', exitCode: 0, message: 'would disable MFA' }
      : { email, outcome: 'no-mfa', exitCode: 6, message: 'MFA is not enabled' };
  }
  try {
    await disableMfa(deps, user, {
      actor: party(actor),
      action: 'org.disable-mfa',
      organisation: { id: org.id, slug: org.slug },
      ticket: opts.ticket,
      reason: opts.reason,
    });
    return { email, outcome: 'disabled', exitCode: 0, message: 'MFA disabled' };
  } catch (e) {
    if (isPortalMfaError(e) && e.kind === 'wrong_state') return { email, outcome: 'no-mfa', exitCode: 6, message: 'MFA is not enabled' };
    throw e;
  }
}

/** Emails from --users-from: one per line, or CSV with an `email` column. */
export async function parseUserList(text: string): Promise<string[]> {
  const lines = text.split(/\r?\n/);
  const first = (lines.find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? '').trim();
  if (first.includes(',') || /^"?email"?$/i.test(first)) {
    const { parse } = await import('csv-parse/sync');
    let records: Record<string, string>[];
    try {
      records = parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true, relax_column_count: true });
    } catch (e) {
      throw usageError(`the user list is not valid CSV: ${(e as Error).message.split('\n')[0]}`);
    }
    if (records.length > 0 && !('email' in records[0]!)) throw usageError('the CSV user list has no "email" column');
    return records.map((r) => r.email ?? '').filter((e) => e !== '');
  }
  return lines.map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}
