/** Which QR form and key placement fit which terminal (src/cli/qr.ts layoutEnrolment): the rules the PTY tests see on screen. */
import { describe, expect, it } from 'vitest';
import { drawQr, keyLines, layoutEnrolment, qrModules } from '../../src/cli/qr.js';
import { decodeVisibleScreen } from '../support/qrScreen.js';

const uri = (email: string) =>
  `otpauth://totp/Gentrack%20Developer%20Portal:${encodeURIComponent(email)}?secret=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567&issuer=Gentrack%20Developer%20Portal`;
const URI = uri('frank@globex.example');
const KEY = { grouped: 'ABCD EFGH IJKL MNOP QRST UVWX YZ23 4567', style: (s: string) => s };

describe('QR fit', () => {
  it('measures the forms: full size two columns per module, compact one column and half the lines (with a quiet zone of one)', async () => {
    const m = await qrModules(URI);
    expect(m.length).toBe(45); // version 7: most emails
    const full = drawQr(m, 'ansi', true);
    const compact = drawQr(m, 'utf8', false);
    expect(full.columns).toBe(2 * compact.columns);
    expect(compact.columns).toBe(47);
    expect(compact.lines).toHaveLength(24);
    expect(compact.lines[23]).toBe('▀'.repeat(47)); // the lone bottom quiet row
  });

  it('mixed segments make a shorter email a version smaller', async () => {
    expect((await qrModules(uri('devon@example.com'))).length).toBe(41);
  });

  it('auto: full size when it fits with colour, else compact; the key below when there are lines for it, else beside; else the key alone with a note', async () => {
    const m = await qrModules(URI);
    const shape = (columns: number, rows: number, color: boolean) => layoutEnrolment(m, KEY, 'auto', { columns, rows, color }).shape;
    expect(shape(160, 50, true)).toBe('ansi/below');
    expect(shape(160, 48, true)).toBe('ansi/beside');
    expect(shape(160, 50, false)).toBe('utf8/below');
    expect(shape(80, 40, true)).toBe('utf8/below');
    expect(shape(80, 24, true)).toBe('utf8/beside');
    expect(shape(69, 24, false)).toBe('key');
    const narrow = layoutEnrolment(m, KEY, 'auto', { columns: 40, rows: 60, color: true });
    expect(narrow.note).toMatch(/needs a 70×24 terminal and this one is 40×60: enlarge the window and it is drawn, or type the key below/);
    expect(narrow.lines.join('\n')).toContain('ABCD EFGH');
    expect(layoutEnrolment(m, KEY, 'none', { columns: 150, rows: 50, color: true }).shape).toBe('key');
  });

  it('80×24: code, key and prompt on 24 lines, the prompt on the last half row; it decodes from those lines alone, not with a line less', async () => {
    const m = await qrModules(URI);
    const l = layoutEnrolment(m, KEY, 'auto', { columns: 80, rows: 24, color: false });
    const screen = [...l.lines, `${l.promptPrefix} Code from the app:`];
    expect(screen).toHaveLength(24);
    expect(screen.every((line) => [...line].length <= 80)).toBe(true);
    expect(screen.slice(-4, -1).map((line) => line.slice(49))).toEqual(['Key for manual entry:', 'ABCD EFGH IJKL MNOP', 'QRST UVWX YZ23 4567']);
    expect(decodeVisibleScreen(screen, 80)).toBe(URI);
    expect(decodeVisibleScreen(screen.slice(1), 80)).toBeNull();
  });

  it('forced: printed when the width fits (a note when rows are short), never when it would wrap', async () => {
    const m = await qrModules(URI);
    const short = layoutEnrolment(m, KEY, 'utf8', { columns: 60, rows: 20, color: false });
    expect(short.shape).toBe('utf8/below');
    expect(short.note).toMatch(/needs 27 lines and this terminal has 20/);
    const narrow = layoutEnrolment(m, KEY, 'ansi', { columns: 80, rows: 60, color: true });
    expect(narrow.shape).toBe('key');
    expect(narrow.note).toMatch(/would wrap.*--qr utf8/);
    // no terminal size known (stdout not a terminal): a forced form is printed as asked
    expect(layoutEnrolment(m, KEY, 'ansi', { color: false }).shape).toBe('ansi/below');
  });

  it('the manual key breaks only between groups', () => {
    const key = 'ABCD EFGH IJKL MNOP QRST UVWX YZ23 4567';
    expect(keyLines(key, 80)).toEqual([key]);
    expect(keyLines(key, 38)).toEqual(['ABCD EFGH IJKL MNOP QRST UVWX YZ23', '4567']);
    expect(keyLines(key, 20)).toEqual(['ABCD EFGH IJKL MNOP', 'QRST UVWX YZ23 4567']);
    expect(keyLines(key, undefined)).toEqual([key]);
  });
});
