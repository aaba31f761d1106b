/**
 * Rules 8 and 9 written once: removing a user's MFA — the secret, any pending enrolment, recovery
 * codes, every trusted device, and their CLI sessions — with one audit row and one notice per
 * user, inside the caller's transaction. `disable` removes one user's, `org disable-mfa` a chunk
 * of users'; both come here.
 */
import { removeMfaOfUsers } from '../../db/bulkDisable.js';
import type { Db } from '../../db/store.js';
import { type AuditAction, type AuditEvent, party, recordAudits } from '../primitives/audit.js';
import type { MfaDeps } from '../deps.js';
import type { PortalUser, Removal, UserId } from '../domain.js';
import type { NotificationEvent } from '../notify/events.js';
import { queueNotifications } from '../notify/outbox.js';

/** Who removes it, and on what authority (the audit action and the notice follow from it, SPEC §7). */
export interface RemovalAuthority {
  via: 'self' | 'support' | 'org-admin';
  organisation: { id: string; slug: string } | null;
  ticket: string | null;
}

function removalKind(auth: RemovalAuthority, actor: PortalUser): { action: AuditAction; notice: NotificationEvent } {
  if (auth.via === 'support') return { action: 'mfa.reset', notice: { kind: 'mfa-reset-support', by: actor.email, ticket: auth.ticket ?? '' } };
  if (auth.via === 'org-admin')
    return { action: 'org.disable-mfa', notice: { kind: 'mfa-disabled-admin', by: actor.email, organisation: auth.organisation?.slug ?? '' } };
  return { action: 'mfa.disable', notice: { kind: 'mfa-disabled-self' } };
}

/**
 * Remove the MFA of every target that still has a credential (read under a lock: of two concurrent
 * removals one finds it), with the audit rows and notices, in `trx`. Returns what was removed per
 * user; a target that had nothing left is absent and untouched.
 */
export async function removeMfa(
  trx: Db,
  deps: MfaDeps,
  actor: PortalUser,
  targets: { user: PortalUser; authority: RemovalAuthority }[],
  reason: string | null,
): Promise<Map<UserId, Removal>> {
  const done = await removeMfaOfUsers(
    trx,
    targets.map((t) => t.user.id),
    deps.clock(),
  );
  const events: AuditEvent[] = [];
  const notices: { to: PortalUser; event: NotificationEvent }[] = [];
  for (const { user, authority } of targets) {
    const removal = done.get(user.id);
    if (!removal) continue;
    const { action, notice } = removalKind(authority, actor);
    events.push({
      action,
      outcome: 'success',
      actor: party(actor),
      target: party(user),
      organisation: authority.organisation,
      ticket: authority.ticket,
      reason,
      detail: { ...removal },
    });
    notices.push({ to: user, event: notice });
  }
  await recordAudits(trx, deps, events);
  await queueNotifications(trx, deps, notices);
  return done;
}
