/**
 * Sending the outbox (SPEC §7, §8) as operations: `notify send` (every due notice, audited as an
 * infrastructure operation like `keys rotate`) and the delivery after a command (the notices it
 * queued). Notices go only to the relay the portal's delivery policy names; a client's own SMTP
 * settings lend that relay's credentials and nothing else (src/mail/relay.ts).
 */
import type { Db } from '../../db/store.js';
import { describeDatabaseError } from '../../db/databaseErrors.js';
import type { DatabaseTarget } from '../../db/url.js';
import { resolveRelay, type Relay } from '../../mail/relay.js';
import type { SmtpConfig } from '../../mail/smtpConfig.js';
import { configError } from '../errors.js';
import { type AuditDeps, recordAudit } from '../primitives/audit.js';
import { readPolicy } from '../rules/policy.js';
import { type DeliveryResult, deliverNotifications, type Mailer } from './delivery.js';
import { countPendingNotifications } from '../../db/notificationRepository.js';

export interface SendOptions {
  /** at most this many notices */
  limit?: number;
  /** SMTP connections at once */
  concurrency: number;
  /** told how many notices are due before the first is sent, then after each one */
  onStart?: (due: number) => void | Promise<void>;
  onProgress?: (done: number, total: number) => void;
  /** told, before anything is sent, why the client's own SMTP settings are not used */
  onIgnored?: (why: string) => void;
}

async function openMailer(smtp: SmtpConfig, concurrency: number): Promise<Mailer> {
  const { createSmtpMailer } = await import('../../mail/smtpMailer.js');
  return createSmtpMailer(smtp, { concurrency });
}

/** The portal's relay for this client (its SMTP settings lend credentials for that relay only). */
async function relayOf(db: Db, client: SmtpConfig | undefined): Promise<Relay> {
  return resolveRelay((await readPolicy(db)).delivery, client);
}

/**
 * `notify send`: deliver every notice that is due (at most `limit`) through the portal's relay,
 * audited with the counts. No relay in the policy is a configuration error; an unreachable server
 * is reported in the result (`unavailable`) and the notices stay pending.
 */
export async function sendDueNotices(db: Db, deps: AuditDeps, client: SmtpConfig | undefined, opts: SendOptions): Promise<DeliveryResult & { relay: string }> {
  const relay = await relayOf(db, client);
  if (relay.ignored) opts.onIgnored?.(relay.ignored);
  const smtp = relay.smtp;
  if (!smtp) {
    throw configError("the portal's delivery policy names no SMTP relay: there is no server to send notices to", {
      hint: "support sets one with: portal-mfa policy set --smtp-relay smtp://host:port --mail-from ADDRESS; or let the portal's own mailer read the notifications table",
    });
  }
  const mailer = await openMailer(smtp, opts.concurrency);
  let result: DeliveryResult;
  try {
    const due = (await countPendingNotifications(db, deps.clock())).due;
    await opts.onStart?.(Math.min(due, opts.limit ?? due));
    result = await deliverNotifications(db, mailer, { limit: opts.limit, concurrency: opts.concurrency, now: deps.clock, onProgress: opts.onProgress });
  } finally {
    await mailer.close();
  }
  await recordAudit(db, deps, {
    action: 'notify.send',
    outcome: result.unavailable ? 'failure' : 'success',
    detail: { sent: result.sent, failed: result.failed, errors: result.errors.length, stillPending: result.stillPending, smtp: smtp.display },
  });
  return { ...result, relay: smtp.display };
}

export type QueuedDelivery =
  /** the policy could not be read (the database went away): the notices wait in the outbox */
  | { kind: 'unreadable'; reason: string }
  /** the policy names no relay: the notices wait in the outbox (for `notify send`, or the portal's own mailer) */
  | { kind: 'no-relay'; ignored?: string }
  | { kind: 'delivered'; result: DeliveryResult; ignored?: string }
  /** the mailer failed before or while sending */
  | { kind: 'failed'; reason: string; ignored?: string };

/**
 * After a command: deliver the notices it queued (and committed). Never throws: whatever happens
 * here is told in the result, and the notices stay in the outbox for `notify send`.
 */
export async function deliverQueuedNotices(
  open: () => Promise<Db>,
  target: () => DatabaseTarget,
  ids: number[],
  client: SmtpConfig | undefined,
  opts: SendOptions & { now: () => number },
): Promise<QueuedDelivery> {
  let db: Db;
  let relay: Relay;
  try {
    db = await open();
    relay = await relayOf(db, client);
  } catch (e) {
    // one line naming the database, never SQL or a password
    return { kind: 'unreadable', reason: describeDatabaseError(e, targetOrUndefined(target)).message };
  }
  if (!relay.smtp) return { kind: 'no-relay', ignored: relay.ignored };
  let mailer: Mailer | undefined;
  try {
    mailer = await openMailer(relay.smtp, opts.concurrency);
    await opts.onStart?.(ids.length);
    const result = await deliverNotifications(db, mailer, { ids, concurrency: opts.concurrency, now: opts.now, onProgress: opts.onProgress });
    return { kind: 'delivered', result, ignored: relay.ignored };
  } catch (e) {
    return { kind: 'failed', reason: (e as Error)?.message ?? String(e), ignored: relay.ignored };
  } finally {
    await mailer?.close().catch(() => undefined);
  }
}

function targetOrUndefined(target: () => DatabaseTarget): DatabaseTarget | undefined {
  try {
    return target();
  } catch {
    return undefined; // an unusable URL was reported by the command itself
  }
}
