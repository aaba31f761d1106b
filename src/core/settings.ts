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
}

export const DEFAULT_SETTINGS: Settings = {
  issuer: 'Gentrack Developer Portal',
  window: 1,
  maxFailures: 5,
  lockMinutes: 15,
  trustDays: 30,
  sessionHours: 12,
  diagnoseMinutes: 10,
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
