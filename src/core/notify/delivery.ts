import type { Db } from '../../db/store.js';
/**
 * Delivery of the outbox (SPEC §7): pending notices are claimed, sent through a Mailer and marked.
 *
 * Guarantee: AT-LEAST-ONCE. A notice is claimed before it is sent (attempts + 1, and a lease:
 * next_attempt_at moves LEASE_MS ahead, so no other process sends it meanwhile) and marked `sent`
 * right after the SMTP server accepts it. A process killed at any point loses nothing: a claimed
 * notice that was never marked becomes due again when its lease ends. The one window for a
 * duplicate is a crash between the server's "250 accepted" and the UPDATE that marks the row —
 * milliseconds — and then the retry carries the same Message-ID, so the recipient's mail system
 * can recognise it. We choose this over at-most-once (mark first, then send) because a security
 * notice that silently never arrives is worse than one that arrives twice.
 *
 * Retries back off exponentially from RETRY_BASE_MS (1, 2, 4 … minutes, capped at RETRY_MAX_MS);
 * after MAX_ATTEMPTS attempts a notice is `failed` and no longer retried. When the server cannot be
 * reached at all (refused, timeout, TLS or authentication failure) the run stops early: the notices
 * not yet tried are handed back untouched rather than each failing the same way.
 */
import {
  claimNotifications,
  dueNotificationIds,
  markNotificationAttemptFailed,
  markNotificationSent,
  releaseNotification,
  type ClaimedNotification,
} from '../../db/notificationRepository.js';

export const MAX_ATTEMPTS = 10;
export const LEASE_MS = 5 * 60_000;
const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 6 * 60 * 60_000;

/** One mail to send. `messageId` is stable per notice, so a re-sent notice is recognisable. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /** the local part of the Message-ID (the mailer adds the domain) */
  messageId: string;
}

/** Anything that can send a mail (src/mail/smtpMailer.ts: nodemailer over SMTP). */
export interface Mailer {
  /** Resolves once the server has accepted the message; rejects with the server's or the socket's error. */
  send(mail: OutgoingMail): Promise<void>;
  close(): Promise<void>;
}

/** An error that says the server is unreachable for every message, not just this one. */
export class MailerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MailerUnavailableError';
  }
}

export interface DeliveryOptions {
  /** only these notices (the ones a command just queued); default: every pending notice that is due */
  ids?: number[];
  /** at most this many notices */
  limit?: number;
  /** messages in flight at once */
  concurrency: number;
  now: () => number;
  /** after each notice tried: how many are done of how many were due when the run started */
  onProgress?: (done: number, total: number) => void;
}

interface DeliveryError {
  id: number;
  email: string;
  error: string;
}

export interface DeliveryResult {
  sent: number;
  /** notices that used their last attempt in this run (now `failed`) */
  failed: number;
  /** notices of this run's scope (the ids, or the whole outbox) still pending afterwards */
  stillPending: number;
  /** one entry per failed attempt in this run */
  errors: DeliveryError[];
  /** set when the run stopped early because the server could not be reached */
  unavailable?: string;
}

export function retryDelay(attempts: number): number {
  return Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1), RETRY_MAX_MS);
}

/** The local part of a notice's Message-ID: the same on every attempt, distinct across databases' ids by time. */
function messageIdFor(n: { id: number; created_at?: number }): string {
  return `portal-mfa.notice.${n.id}${n.created_at !== undefined ? `.${n.created_at}` : ''}`;
}

/** How many due ids are read per query of the queue. */
const PAGE = 500;

/**
 * How many notices one claim takes: a few per connection, so the workers never wait long for work,
 * and a crashed process strands few notices behind its lease (and two processes share the queue).
 */
export function claimBatch(concurrency: number): number {
  return Math.max(10, concurrency * 4);
}

export async function deliverNotifications(db: Db, mailer: Mailer, opts: DeliveryOptions): Promise<DeliveryResult> {
  const concurrency = Math.max(1, Math.floor(opts.concurrency));
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  const batch = claimBatch(concurrency);
  const result: DeliveryResult = { sent: 0, failed: 0, stillPending: 0, errors: [] };
  const requested = opts.ids ? [...new Set(opts.ids)].sort((a, b) => a - b) : undefined;
  const total = Math.min(limit, requested ? requested.length : await countDue(db, opts.now()));
  let done = 0;

  // The queue: ids read a page at a time, claimed a batch at a time, handed to the workers one by one.
  let page: number[] = [];
  let cursor = 0;
  let taken = 0;
  let exhausted = false;
  const claimed: ClaimedNotification[] = [];
  let refilling: Promise<void> | null = null;

  const refill = async () => {
    while (claimed.length === 0 && !exhausted) {
      if (taken >= limit || result.unavailable !== undefined) {
        exhausted = true;
        return;
      }
      if (page.length === 0) {
        if (requested) page = requested.splice(0, PAGE);
        else page = await dueNotificationIds(db, opts.now(), cursor, PAGE);
        if (page.length === 0) {
          exhausted = true;
          return;
        }
        cursor = page[page.length - 1]!;
      }
      const chunk = page.splice(0, Math.min(batch, limit - taken));
      const now = opts.now();
      const got = await claimNotifications(db, chunk, now, now + LEASE_MS);
      taken += got.length;
      claimed.push(...got);
    }
  };
  const next = async (): Promise<ClaimedNotification | undefined> => {
    while (claimed.length === 0 && !exhausted) {
      refilling ??= refill().finally(() => (refilling = null));
      await refilling;
    }
    return claimed.shift();
  };

  const worker = async () => {
    for (let n = await next(); n !== undefined; n = await next()) {
      if (result.unavailable !== undefined) {
        // the server is down: give this one back untried
        await releaseNotification(db, n.id, n.attempts - 1, opts.now());
        continue;
      }
      await attempt(db, mailer, n, opts.now, result);
      opts.onProgress?.(++done, total);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  result.stillPending = await countStillPending(db, opts.ids);
  return result;
}

async function attempt(db: Db, mailer: Mailer, n: ClaimedNotification, now: () => number, result: DeliveryResult): Promise<void> {
  try {
    await mailer.send({ to: n.email, subject: n.subject, text: n.body, messageId: messageIdFor(n) });
  } catch (e) {
    const error = describeMailError(e);
    result.errors.push({ id: n.id, email: n.email, error });
    if (e instanceof MailerUnavailableError) result.unavailable ??= error;
    const last = n.attempts >= MAX_ATTEMPTS;
    await markNotificationAttemptFailed(db, n.id, error.slice(0, 1000), last ? null : now() + retryDelay(n.attempts));
    if (last) result.failed++;
    return;
  }
  // Accepted by the server: record it at once (the only window for a duplicate is before this line).
  await markNotificationSent(db, n.id, now());
  result.sent++;
}

function describeMailError(e: unknown): string {
  const message = (e as Error)?.message ?? String(e);
  return message.replace(/[\r\n]+/g, ' ').trim() || 'unknown error';
}

async function countDue(db: Db, now: number): Promise<number> {
  const r = await db.knex(db.t.notifications).where('status', 'pending').andWhere('next_attempt_at', '<=', now).count({ n: '*' }).first();
  return Number(r?.n ?? 0);
}

async function countStillPending(db: Db, ids: number[] | undefined): Promise<number> {
  if (ids && ids.length === 0) return 0;
  let n = 0;
  if (!ids) {
    const r = await db.knex(db.t.notifications).where('status', 'pending').count({ n: '*' }).first();
    return Number(r?.n ?? 0);
  }
  // chunked: a bulk command can queue tens of thousands
  for (let i = 0; i < ids.length; i += 500) {
    const r = await db
      .knex(db.t.notifications)
      .whereIn('id', ids.slice(i, i + 500))
      .andWhere('status', 'pending')
      .count({ n: '*' })
      .first();
    n += Number(r?.n ?? 0);
  }
  return n;
}
