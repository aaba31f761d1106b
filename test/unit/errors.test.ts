import { describe, expect, it } from 'vitest';
import { PortalMfaError } from '../../src/core/errors.js';
import { EXIT_CODES } from '../../src/cli/exitCodes.js';

describe('error model', () => {
  it('maps every kind to the SPEC §4 exit code', () => {
    expect(EXIT_CODES).toEqual({ rejected: 1, usage: 2, not_found: 3, locked: 4, forbidden: 5, wrong_state: 6, config: 10, cancelled: 130 });
    expect(EXIT_CODES[new PortalMfaError('locked', 'x').kind]).toBe(4);
    expect(new PortalMfaError('locked', 'x').code).toBe('locked');
    expect(new PortalMfaError('rejected', 'x', { code: 'wrong_code' }).code).toBe('wrong_code');
  });
});
