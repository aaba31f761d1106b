/**
 * The test clock: real time plus an offset that tests advance instead of sleeping (e.g. to the next
 * 30 s TOTP step). Everything time-sensitive in a test file reads it: the in-process CLI runs
 * (`run(argv, { clock })`), the codes computed by test/support/independentTotp.ts, makeDeps, and —
 * through test/support/clockShim.mjs, preloaded with `--import` — every portal-mfa subprocess the
 * harness starts. Each test file has its own module instance (vitest isolates files), so files
 * never share an offset.
 */
import { pathToFileURL } from 'node:url';

let offsetMs = 0;

/** Milliseconds since the epoch, as the CLI under test sees them. */
export function testNow(): number {
  return Date.now() + offsetMs;
}

/** Move the test clock forward (never back: a code accepted once must stay used). */
export function advanceClock(ms: number): void {
  if (!(ms >= 0)) throw new Error(`advanceClock(${ms}): the test clock only moves forward`);
  offsetMs += ms;
}

const SHIM = pathToFileURL(new URL('./clockShim.mjs', import.meta.url).pathname).href;

/**
 * Node options that put a child `node bin/portal-mfa.js` on the test clock. Empty while the
 * clock has not been advanced, so most subprocesses run exactly as a user would start them.
 */
export function nodeClockArgs(): string[] {
  return offsetMs === 0 ? [] : ['--import', `${SHIM}?offset=${offsetMs}`];
}
