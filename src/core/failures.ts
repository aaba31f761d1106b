/**
 * What a caller (the CLI, the library) makes of an error that is not a PortalMfaError: a driver's
 * error is a database problem — one line naming the database, never its password or the SQL —
 * and anything else is a bug. The database layer knows the drivers; callers ask here.
 */
import { LOST_CONNECTION, describeDatabaseError, driverMessage } from '../db/databaseErrors.js';
import type { DatabaseTarget } from '../db/url.js';
import { isPortalMfaError, PortalMfaError } from './errors.js';

/** Be told of every conflict the database made portal-mfa run a transaction again (PORTAL_MFA_DEBUG). */
export { onConflict } from '../db/conflictRetry.js';

/** Any error as a PortalMfaError: its own; a driver's, naming the database (`target`); else an unexpected one (config, a bug). */
export function asPortalMfaError(e: unknown, target?: DatabaseTarget): PortalMfaError {
  if (isPortalMfaError(e)) return e;
  const code = (e as { code?: unknown })?.code;
  const message = driverMessage(e);
  if ((typeof code === 'string' && /^(ER_|SQLITE_|E[A-Z]+$|PROTOCOL_)/.test(code)) || /^Knex: /.test(message) || LOST_CONNECTION.test(message)) {
    return describeDatabaseError(e, target);
  }
  return new PortalMfaError('config', `unexpected error: ${message}`, {
    code: 'config',
    hint: 'this is a bug in portal-mfa; run again with PORTAL_MFA_DEBUG=1 for details',
    cause: e,
  });
}
