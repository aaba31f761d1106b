/**
 * The typed error family of the core. Every refusal carries a coarse `kind` (what sort of
 * failure: the CLI maps it to an exit code in exactly one place, src/cli/exitCodes.ts) and a
 * stable `code` (which failure, for scripts and for the portal backend). No exit codes here.
 */
export type ErrorKind = 'rejected' | 'usage' | 'not_found' | 'locked' | 'forbidden' | 'wrong_state' | 'config' | 'cancelled';

/** Stable machine-readable codes (SPEC §6 `{"error":{"code":…}}`). Add, never rename. */
export type ErrorCode =
  // rejected
  | 'wrong_code'
  | 'replayed_code'
  | 'wrong_password'
  | 'wrong_recovery_code'
  | 'wrong_access_code'
  | 'no_match'
  | 'challenge_invalid'
  | 'reauth_invalid'
  | 'device_not_trusted'
  | 'rejected'
  // usage
  | 'invalid_input'
  | 'missing_input'
  | 'ambiguous_organisation'
  | 'ticket_required'
  | 'second_factor_required'
  // not found
  | 'user_not_found'
  | 'organisation_not_found'
  | 'device_not_found'
  | 'not_found'
  // locked / rate limited
  | 'locked'
  | 'hard_locked'
  | 'rate_limited'
  | 'password_rate_limited'
  // forbidden
  | 'forbidden'
  | 'protected_account'
  | 'device_trust_off'
  | 'trust_not_self'
  // wrong state
  | 'mfa_not_enabled'
  | 'mfa_already_active'
  | 'nothing_pending'
  | 'enrolment_required'
  | 'not_locked'
  | 'not_demo_database'
  | 'ambiguous_account'
  | 'account_inactive'
  | 'table_taken'
  | 'wrong_state'
  // configuration / database
  | 'config'
  | 'invalid_config'
  | 'mapping_missing'
  | 'mapping_invalid'
  | 'driver_missing'
  | 'database'
  | 'closed'
  | 'cancelled';

const DEFAULT_CODE: Record<ErrorKind, ErrorCode> = {
  rejected: 'rejected',
  usage: 'invalid_input',
  not_found: 'not_found',
  locked: 'locked',
  forbidden: 'forbidden',
  wrong_state: 'wrong_state',
  config: 'config',
  cancelled: 'cancelled',
};

type Opts = { hint?: string; details?: Record<string, unknown>; cause?: unknown; code?: ErrorCode };

/**
 * A mark every PortalMfaError carries, shared by every copy of this module in a process: a backend
 * that loads portal-mfa both as an ES module and through require() (a dependency of a dependency)
 * gets two classes, and `instanceof` must still hold for an error from either.
 */
const BRAND = Symbol.for('portal-mfa.PortalMfaError');

export class PortalMfaError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
  readonly [BRAND] = true;
  readonly kind: ErrorKind;
  readonly code: ErrorCode;
  readonly hint?: string;
  /** Extra machine-readable facts (e.g. the organisations to choose from). Never secrets. */
  readonly details?: Record<string, unknown>;

  constructor(kind: ErrorKind, message: string, opts: Opts = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PortalMfaError';
    this.kind = kind;
    this.code = opts.code ?? DEFAULT_CODE[kind];
    this.hint = opts.hint;
    this.details = opts.details;
  }
}

export const rejected = (m: string, o?: Opts) => new PortalMfaError('rejected', m, o);
export const usageError = (m: string, o?: Opts) => new PortalMfaError('usage', m, o);
export const notFound = (m: string, o?: Opts) => new PortalMfaError('not_found', m, o);
export const locked = (m: string, o?: Opts) => new PortalMfaError('locked', m, o);
export const forbidden = (m: string, o?: Opts) => new PortalMfaError('forbidden', m, o);
export const wrongState = (m: string, o?: Opts) => new PortalMfaError('wrong_state', m, o);
export const configError = (m: string, o?: Opts) => new PortalMfaError('config', m, o);
export const cancelled = (m = 'cancelled', o?: Opts) => new PortalMfaError('cancelled', m, o);

export function isPortalMfaError(e: unknown): e is PortalMfaError {
  return e instanceof PortalMfaError;
}
