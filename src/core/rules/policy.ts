/**
 * The portal's policy (SPEC §8): the security limits of rules 2, 6, 11 and 12, session and
 * re-authentication lifetimes, the portal-wide MFA requirement and where notices are delivered.
 * It is stored in portal-mfa's settings table and changed only by support with an audited command,
 * so every client — CLI on any machine, library, service — applies the same limits. A client's
 * own configuration (flags, environment, profile, library options) can make it stricter, never
 * looser: `effectiveSettings` takes, per limit, whichever of the two is stricter.
 */
import { readSetting } from '../../db/settingsRepository.js';
import type { Db } from '../../db/store.js';
import { configError } from '../errors.js';
import { DEFAULT_SETTINGS, type Settings } from '../settings.js';

/** The limits a policy sets, and which way is stricter for each. */
export const LIMITS = {
  window: { min: 0, max: 2, stricter: 'lower', what: 'accepted clock drift, steps either side' },
  maxFailures: { min: 1, max: 100, stricter: 'lower', what: 'failed codes before a lock' },
  lockMinutes: { min: 1, max: 24 * 60, stricter: 'higher', what: 'first lock, minutes' },
  maxLockMinutes: { min: 1, max: 7 * 24 * 60, stricter: 'higher', what: 'longest lock, minutes' },
  hardLockFailures: { min: 10, max: 1000, stricter: 'lower', what: 'failures before a hard lock' },
  trustDays: { min: 1, max: 365, stricter: 'lower', what: 'trusted-device lifetime, days' },
  sessionHours: { min: 1, max: 24 * 30, stricter: 'lower', what: 'CLI session lifetime, hours' },
  reauthSeconds: { min: 0, max: 3600, stricter: 'lower', what: 'a password counts as re-entered for, seconds' },
  diagnosePerHour: { min: 0, max: 100, stricter: 'lower', what: 'clock diagnoses per user per hour' },
  diagnoseMinutes: { min: 1, max: 60, stricter: 'lower', what: 'diagnosis search, minutes either side' },
  passwordFailures: { min: 1, max: 100, stricter: 'lower', what: 'wrong passwords per user per window' },
  passwordWindowMinutes: { min: 1, max: 24 * 60, stricter: 'higher', what: 'wrong-password window, minutes' },
} as const satisfies Record<string, { min: number; max: number; stricter: 'lower' | 'higher'; what: string }>;

export type LimitName = keyof typeof LIMITS;
export type Limits = Record<LimitName, number>;

export interface DeliveryPolicy {
  /** `smtp://host:port` or `smtps://…` without credentials (those are the operator's, SPEC §7) */
  relay: string;
  /** the sender of every notice */
  from: string;
}

export interface PortalPolicy {
  /** MFA for every account (the Integration Portal), or recommended (organisations may require it) */
  mfaRequired: boolean;
  graceDays: number | null;
  /** when the portal-wide requirement was switched on (grace runs from here) */
  requiredSince: number | null;
  limits: Limits;
  /** where notices go; null: they stay in the outbox for the portal's own mailer */
  delivery: DeliveryPolicy | null;
}

const DEFAULT_LIMITS: Limits = Object.freeze(Object.fromEntries(Object.keys(LIMITS).map((k) => [k, DEFAULT_SETTINGS[k as LimitName]])) as Limits);

export const DEFAULT_POLICY: PortalPolicy = Object.freeze({ mfaRequired: false, graceDays: null, requiredSince: null, limits: DEFAULT_LIMITS, delivery: null });

export const POLICY_SETTING = 'policy';

/** Check one limit's value: a whole number within its range. */
export function checkLimit(name: LimitName, value: number): number {
  const l = LIMITS[name];
  if (!Number.isInteger(value) || value < l.min || value > l.max) {
    throw configError(`policy: ${name} must be a whole number from ${l.min} to ${l.max} (got ${String(value).slice(0, 20)})`, { code: 'invalid_config' });
  }
  return value;
}

/** Parse the stored document; fields it lacks take the defaults (a policy written by an older version). */
function parsePolicy(text: string | undefined): PortalPolicy {
  if (text === undefined) return DEFAULT_POLICY;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw configError('the stored portal policy is not valid JSON', { code: 'invalid_config', hint: 'support can store it again with: portal-mfa policy set' });
  }
  const storedLimits = (raw.limits ?? {}) as Record<string, unknown>;
  const limits = { ...DEFAULT_LIMITS };
  for (const name of Object.keys(LIMITS) as LimitName[]) {
    if (storedLimits[name] !== undefined) limits[name] = checkLimit(name, Number(storedLimits[name]));
  }
  const d = raw.delivery as Record<string, unknown> | null | undefined;
  return {
    mfaRequired: raw.mfaRequired === true,
    graceDays: typeof raw.graceDays === 'number' ? raw.graceDays : null,
    requiredSince: typeof raw.requiredSince === 'number' ? raw.requiredSince : null,
    limits,
    delivery: d && typeof d.relay === 'string' && typeof d.from === 'string' ? { relay: d.relay, from: d.from } : null,
  };
}

export async function readPolicy(db: Db): Promise<PortalPolicy> {
  return parsePolicy(await readSetting(db, POLICY_SETTING));
}

/**
 * The limits a client may tighten for itself. The lockout's thresholds and lengths are not among
 * them: a lock applies to the user, whoever's client counted the failure, so a "stricter" client
 * would lock — or hard-lock — someone else's account sooner and for longer than the portal says.
 */
export const CLIENT_TIGHTENABLE: ReadonlySet<LimitName> = new Set(['window', 'trustDays', 'sessionHours', 'reauthSeconds']);

/**
 * The settings a client runs with: the stored policy, tightened — never loosened — by what the
 * client asked for, in the limits it may tighten (CLIENT_TIGHTENABLE). `requested` holds only what
 * the client's configuration set explicitly.
 */
export function effectiveSettings(policy: PortalPolicy, requested: Partial<Settings>, issuer: string): Settings {
  const out: Settings = { ...DEFAULT_SETTINGS, issuer };
  for (const name of Object.keys(LIMITS) as LimitName[]) {
    const stored = policy.limits[name];
    const asked = CLIENT_TIGHTENABLE.has(name) ? requested[name] : undefined;
    out[name] = asked === undefined ? stored : LIMITS[name].stricter === 'lower' ? Math.min(stored, asked) : Math.max(stored, asked);
  }
  return out;
}
