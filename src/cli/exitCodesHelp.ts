/** `portal-mfa help exit-codes` (SPEC §4). */
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
