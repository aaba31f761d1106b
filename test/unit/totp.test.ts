import { describe, it, expect } from 'vitest';
import {
  DEFAULT_TOTP,
  base32Decode,
  base32Encode,
  codeForStep,
  codeFromKeyBytes,
  generateSecret,
  groupSecret,
  hotp,
  matchCode,
  normaliseCode,
  otpauthUri,
  timeStep,
  type TotpAlgorithm,
  type TotpParams,
} from '../../src/core/primitives/totp.js';

const SEED_SHA1 = Buffer.from('12345678901234567890', 'ascii');
const SEED_SHA256 = Buffer.from('12345678901234567890123456789012', 'ascii');
const SEED_SHA512 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii');
const SEED_SHA1_B32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('DEFAULT_TOTP', () => {
  it('is SHA1 / 6 digits / 30 s', () => {
    expect(DEFAULT_TOTP).toEqual({ algorithm: 'SHA1', digits: 6, periodSeconds: 30 });
  });
});

describe('RFC 6238 Appendix B test vectors', () => {
  const seeds: Record<TotpAlgorithm, Buffer> = { SHA1: SEED_SHA1, SHA256: SEED_SHA256, SHA512: SEED_SHA512 };
  const vectors: Array<[number, string, string, TotpAlgorithm, string]> = [
    [59, '1970-01-01 00:00:59', '0000000000000001', 'SHA1', '94287082'],
    [59, '1970-01-01 00:00:59', '0000000000000001', 'SHA256', '46119246'],
    [59, '1970-01-01 00:00:59', '0000000000000001', 'SHA512', '90693936'],
    [1111111109, '2005-03-18 01:58:29', '00000000023523EC', 'SHA1', '07081804'],
    [1111111109, '2005-03-18 01:58:29', '00000000023523EC', 'SHA256', '68084774'],
    [1111111109, '2005-03-18 01:58:29', '00000000023523EC', 'SHA512', '25091201'],
    [1111111111, '2005-03-18 01:58:31', '00000000023523ED', 'SHA1', '14050471'],
    [1111111111, '2005-03-18 01:58:31', '00000000023523ED', 'SHA256', '67062674'],
    [1111111111, '2005-03-18 01:58:31', '00000000023523ED', 'SHA512', '99943326'],
    [1234567890, '2009-02-13 23:31:30', '000000000273EF07', 'SHA1', '89005924'],
    [1234567890, '2009-02-13 23:31:30', '000000000273EF07', 'SHA256', '91819424'],
    [1234567890, '2009-02-13 23:31:30', '000000000273EF07', 'SHA512', '93441116'],
    [2000000000, '2033-05-18 03:33:20', '0000000003F940AA', 'SHA1', '69279037'],
    [2000000000, '2033-05-18 03:33:20', '0000000003F940AA', 'SHA256', '90698825'],
    [2000000000, '2033-05-18 03:33:20', '0000000003F940AA', 'SHA512', '38618901'],
    [20000000000, '2603-10-11 11:33:20', '0000000027BC86AA', 'SHA1', '65353130'],
    [20000000000, '2603-10-11 11:33:20', '0000000027BC86AA', 'SHA256', '77737706'],
    [20000000000, '2603-10-11 11:33:20', '0000000027BC86AA', 'SHA512', '47863826'],
  ];

  it.each(vectors)('T=%d (%s) T-hex=%s %s -> %s', (t, utc, stepHex, algorithm, expected) => {
    expect(new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19)).toBe(utc);
    const step = timeStep(t * 1000, 30);
    expect(step).toBe(parseInt(stepHex, 16));
    const params: TotpParams = { algorithm, digits: 8, periodSeconds: 30 };
    expect(codeFromKeyBytes(seeds[algorithm], step, params)).toBe(expected);
  });

  it('codeForStep with the base32 SHA1 seed matches the SHA1 vectors', () => {
    const params: TotpParams = { algorithm: 'SHA1', digits: 8, periodSeconds: 30 };
    expect(codeForStep(SEED_SHA1_B32, timeStep(59_000), params)).toBe('94287082');
    expect(codeForStep(SEED_SHA1_B32, timeStep(1111111109_000), params)).toBe('07081804');
    expect(codeForStep(SEED_SHA1_B32, timeStep(20000000000_000), params)).toBe('65353130');
  });

  it('codeForStep uses 6 digits by default and zero-pads', () => {
    // 6-digit SHA1 code is the last six digits of the 8-digit vector
    expect(codeForStep(SEED_SHA1_B32, timeStep(1111111109_000))).toBe('081804');
    expect(codeForStep(SEED_SHA1_B32, timeStep(59_000))).toBe('287082');
  });
});

describe('RFC 4226 Appendix D HOTP values', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  it.each(expected.map((code, counter) => [counter, code] as const))('counter %d -> %s', (counter, code) => {
    expect(hotp(SEED_SHA1, counter)).toBe(code);
    expect(hotp(SEED_SHA1, counter, 6, 'SHA1')).toBe(code);
  });
});

describe('timeStep', () => {
  it('is floor(nowMs / 1000 / period)', () => {
    expect(timeStep(0)).toBe(0);
    expect(timeStep(29_999)).toBe(0);
    expect(timeStep(30_000)).toBe(1);
    expect(timeStep(59_000)).toBe(1);
    expect(timeStep(119_999, 60)).toBe(1);
    expect(timeStep(120_000, 60)).toBe(2);
  });
});

describe('matchCode', () => {
  const secret = SEED_SHA1_B32;
  const nowMs = 1_700_000_000_000;
  const current = timeStep(nowMs);

  it('accepts the current step with driftSteps 0', () => {
    const code = codeForStep(secret, current);
    expect(matchCode(secret, code, nowMs, 1)).toEqual({ step: current, driftSteps: 0 });
  });

  it('accepts one step in the past with driftSteps -1', () => {
    const code = codeForStep(secret, current - 1);
    expect(matchCode(secret, code, nowMs, 1)).toEqual({ step: current - 1, driftSteps: -1 });
  });

  it('accepts one step in the future with driftSteps +1', () => {
    const code = codeForStep(secret, current + 1);
    expect(matchCode(secret, code, nowMs, 1)).toEqual({ step: current + 1, driftSteps: 1 });
  });

  it('rejects ±2 steps with window 1 and accepts them with window 2', () => {
    const past2 = codeForStep(secret, current - 2);
    const future2 = codeForStep(secret, current + 2);
    expect(matchCode(secret, past2, nowMs, 1)).toBeNull();
    expect(matchCode(secret, future2, nowMs, 1)).toBeNull();
    expect(matchCode(secret, past2, nowMs, 2)).toEqual({ step: current - 2, driftSteps: -2 });
    expect(matchCode(secret, future2, nowMs, 2)).toEqual({ step: current + 2, driftSteps: 2 });
  });

  it('window 0 only accepts the current step', () => {
    expect(matchCode(secret, codeForStep(secret, current), nowMs, 0)).toEqual({ step: current, driftSteps: 0 });
    expect(matchCode(secret, codeForStep(secret, current - 1), nowMs, 0)).toBeNull();
  });

  it('rejects a wrong code, a code for another secret and malformed input', () => {
    const windowCodes = new Set([-1, 0, 1].map((d) => codeForStep(secret, current + d)));
    let wrong = '000000';
    for (let i = 0; windowCodes.has(wrong); i++) wrong = String(i).padStart(6, '0');
    expect(matchCode(secret, wrong, nowMs, 1)).toBeNull();

    const other = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const otherCode = codeForStep(other, current);
    if (!windowCodes.has(otherCode)) expect(matchCode(secret, otherCode, nowMs, 1)).toBeNull();

    const good = codeForStep(secret, current);
    expect(matchCode(secret, good.slice(0, 5), nowMs, 1)).toBeNull();
    expect(matchCode(secret, `${good}0`, nowMs, 1)).toBeNull();
    expect(matchCode(secret, '', nowMs, 1)).toBeNull();
  });

  it('honours non-default params (SHA256, 8 digits, 60 s)', () => {
    const params: TotpParams = { algorithm: 'SHA256', digits: 8, periodSeconds: 60 };
    const step = timeStep(nowMs, 60);
    const code = codeForStep(secret, step - 1, params);
    expect(code).toMatch(/^[0-9]{8}$/);
    expect(matchCode(secret, code, nowMs, 1, params)).toEqual({ step: step - 1, driftSteps: -1 });
    // the same code must not validate with default params
    expect(matchCode(secret, code, nowMs, 1)).toBeNull();
  });
});

describe('normaliseCode', () => {
  it('accepts exactly six ASCII digits after stripping spaces, tabs and dashes', () => {
    expect(normaliseCode('123456')).toBe('123456');
    expect(normaliseCode('123 456')).toBe('123456');
    expect(normaliseCode('  123456  ')).toBe('123456');
    expect(normaliseCode('12\t34 56')).toBe('123456');
    expect(normaliseCode('123-456')).toBe('123456');
    expect(normaliseCode('012345')).toBe('012345');
  });

  it('rejects wrong lengths and empty input', () => {
    expect(normaliseCode('12345')).toBeNull();
    expect(normaliseCode('1234567')).toBeNull();
    expect(normaliseCode('')).toBeNull();
    expect(normaliseCode('   ')).toBeNull();
  });

  it('rejects non-ASCII digits and letters', () => {
    expect(normaliseCode('١٢٣٤٥٦')).toBeNull(); // Arabic-Indic
    expect(normaliseCode('۱۲۳۴۵۶')).toBeNull(); // Extended Arabic-Indic
    expect(normaliseCode('１２３４５６')).toBeNull(); // fullwidth
    expect(normaliseCode('१२३४५६')).toBeNull(); // Devanagari
    expect(normaliseCode('12345a')).toBeNull();
    expect(normaliseCode('123.456')).toBeNull();
  });

  it('respects the digits argument', () => {
    expect(normaliseCode('1234 5678', 8)).toBe('12345678');
    expect(normaliseCode('123456', 8)).toBeNull();
  });
});

describe('otpauthUri', () => {
  const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

  it('produces the exact Key Uri Format string with defaults omitted', () => {
    expect(otpauthUri({ issuer: 'Gentrack Developer Portal', account: 'ana+test@example.com', secretBase32: secret })).toBe(
      'otpauth://totp/Gentrack%20Developer%20Portal:ana%2Btest%40example.com' + '?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Gentrack%20Developer%20Portal',
    );
  });

  it('omits parameters equal to the defaults even when params are passed explicitly', () => {
    const uri = otpauthUri({
      issuer: 'Gentrack Developer Portal',
      account: 'ana+test@example.com',
      secretBase32: secret,
      params: { algorithm: 'SHA1', digits: 6, periodSeconds: 30 },
    });
    expect(uri).not.toContain('algorithm=');
    expect(uri).not.toContain('digits=');
    expect(uri).not.toContain('period=');
  });

  it('adds only the non-default parameters', () => {
    expect(
      otpauthUri({
        issuer: 'Gentrack Developer Portal',
        account: 'ana+test@example.com',
        secretBase32: secret,
        params: { algorithm: 'SHA256', digits: 8, periodSeconds: 60 },
      }),
    ).toBe(
      'otpauth://totp/Gentrack%20Developer%20Portal:ana%2Btest%40example.com' +
        '?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Gentrack%20Developer%20Portal' +
        '&algorithm=SHA256&digits=8&period=60',
    );
    const onlyDigits = otpauthUri({
      issuer: 'X',
      account: 'y',
      secretBase32: secret,
      params: { algorithm: 'SHA1', digits: 8, periodSeconds: 30 },
    });
    expect(onlyDigits).toBe(`otpauth://totp/X:y?secret=${secret}&issuer=X&digits=8`);
  });

  it('encodes colons inside label parts', () => {
    expect(otpauthUri({ issuer: 'A:B', account: 'c:d', secretBase32: secret })).toBe(`otpauth://totp/A%3AB:c%3Ad?secret=${secret}&issuer=A%3AB`);
  });
});

describe('base32', () => {
  it('encodes the RFC 4648 test vectors without padding', () => {
    const vectors: Array<[string, string]> = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(base32Encode(Buffer.from(plain, 'ascii'))).toBe(encoded);
      expect(base32Decode(encoded).toString('ascii')).toBe(plain);
    }
    expect(base32Encode(SEED_SHA1)).toBe(SEED_SHA1_B32);
  });

  it('decodes with spaces, lowercase and padding tolerated', () => {
    expect(base32Decode('mzxw 6ytb oi').toString('ascii')).toBe('foobar');
    expect(base32Decode('MZXW6YTBOI======').toString('ascii')).toBe('foobar');
    expect(base32Decode('gezd gnbv gy3t qojq gezd gnbv gy3t qojq').equals(SEED_SHA1)).toBe(true);
  });

  it('throws on invalid characters', () => {
    expect(() => base32Decode('MZXW6YTB01')).toThrow(/base32/);
    expect(() => base32Decode('MZXW8')).toThrow(/base32/);
    expect(() => base32Decode('MZ-XW6')).toThrow(/base32/);
    expect(() => base32Decode('MZ=XW6')).toThrow(/base32/);
  });

  it('round-trips random buffers of every length 0..40', () => {
    for (let n = 0; n <= 40; n++) {
      const buf = Buffer.alloc(n);
      for (let i = 0; i < n; i++) buf[i] = (i * 37 + n * 11) & 0xff;
      const enc = base32Encode(buf);
      expect(enc).toMatch(/^[A-Z2-7]*$/);
      expect(base32Decode(enc).equals(buf)).toBe(true);
    }
  });
});

describe('generateSecret', () => {
  it('yields 32 base32 chars that decode to 20 bytes', () => {
    const s = generateSecret();
    expect(s).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(s).length).toBe(20);
    expect(generateSecret()).not.toBe(s);
  });

  it('uses the supplied random source for exactly 20 bytes', () => {
    const requested: number[] = [];
    const s = generateSecret((n) => {
      requested.push(n);
      return Buffer.from('12345678901234567890', 'ascii').subarray(0, n);
    });
    expect(requested).toEqual([20]);
    expect(s).toBe(SEED_SHA1_B32);
  });
});

describe('groupSecret', () => {
  it('groups in fours with single spaces', () => {
    expect(groupSecret('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP')).toBe('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
    expect(groupSecret('ABCDEFGHIJ')).toBe('ABCD EFGH IJ');
    expect(groupSecret('ABCD')).toBe('ABCD');
  });
});
