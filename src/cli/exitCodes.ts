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
