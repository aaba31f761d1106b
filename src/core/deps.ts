import type { Db } from '../db/store.js';
import type { RequestOrigin } from './primitives/audit.js';
import type { RequestScope } from './requestScope.js';
import type { SecretKey } from './primitives/secretBox.js';
import type { Clock, Origin, RandomSource, Settings } from './settings.js';

/** What the MFA use cases need, passed in (never imported globals), so tests control all of it. */
export interface MfaDeps {
  /** portal-mfa's tables and the identity mapping (src/db/store.ts) */
  db: Db;
  clock: Clock;
  random: RandomSource;
  settings: Settings;
  origin: Origin;
  /** the web request this call is made for (library `forRequest`): recorded on its audit rows */
  request?: RequestOrigin;
  /** the secrets keyring: the first key encrypts, all decrypt; loaded only when a secret is touched */
  keyring: () => SecretKey[];
  /** ids of notifications queued by this process, delivered after the command (SPEC §7) */
  queuedNotifications?: number[];
  /** what this call has read about its users (src/core/requestScope.ts); set per call by the API */
  scope?: RequestScope;
}
