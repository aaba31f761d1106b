/**
 * The typed error family. Everything below the CLI entry point throws one of these;
 * only src/cli/main.ts turns them into an exit code (SPEC §4).
 */
export type ErrorKind =
  | 'rejected'
  | 'usage'
  | 'not_found'
  | 'locked'
  | 'forbidden'
  | 'wrong_state'
  | 'config'
  | 'cancelled';

export const EXIT_CODES: Record<ErrorKind, number> = {
  rejected: 1,
  usage: 2,
  not_found: 3,
  locked: 4,
  forbidden: 5,
  wrong_state: 6,
  config: 10,
  cancelled: 130,
};

export class PortalMfaError extends Error {
  readonly kind: ErrorKind;
  readonly hint?: string;
  /** Extra machine-readable facts (e.g. the organisations to choose from). Never secrets. */
  readonly details?: Record<string, unknown>;

  constructor(kind: ErrorKind, message: string, opts: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PortalMfaError';
    this.kind = kind;
    this.hint = opts.hint;
    this.details = opts.details;
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

type Opts = { hint?: string; details?: Record<string, unknown>; cause?: unknown };
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
