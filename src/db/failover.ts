import type { Knex } from 'knex';
import { classifyDbError } from './conflictRetry.js';
import { describeHost, type DatabaseHost, type DatabaseTarget } from './url.js';

/**
 * Host failover for `mysql://user:pass@h1,h2,h3/db`: every new connection goes to the current
 * server; when that server cannot be reached (refused, unknown, timed out, reset) or is a Galera
 * node outside the primary component (1047 "WSREP has not yet prepared node"), the next listed
 * server is tried, in order, wrapping around once. Login and database errors are not failed over:
 * every node of a cluster would answer the same.
 *
 * It works at knex's raw-connection level, so a server that dies while a command runs is left for
 * the next one at the next new connection (the interrupted statement itself fails: nothing of its
 * transaction was committed).
 */
export interface Failover {
  /** host:port of the server the last connection was made to ('' before any) */
  readonly current: string;
  /** servers passed over, with the reason, e.g. "127.0.0.1:3307: connection refused" */
  readonly skipped: string[];
  install(knex: Knex): void;
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
]);

/** Why a server could not be used, in a few words; null when the error is not a reason to fail over. */
function unreachableReason(e: unknown): string | null {
  const err = e as { code?: unknown; message?: unknown };
  if (classifyDbError(e) === 'unavailable') return 'not ready (WSREP: not in the primary component)';
  const code = typeof err?.code === 'string' ? err.code : '';
  if (!UNREACHABLE.has(code)) return null;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'unknown host',
    EAI_AGAIN: 'unknown host',
    ETIMEDOUT: 'timed out',
    ER_CON_COUNT_ERROR: 'too many connections',
  };
  return words[code] ?? 'connection lost';
}

/** The error thrown when no listed server could be used; describeDatabaseError names them all. */
export class NoServerAvailable extends Error {
  // an E… code, so the CLI treats it like the driver's connection errors
  readonly code = 'ENOSERVER';
  constructor(readonly attempts: string[]) {
    super(`no database server available: ${attempts.join('; ')}`);
  }
}

interface RawConnection {
  query(sql: string, cb: (err: unknown) => void): void;
  destroy(): void;
}

/** Run SELECT 1 on a fresh raw connection: a Galera node outside the primary component refuses it. */
function probe(conn: RawConnection): Promise<void> {
  return new Promise((resolve, reject) => conn.query('SELECT 1', (err) => (err ? reject(err) : resolve())));
}

export function hostFailover(target: Extract<DatabaseTarget, { dialect: 'mysql' }>): Failover {
  const hosts: DatabaseHost[] = target.hosts?.length ? target.hosts : [{ host: target.host, port: target.port }];
  let index = 0;
  const state = { current: '', skipped: [] as string[] };
  return {
    get current() {
      return state.current;
    },
    get skipped() {
      return state.skipped;
    },
    install(knex) {
      const client = knex.client as unknown as {
        connectionSettings: Record<string, unknown>;
        acquireRawConnection(): Promise<RawConnection>;
      };
      const acquire = client.acquireRawConnection;
      client.acquireRawConnection = async function (this: typeof client) {
        const failures: string[] = [];
        for (let tried = 0; tried < hosts.length; tried++) {
          const i = (index + tried) % hosts.length;
          const h = hosts[i]!;
          // acquire() reads connectionSettings synchronously, so parallel creations cannot mix hosts.
          // Mutated, not copied: knex keeps the password there as a hidden (non-enumerable) property.
          this.connectionSettings.host = h.host;
          this.connectionSettings.port = h.port;
          let conn: RawConnection | undefined;
          try {
            conn = await acquire.call(this);
            await probe(conn);
            index = i;
            state.current = describeHost(h);
            return conn;
          } catch (e) {
            conn?.destroy();
            const reason = unreachableReason(e);
            // a single server keeps the driver's own error (and its precise message)
            if (reason === null || hosts.length === 1) throw e;
            const line = `${describeHost(h)}: ${reason}`;
            failures.push(line);
            if (!state.skipped.includes(line)) state.skipped.push(line);
          }
        }
        throw new NoServerAvailable(failures);
      };
    },
  };
}
