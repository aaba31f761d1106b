/** Tunables of the MFA rules (SPEC §1), with the portal's defaults. */
export interface Settings {
  issuer: string;
  /** accepted clock drift in steps either side of now (0–2) */
  window: number;
  /** consecutive failures that lock the user */
  maxFailures: number;
  lockMinutes: number;
  trustDays: number;
  sessionHours: number;
  /** wider search of `verify --diagnose`, in minutes either side */
  diagnoseMinutes: number;
  /** rule 12: diagnoses per user per hour */
  diagnosePerHour: number;
  /** rule 11: consecutive failures (across lockouts) that hard-lock until `unlock` */
  hardLockFailures: number;
  /** rule 11: the doubling lock time stops here */
  maxLockMinutes: number;
  /** rule 11: wrong passwords per user within passwordWindowMinutes before exit 4 */
  passwordFailures: number;
  passwordWindowMinutes: number;
  /** a password proven this recently counts as the re-entry of a sensitive action */
  reauthSeconds: number;
}

export const DEFAULT_SETTINGS: Settings = {
  issuer: 'Gentrack Developer Portal',
  window: 1,
  maxFailures: 5,
  lockMinutes: 15,
  trustDays: 30,
  sessionHours: 12,
  diagnoseMinutes: 10,
  diagnosePerHour: 10,
  hardLockFailures: 100,
  maxLockMinutes: 24 * 60,
  passwordFailures: 10,
  passwordWindowMinutes: 15,
  reauthSeconds: 300,
};

/** A function that tells the time (ms since epoch); injected so tests never sleep. */
export type Clock = () => number;
/** A source of random bytes; injected so tests can be deterministic. */
export type RandomSource = (n: number) => Buffer;

/** Where a command ran from, recorded on every audit event. */
export interface Origin {
  host: string;
  osUser: string;
}
