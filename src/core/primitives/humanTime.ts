/**
 * The one human time format of portal-mfa (`2026-12-01 14:03 UTC`), for every message a person
 * reads: CLI output (src/cli/render.ts re-exports it) and the core's error messages. JSON and
 * audit details keep ISO-8601.
 */
export function humanTime(ms: number | null | undefined, none = '-'): string {
  if (ms === null || ms === undefined) return none;
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** An end time ("locked until …", "try again after …"), rounded up to the minute so it is never early. */
export function humanTimeUntil(ms: number): string {
  return humanTime(Math.ceil(Number(ms) / 60_000) * 60_000);
}
