/**
 * Retrying work the database refused because of a concurrent change.
 *
 * On MariaDB/MySQL a transaction can be chosen as a deadlock victim (ER_LOCK_DEADLOCK 1213) or
 * give up waiting for a row lock (ER_LOCK_WAIT_TIMEOUT 1205). On a Galera cluster every node
 * accepts writes and a transaction that conflicts with one committed on another node fails
 * certification at COMMIT, which also surfaces as 1213. In all these cases the server has rolled
 * the work back and expects the application to run it again from the start — which is safe here
 * because every decision portal-mfa takes is re-read inside the retried transaction.
 *
 * ER_UNKNOWN_COM_ERROR 1047 ("WSREP has not yet prepared node for application use") is NOT a
 * conflict: that node has left the cluster's primary component. Retrying there is pointless; it is
 * reported as the node being unavailable (and connect.ts moves on to the next listed host).
 */

export type DbTrouble = 'conflict' | 'unavailable';

interface DriverError {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
  sqlMessage?: unknown;
}

const CONFLICT_CODES = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
const CONFLICT_ERRNOS = new Set([1213, 1205]);

/** 'conflict' (retry from the start), 'unavailable' (this node cannot serve) or null (anything else). */
export function classifyDbError(e: unknown): DbTrouble | null {
  if (!e || typeof e !== 'object') return null;
  const err = e as DriverError;
  if ((typeof err.code === 'string' && CONFLICT_CODES.has(err.code)) || (typeof err.errno === 'number' && CONFLICT_ERRNOS.has(err.errno))) {
    return 'conflict';
  }
  const text = `${typeof err.sqlMessage === 'string' ? err.sqlMessage : ''} ${typeof err.message === 'string' ? err.message : ''}`;
  if (err.errno === 1047 || err.code === 'ER_UNKNOWN_COM_ERROR' || /WSREP has not yet prepared node/i.test(text)) return 'unavailable';
  return null;
}

export interface RetryPolicy {
  /** total attempts, the first included */
  attempts: number;
  /** upper bound of the first backoff; doubles per attempt */
  baseMs: number;
  /** upper bound of any one backoff */
  capMs: number;
}

/**
 * 10 attempts with "full jitter" backoff (a random wait below 15, 30, 60 … ms, at most 1 s): 21
 * processes signing in as one user on three nodes (all writing that user's password-budget row)
 * needed up to 7 attempts in the cluster suite (docs/operator/databases.md), so 10 leaves a
 * margin; a hopeless case gives up after ~4 s of waiting.
 */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 10, baseMs: 15, capMs: 1000 };

export interface RetryEvent {
  kind: 'transaction' | 'statement';
  /** the attempt that failed (1-based) */
  attempt: number;
  attempts: number;
  code: string;
  /** false: this was the last attempt, the error is passed on */
  willRetry: boolean;
}

/** Counts for diagnostics (tests and PORTAL_MFA_DEBUG): retries done and conflicts given up on, in this process. */
export const retryCounters = { transactionRetries: 0, statementRetries: 0, gaveUp: 0 };

type Listener = (e: RetryEvent) => void;
const listeners = new Set<Listener>();

/** Be told about every conflict (e.g. the CLI prints them under PORTAL_MFA_DEBUG). Returns an unsubscribe. */
export function onConflict(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Marks the error that ended the retries, so its message can say how often it was tried. */
export const ATTEMPTS = Symbol('portal-mfa.attempts');

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Run `work` and run it again, from the start, while it fails with a conflict — at most
 * policy.attempts times in all, with jittered exponential backoff between attempts. Other errors
 * and the last conflict are thrown as they are (the last one tagged with [ATTEMPTS]).
 */
export async function retryOnConflict<T>(kind: RetryEvent['kind'], work: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (e) {
      if (classifyDbError(e) !== 'conflict') throw e;
      const willRetry = attempt < policy.attempts;
      const code = String((e as DriverError).code ?? (e as DriverError).errno ?? 'conflict');
      for (const l of listeners) l({ kind, attempt, attempts: policy.attempts, code, willRetry });
      if (!willRetry) {
        retryCounters.gaveUp++;
        try {
          (e as { [ATTEMPTS]?: number })[ATTEMPTS] = attempt;
        } catch {
          /* frozen error object: the message just won't say how often */
        }
        throw e;
      }
      if (kind === 'transaction') retryCounters.transactionRetries++;
      else retryCounters.statementRetries++;
      const bound = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
      await sleep(Math.random() * bound);
    }
  }
}
