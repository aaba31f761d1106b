/** Which QR form fits which terminal (src/cli/qr.ts chooseQr): the rules the PTY tests see on screen. */
import { describe, expect, it } from 'vitest';
import { chooseQr, drawQr, QR_EXTRA_LINES } from '../../src/cli/qr.js';
import { keyLines } from '../../src/cli/enrolFlow.js';

const URI = 'otpauth://totp/Gentrack%20Developer%20Portal:frank%40globex.example?secret=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567&issuer=Gentrack%20Developer%20Portal';

describe('QR fit', () => {
  it('measures the forms: full size two columns per module, compact one column and half the lines', async () => {
    const full = await drawQr(URI, 'ansi');
    const compact = await drawQr(URI, 'utf8');
    expect(full.columns).toBe(2 * compact.columns);
    expect(compact.lines).toBe(Math.ceil(full.lines / 2));
  });

  it('auto: full size when it fits and colour is on, else compact, else nothing with a note', async () => {
    expect((await chooseQr(URI, 'auto', { columns: 150, rows: 50, color: true }))?.print?.form).toBe('ansi');
    expect((await chooseQr(URI, 'auto', { columns: 150, rows: 50, color: false }))?.print?.form).toBe('utf8');
    expect((await chooseQr(URI, 'auto', { columns: 80, rows: 40, color: true }))?.print?.form).toBe('utf8');
    for (const [columns, rows] of [
      [80, 24],
      [40, 60],
    ]) {
      const c = await chooseQr(URI, 'auto', { columns, rows, color: true });
      expect(c?.print).toBeUndefined();
      expect(c?.note).toMatch(new RegExp(`does not fit this ${columns}×${rows} terminal.*Enlarge the terminal.*key above`));
    }
    expect(await chooseQr(URI, 'none', { columns: 150, rows: 50, color: true })).toBeUndefined();
  });

  it('forced: printed when the width fits (a note when rows are short), never when it would wrap', async () => {
    const compact = await drawQr(URI, 'utf8');
    const short = await chooseQr(URI, 'utf8', { columns: 80, rows: 24, color: false });
    expect(short?.print?.form).toBe('utf8');
    expect(short?.note).toMatch(new RegExp(`needs ${compact.lines + QR_EXTRA_LINES} lines and this terminal has 24`));
    const narrow = await chooseQr(URI, 'ansi', { columns: 80, rows: 60, color: true });
    expect(narrow?.print).toBeUndefined();
    expect(narrow?.note).toMatch(/would wrap.*--qr utf8/);
    // no terminal size known (stdout not a terminal): a forced form is printed as asked
    expect((await chooseQr(URI, 'ansi', { color: false }))?.print?.form).toBe('ansi');
  });

  it('the manual key breaks only between groups', () => {
    const key = 'ABCD EFGH IJKL MNOP QRST UVWX YZ23 4567';
    expect(keyLines(key, 80)).toEqual([key]);
    expect(keyLines(key, 40)).toEqual(['ABCD EFGH IJKL MNOP QRST UVWX YZ23', '4567']);
    expect(keyLines(key, 20)).toEqual(['ABCD EFGH IJKL', 'MNOP QRST UVWX', 'YZ23 4567']);
    expect(keyLines(key, undefined)).toEqual([key]);
  });
});
