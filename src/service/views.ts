/**
 * The core's results as the API shows them: times as ISO-8601 UTC (SPEC §6), nothing else
 * changed. (The response schemas then drop anything not named, so a field added to a core result
 * never leaves the service unnoticed.)
 */
import type { MfaStatus } from '../core/usecases/status.js';
import type { DeviceView } from '../core/usecases/devices.js';
import type { IssuedDevice } from '../core/rules/trustedDevices.js';

export const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
export const isoOf = (ms: number): string => new Date(ms).toISOString();

export function statusView(s: MfaStatus) {
  return {
    email: s.email,
    name: s.name,
    role: s.role,
    // (mfa, as in the CLI's --json and the reports: one name for one thing)
    mfa: s.state,
    enrolledAt: iso(s.enrolledAt),
    confirmedAt: iso(s.confirmedAt),
    lastUsedAt: iso(s.lastUsedAt),
    pendingSince: iso(s.pendingSince),
    consecutiveFailures: s.consecutiveFailures,
    locked: s.lockedUntil !== null || s.hardLocked,
    lockedUntil: iso(s.lockedUntil),
    hardLocked: s.hardLocked,
    trustedDevices: s.trustedDevices,
    recoveryCodesLeft: s.recoveryCodesLeft,
    accessCode: s.accessCode ? { expiresAt: isoOf(s.accessCode.expiresAt), usesLeft: s.accessCode.usesLeft } : null,
    enrolmentDeadlines: s.enrolmentDeadlines.map((d) => ({ organisation: d.organisation, deadline: iso(d.deadline) })),
  };
}

export function deviceView(d: DeviceView) {
  return {
    id: d.id,
    label: d.label,
    state: d.state,
    createdAt: isoOf(d.createdAt),
    lastUsedAt: iso(d.lastUsedAt),
    expiresAt: isoOf(d.expiresAt),
    revokedAt: iso(d.revokedAt),
    thisMachine: d.thisMachine,
  };
}

export const issuedDeviceView = (d: IssuedDevice) => ({ id: d.id, token: d.token, expiresAt: isoOf(d.expiresAt), replacedDeviceId: d.replacedDeviceId });

/** The body of a change to one user (`user`, `org`, `ticket`, `reason`, `password`, `dryRun`) as the core's request. */
export function changeOnUser<B extends { user?: string; org?: string; ticket?: string; reason?: string; password?: string; dryRun?: boolean }>(b: B) {
  return { targetEmail: b.user as B['user'], orgSlug: b.org, ticket: b.ticket, reason: b.reason, password: b.password, dryRun: b.dryRun };
}
