/**
 * The one assertion of a refusal in the in-process tests: the call must fail with a PortalMfaError,
 * and each expected word must be its kind or its code — `refusal(p)`, `refusal(p, 'forbidden')`,
 * `refusal(p, 'locked', 'password_rate_limited')`. Returns the error for further checks.
 */
import { expect } from 'vitest';
import { isPortalMfaError, type PortalMfaError } from '../../src/core/errors.js';

export async function refusal(p: Promise<unknown>, ...expected: string[]): Promise<PortalMfaError> {
  let outcome: unknown;
  try {
    outcome = await p;
  } catch (e) {
    expect(isPortalMfaError(e), String((e as Error)?.stack ?? e)).toBe(true);
    const err = e as PortalMfaError;
    for (const word of expected) expect([err.kind, err.code], `${err.kind}/${err.code}: ${err.message}`).toContain(word);
    return err;
  }
  throw new Error(`expected a refusal${expected.length ? ` (${expected.join(', ')})` : ''}, but it succeeded: ${JSON.stringify(outcome)?.slice(0, 200)}`);
}
