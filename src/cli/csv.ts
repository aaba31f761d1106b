import { stringify } from 'csv-stringify/sync';

/**
 * One RFC 4180 CSV record (CRLF). A cell that a spreadsheet would run as a formula — starting with
 * =, +, -, @, tab or CR — is prefixed with ' (OWASP CSV injection), and control characters are
 * shown escaped, so data never reaches a spreadsheet or terminal raw (SPEC §6).
 */
export function csvRow(cells: unknown[]): string {
  return stringify([cells.map(neutralise)], { record_delimiter: '\r\n' });
}

function neutralise(cell: unknown): string {
  const text = cell === null || cell === undefined ? '' : String(cell);
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
  return /^[=+\-@\t\r]/.test(clean) ? `'${clean}` : clean;
}
