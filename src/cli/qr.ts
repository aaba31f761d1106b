import type { QR_MODES } from './commands/flags.js';

/** `auto`: the largest form that fits the terminal (no --qr on a terminal). */
export type QrMode = 'auto' | 'utf8' | 'ansi' | 'none';
export type QrForm = 'utf8' | 'ansi';

/** `--qr` (one of the choices commander checked), or without it: auto on a terminal, none otherwise. */
export function qrModeOf(flag: (typeof QR_MODES)[number] | undefined, stdoutIsTTY: boolean): QrMode {
  return flag ?? (stdoutIsTTY ? 'auto' : 'none');
}

/** A QR code drawn for the terminal, with the cells it occupies. */
export interface DrawnQr {
  form: QrForm;
  text: string;
  columns: number;
  lines: number;
}

/**
 * The otpauth URI as a QR code for the terminal. `ansi` is the full-size form (two character
 * cells per module, drawn with background colours: the most reliable to scan); `utf8` is the
 * compact form (half blocks: one cell per module, two modules per line). Loaded lazily.
 */
export async function drawQr(uri: string, form: QrForm): Promise<DrawnQr> {
  const { default: qrcode } = await import('qrcode-terminal');
  qrcode.setErrorLevel('L');
  const text = await new Promise<string>((resolve) => qrcode.generate(uri, { small: form === 'utf8' }, (out: string) => resolve(out.replace(/\n+$/, ''))));
  const rows = text.split('\n');
  // eslint-disable-next-line no-control-regex
  const visible = (line: string) => [...line.replace(/\u001b\[[0-9;]*m/g, '')].length;
  return { form, text, columns: Math.max(...rows.map(visible)), lines: rows.length };
}

/** What the terminal offers: its size (unknown when stdout is not a terminal) and whether colour is on. */
export interface TerminalSize {
  columns?: number;
  rows?: number;
  color: boolean;
}

/** Lines printed with the QR code besides the code itself: the "Scan with …" line and the code prompt. */
export const QR_EXTRA_LINES = 2;

export type QrChoice = { print: DrawnQr; note?: string } | { print?: undefined; note: string };

/**
 * Which QR code to print (SPEC §3 enroll; issue 13). `auto` takes the full-size form when it fits
 * (and colour is on: it is drawn with colours), else the compact one, else none — with a note,
 * printed before, saying what would fit and how to get there. A forced form is printed when its
 * width fits (too few rows only needs scrolling, with a note); a QR wider than the terminal would
 * wrap and never scan, so it is not printed at all.
 */
export async function chooseQr(uri: string, mode: QrMode, term: TerminalSize): Promise<QrChoice | undefined> {
  if (mode === 'none') return undefined;
  const fitsWidth = (q: DrawnQr) => term.columns === undefined || q.columns <= term.columns;
  const fitsHeight = (q: DrawnQr) => term.rows === undefined || q.lines + QR_EXTRA_LINES <= term.rows;
  const size = `${term.columns ?? '?'}×${term.rows ?? '?'}`;
  const need = (q: DrawnQr) => `${q.columns}×${q.lines + QR_EXTRA_LINES}`;

  if (mode !== 'auto') {
    const q = await drawQr(uri, mode);
    const name = mode === 'ansi' ? 'the full-size QR code (--qr ansi)' : 'the compact QR code (--qr utf8)';
    if (!fitsWidth(q)) {
      return {
        note: `${name} needs ${need(q)} and this terminal is ${size}: not printed, it would wrap and not scan. Widen the terminal to ${q.columns} columns and run again, ${mode === 'ansi' ? 'try --qr utf8, ' : ''}or type the key above into the app.`,
      };
    }
    if (!fitsHeight(q))
      return {
        print: q,
        note: `${name} needs ${q.lines + QR_EXTRA_LINES} lines and this terminal has ${term.rows}: enlarge the window (or scroll up) to scan it whole.`,
      };
    return { print: q };
  }

  const full = term.color ? await drawQr(uri, 'ansi') : undefined;
  if (full && fitsWidth(full) && fitsHeight(full)) return { print: full };
  const compact = await drawQr(uri, 'utf8');
  if (fitsWidth(compact) && fitsHeight(compact)) return { print: compact };
  return {
    note:
      `the QR code does not fit this ${size} terminal (it needs at least ${need(compact)}): not printed. ` +
      `Enlarge the terminal and run again, or type the key above into the app (--qr none skips this note; --qr utf8 prints it anyway).`,
  };
}
