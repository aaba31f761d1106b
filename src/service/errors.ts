/**
 * SPEC §10: the one place a core error kind becomes an HTTP status (as src/cli/exitCodes.ts is for
 * the CLI's exit codes), and the one shape of every error body: `{"error":{"code","message"}}` with
 * the core's stable code. Hints are for the CLI's reader and are left out; `details` (never
 * secrets: e.g. the organisations to choose from) are kept for clients that act on them.
 */
import { isPortalMfaError, type PortalMfaError, type ErrorKind } from '../core/errors.js';

const HTTP_STATUS: Record<ErrorKind, number> = {
  rejected: 401,
  usage: 400,
  not_found: 404,
  locked: 429,
  forbidden: 403,
  wrong_state: 409,
  config: 503,
  cancelled: 400,
};

/** Codes of the service's own refusals (HTTP concerns the core has no word for). */
export type ServiceErrorCode = 'unauthenticated' | 'scope_missing' | 'too_many_requests' | 'body_too_large' | 'unsupported_media_type' | 'route_not_found';

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly code: ServiceErrorCode | 'invalid_input' | 'rejected',
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The status and body of anything a handler threw; `unexpected` is logged by the caller (without secrets). */
export function errorResponse(e: unknown): { status: number; body: ErrorBody; headers: Record<string, string>; unexpected: boolean } {
  if (e instanceof ServiceError) return { status: e.status, body: { error: { code: e.code, message: e.message } }, headers: e.headers, unexpected: false };
  if (isPortalMfaError(e)) {
    const err = e as PortalMfaError;
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.details) body.error.details = err.details;
    return { status: HTTP_STATUS[err.kind], body, headers: {}, unexpected: false };
  }
  // fastify's own: schema validation (400), body too large (413), bad JSON (400), unsupported type (415)
  const f = e as { statusCode?: number; code?: string; validation?: unknown; message?: string };
  if (f?.validation) return { status: 400, body: { error: { code: 'invalid_input', message: f.message ?? 'invalid input' } }, headers: {}, unexpected: false };
  if (f?.statusCode === 413)
    return { status: 413, body: { error: { code: 'body_too_large', message: 'the request body is too large' } }, headers: {}, unexpected: false };
  if (f?.statusCode === 415)
    return {
      status: 415,
      body: { error: { code: 'unsupported_media_type', message: 'send JSON (Content-Type: application/json)' } },
      headers: {},
      unexpected: false,
    };
  if (typeof f?.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500)
    return { status: f.statusCode, body: { error: { code: 'invalid_input', message: 'the request could not be read' } }, headers: {}, unexpected: false };
  // a driver's error that escaped a repository: the database went away (details only in the log)
  const code = (e as { code?: unknown })?.code;
  const text = String((e as { message?: unknown })?.message ?? '');
  if ((typeof code === 'string' && /^(ER_|SQLITE_|E[A-Z]+$|PROTOCOL_)/.test(code)) || /^Knex: |Connection lost|connection is in closed state/i.test(text))
    return {
      status: 503,
      body: { error: { code: 'database', message: 'the database is unavailable; try again shortly' } },
      headers: { 'retry-after': '5' },
      unexpected: true,
    };
  return { status: 500, body: { error: { code: 'internal', message: 'unexpected error; the service log has the details' } }, headers: {}, unexpected: true };
}
