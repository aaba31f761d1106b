import { configError, isPortalMfaError, type PortalMfaError } from '../core/errors.js';
import { ATTEMPTS, classifyDbError } from './conflictRetry.js';
import { NoServerAvailable } from './failover.js';
import { describeHost, describeTarget, maskCredentials, type DatabaseTarget } from './url.js';

/** mysql2 errors without a code that mean the server connection is gone. */
export const LOST_CONNECTION = /connection is in closed state|Connection lost: The server closed the connection/;

/**
 * Turn a driver error (mysql2, better-sqlite3, knex) into one clear line naming what to fix.
 * Never includes the database password.
 */
export function describeDatabaseError(e: unknown, target?: DatabaseTarget): PortalMfaError {
  if (isPortalMfaError(e)) return e;
  const err = e as { code?: string; errno?: number; message?: string; sqlMessage?: string };
  const code = err?.code ?? '';
  const where = target ? describeTarget(target) : 'the database';
  const mysqlAt =
    target && target.dialect === 'mysql' ? (target.hosts ?? [{ host: target.host, port: target.port }]).map(describeHost).join(',') : 'the server';
  if (e instanceof NoServerAvailable) {
    return configError(`cannot connect to any of the database servers: ${maskCredentials(e.attempts.join('; '))}`, {
      hint: 'are the servers running? check the host list in --db / PORTAL_MFA_DB',
    });
  }
  const trouble = classifyDbError(e);
  if (trouble === 'conflict') {
    const attempts = (e as { [ATTEMPTS]?: number })[ATTEMPTS];
    return configError(`the database kept refusing the change because of conflicting concurrent changes${attempts ? ` (tried ${attempts} times)` : ''}`, {
      hint: 'nothing was changed by the refused step; run the command again',
    });
  }
  if (trouble === 'unavailable') {
    return configError(`the database server at ${mysqlAt} is not ready: it is not part of the cluster's primary component`, {
      hint: 'use another node of the cluster, or list several: --db mysql://user:pass@h1,h2,h3/db',
    });
  }
  switch (code) {
    case 'ECONNREFUSED':
      return configError(`cannot connect to the database server at ${mysqlAt}: connection refused`, {
        hint: 'is MySQL/MariaDB running there? check the host and port in --db / PORTAL_MFA_DB',
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return configError(`cannot connect to the database server: unknown host ${target && target.dialect === 'mysql' ? target.host : ''}`.trim(), {
        hint: 'check the host in --db / PORTAL_MFA_DB',
      });
    case 'ETIMEDOUT':
      return configError(`cannot connect to the database server at ${mysqlAt}: timed out`, { hint: 'check the host, port and firewall' });
    case 'ECONNRESET':
    case 'PROTOCOL_CONNECTION_LOST':
    case 'EPIPE':
      return configError(`lost the connection to the database server at ${mysqlAt}`, {
        hint: 'the server went away; nothing was committed by the interrupted step — run the command again',
      });
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
      return configError(`the database server refused the login for ${where}`, {
        hint: 'check the user and password in --db / PORTAL_MFA_DB',
      });
    case 'ER_BAD_DB_ERROR':
      return configError(`unknown database ${target && target.dialect === 'mysql' ? `'${target.database}'` : ''} on ${mysqlAt}`, {
        hint: 'create it (CREATE DATABASE … CHARACTER SET utf8mb4) or fix the database name in --db',
      });
    case 'ER_NO_SUCH_TABLE':
      return configError(`the database schema is missing a table (${err.sqlMessage ?? 'unknown'})`, {
        hint: 'run: portal-mfa db migrate',
      });
    case 'SQLITE_CANTOPEN':
      return configError(`cannot open the SQLite database ${where}`, { hint: 'check that the directory exists and is writable' });
    case 'SQLITE_READONLY':
    case 'SQLITE_READONLY_DBMOVED':
    case 'SQLITE_READONLY_DIRECTORY':
      return configError(`the SQLite database ${where} is read-only`, { hint: 'make the file and its directory writable' });
    case 'SQLITE_FULL':
      return configError(`the disk holding ${where} is full`, { hint: 'free some space; nothing was changed' });
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return configError(`${where} is not a valid SQLite database`, { hint: 'point --db at a portal-mfa database' });
    case 'SQLITE_BUSY':
      return configError(`the SQLite database ${where} is busy (locked by another process)`, { hint: 'try again' });
    case 'SQLITE_IOERR':
      return configError(`I/O error on ${where}`, { hint: 'check the disk' });
    default:
      break;
  }
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_READONLY')) {
    return configError(`cannot write ${where} (${code})`, { hint: 'check that the file and directory are writable and the disk has space' });
  }
  const message = driverMessage(e);
  if (LOST_CONNECTION.test(message)) {
    // e.g. the ROLLBACK knex sends after the server died mid-transaction (mysql2 gives it no code)
    return configError(`lost the connection to the database server at ${mysqlAt}`, {
      hint: 'the server went away; nothing was committed by the interrupted step — run the command again',
    });
  }
  if (/Knex: Timeout acquiring a connection/.test(message)) {
    return configError(`cannot connect to the database at ${mysqlAt}: timed out`, { hint: 'check that the server is reachable' });
  }
  if (/no such table/i.test(message)) {
    return configError(`the database schema is missing a table`, { hint: 'run: portal-mfa db migrate' });
  }
  return configError(`database error on ${where}: ${message}`);
}

/** knex puts the statement in front of the driver's message: "insert into `t` (…) values (…) - Deadlock found…" */
const SQL_PREFIX =
  /^\s*(select|insert|update|delete|replace|create|alter|drop|truncate|with|begin|commit|rollback|savepoint|release|set|show|pragma|lock|unlock|call|explain)\b/i;

/**
 * The driver's own message, first line only, for printing: never the SQL text knex prefixes it
 * with (it holds table layouts and bound values such as emails), never a URL password.
 */
export function driverMessage(e: unknown): string {
  const err = e as { message?: unknown; sqlMessage?: unknown };
  let message: string;
  if (typeof err?.sqlMessage === 'string' && err.sqlMessage !== '') message = err.sqlMessage;
  else {
    message = (typeof err?.message === 'string' ? err.message : String(e)).split('\n')[0] ?? '';
    const sep = message.lastIndexOf(' - ');
    if (SQL_PREFIX.test(message)) message = sep >= 0 ? message.slice(sep + 3) : 'the statement failed';
  }
  // MariaDB quotes the offending value ("Duplicate entry 'a@b.example' for key 'email'"): data, not for the terminal
  message = message.replace(/^Duplicate entry '.*' for key/s, 'Duplicate entry for key');
  return maskCredentials(message.split('\n')[0] ?? '').trim() || 'unknown error';
}
