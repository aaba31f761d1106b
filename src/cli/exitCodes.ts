import type { ErrorKind } from '../core/errors.js';

/** SPEC §4: the one place a core error kind becomes a process exit code. */
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

/** The exit code of a result that carries an error kind (null: it went well) — a bulk command's per-user lines. */
export function exitCodeOf(kind: ErrorKind | null): number {
  return kind === null ? 0 : EXIT_CODES[kind];
}

/** `portal-mfa help exit-codes` (SPEC §4): the table above, explained. */
export const EXIT_CODES_HELP = `portal-mfa exit codes

  0    success (for verify: the code is valid)
  1    rejected: wrong code, wrong password, replayed code
  2    usage error or invalid input (bad flag, malformed email or code,
       missing input without a terminal)
  3    not found: no such user, organisation, device
  4    locked out or rate-limited
  5    forbidden: the actor may not do this
  6    wrong state: e.g. MFA not enabled, nothing pending, already enrolled
  10   configuration or database unavailable (the message names what to fix)
  130  cancelled by the user (Ctrl-C, or a declined confirmation)
`;
