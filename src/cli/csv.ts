/**
 * Every CSV portal-mfa writes (`org users --csv`, `users list --csv`, `audit --csv`) goes through
 * here: RFC 4180 (CRLF records, fields quoted when they hold `"`, `,`, CR or LF, quotes doubled)
 * with two defences for data that reaches a spreadsheet (SPEC §6, OWASP "CSV injection"):
 * - a text cell starting with `=`, `+`, `-`, `@`, tab or CR is prefixed with `'`, so Excel,
 *   LibreOffice and Google Sheets show it as text instead of evaluating it as a formula;
 * - control characters, bidirectional overrides and zero-width characters are written escaped
 *   (`\x1b`, `\u202e`), so no terminal escape or hidden text passes through raw. Tab, CR and LF
 *   are data in CSV (a multi-line name round-trips, quoted); only a leading one is neutralised.
 * Numbers, booleans and null are written as they are (null and undefined as an empty field).
 */
import { escapeInvisibles } from './render.js';

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One field, neutralised and quoted as needed. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  let text = value instanceof Date ? value.toISOString() : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  text = escapeInvisibles(text, { tab: 'keep', lineBreaks: 'keep' });
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record, CRLF-terminated. */
export function csvRow(cells: readonly unknown[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}
