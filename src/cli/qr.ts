import type { QR_MODES } from './commands/flags.js';

/** `auto`: the largest form that fits the terminal (no --qr on a terminal). */
export type QrMode = 'auto' | 'utf8' | 'ansi' | 'none';
export type QrForm = 'utf8' | 'ansi';

/** `--qr` (one of the choices commander checked), or without it: auto on a terminal, none otherwise. */
export function qrModeOf(flag: (typeof QR_MODES)[number] | undefined, stdoutIsTTY: boolean): QrMode {
  return flag ?? (stdoutIsTTY ? 'auto' : 'none');
}

/** The modules of a QR code, without a quiet zone: `dark[row][column]`. */
export type QrModules = boolean[][];

/**
 * The otpauth URI as QR modules: error correction L (the smallest code; a screen is not a
 * scratched label) and node-qrcode's mixed segments (the base32 secret in alphanumeric mode), which
 * is a version smaller than byte mode for many emails. Loaded lazily: only enrolment draws one.
 */
export async function qrModules(uri: string): Promise<QrModules> {
  const { default: QRCode } = await import('qrcode');
  const { modules } = QRCode.create(uri, { errorCorrectionLevel: 'L' });
  return Array.from({ length: modules.size }, (_, r) => Array.from({ length: modules.size }, (_, c) => Boolean(modules.get(r, c))));
}

/** Light modules around the code on each side. One is what a 24-line terminal leaves room for; phones read it. */
const QUIET = 1;

/** A QR code drawn for the terminal: its lines, and the cells it occupies. */
export interface DrawnQr {
  form: QrForm;
  lines: string[];
  columns: number;
}

const ANSI_LIGHT = '\u001b[47m  \u001b[0m';
const ANSI_DARK = '\u001b[40m  \u001b[0m';

/**
 * `ansi`: the full-size form — two character cells per module, drawn with background colours
 * (white and black, whatever the terminal's theme): the most reliable to scan.
 * `utf8`: the compact form — half blocks, one cell per module and two modules per line; light
 * modules are the foreground colour, so it reads on a dark-background terminal (with colour on it
 * is painted white on black, so on any). A code has an odd number of modules, so with its quiet
 * zone the compact form ends in a lone light half row (`▀`): the last of `lines`, which the code
 * prompt can stand on (see enrolFlow.ts) to keep a 45-module code and the prompt on 24 lines.
 */
export function drawQr(modules: QrModules, form: QrForm, color: boolean): DrawnQr {
  const n = modules.length;
  const light = (r: number, c: number) => r < 0 || c < 0 || r >= n || c >= n || !modules[r]![c];
  const lines: string[] = [];
  if (form === 'ansi') {
    for (let r = -QUIET; r < n + QUIET; r++) {
      let line = '';
      for (let c = -QUIET; c < n + QUIET; c++) line += light(r, c) ? ANSI_LIGHT : ANSI_DARK;
      lines.push(line);
    }
    return { form, lines, columns: 2 * (n + 2 * QUIET) };
  }
  const cell = (top: boolean, bottom: boolean) => (top ? (bottom ? '█' : '▀') : bottom ? '▄' : ' ');
  const paint = (s: string) => (color ? `\u001b[97;40m${s}\u001b[0m` : s);
  const rows = n + 2 * QUIET; // odd: the last line holds the bottom quiet row alone
  for (let y = 0; y < rows; y += 2) {
    let line = '';
    for (let c = -QUIET; c < n + QUIET; c++) {
      const r = y - QUIET;
      line += cell(light(r, c), y + 1 < rows ? light(r + 1, c) : false);
    }
    lines.push(paint(line));
  }
  return { form, lines, columns: n + 2 * QUIET };
}

/** What the terminal offers: its size (unknown when the output is not a terminal) and whether colour is on. */
export interface TerminalSize {
  columns?: number;
  rows?: number;
  color: boolean;
}

/** Where the manual key goes: under the code, or beside its last lines. */
export type KeyPlacement = 'below' | 'beside';

/**
 * What enrolment shows a person above the code prompt, bottom up: the prompt, the manual key and
 * the QR code must all be on the screen at once (the prose above them may scroll off).
 */
export interface EnrolmentLayout {
  /** lines printed, top to bottom */
  lines: string[];
  /** printed on the prompt's own line, left of the question (the compact code's lone last half row); '' when none */
  promptPrefix: string;
  /** a note for stderr, printed before the lines: the code is not shown, or not whole */
  note?: string;
  /** which form is shown where: a change of this on resize is worth a redraw */
  shape: string;
}

export interface KeyText {
  /** the grouped key: "ABCD EFGH …" */
  grouped: string;
  style: (s: string) => string;
}

/** Text widths that a printed key needs: beside the code, its label and two lines of four groups. */
const KEY_LABEL = 'Key for manual entry:';
const GAP = 2;

/** The grouped key broken between groups into lines of at most `columns` (each group stays whole). */
export function keyLines(grouped: string, columns: number | undefined): string[] {
  if (columns === undefined || grouped.length <= columns) return [grouped];
  const lines: string[] = [];
  let line = '';
  for (const group of grouped.split(' ')) {
    if (line !== '' && line.length + 1 + group.length > Math.max(4, columns)) {
      lines.push(line);
      line = group;
    } else line = line === '' ? group : `${line} ${group}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** The key under the code: on the label's line when it fits, else the label and the key below it. */
function keyBelow(key: KeyText, columns: number | undefined): string[] {
  const one = `${KEY_LABEL} ${key.grouped}`;
  if (columns === undefined || one.length <= columns) return [`${KEY_LABEL} ${key.style(key.grouped)}`];
  return [KEY_LABEL, ...keyLines(key.grouped, columns - 2).map((l) => `  ${key.style(l)}`)];
}

/** The key beside the code: the label, then the groups in lines as wide as the label. */
function keyBeside(key: KeyText): { lines: string[]; width: number } {
  const groups = keyLines(key.grouped, KEY_LABEL.length);
  return { lines: [KEY_LABEL, ...groups.map((l) => key.style(l))], width: Math.max(KEY_LABEL.length, ...groups.map((l) => l.length)) };
}

/**
 * Which QR code to print and where the key goes (SPEC §3 enroll; issues 13, 23). `auto` tries, in
 * order: full size with the key below, full size with the key beside (both only with colour: it is
 * drawn with colours), compact with the key below, compact with the key beside — the first whose
 * code, key and prompt are all on the screen at once. Compact with the key beside puts a
 * 45-module code (most emails) on an 80×24 terminal: 23 lines of code, the prompt standing on its
 * last half row. When none fits, the key alone and a note: the window can grow (the code is then
 * drawn, enrolFlow.ts), or the key be typed. A forced form is printed when its width fits (too few
 * rows only needs scrolling, with a note); a QR wider than the terminal would wrap and never
 * scan, so it is not printed at all.
 */
export function layoutEnrolment(modules: QrModules | undefined, key: KeyText, mode: QrMode, term: TerminalSize): EnrolmentLayout {
  const { columns, rows } = term;
  const size = `${columns ?? '?'}×${rows ?? '?'}`;
  const keyOnly = (note?: string): EnrolmentLayout => ({ lines: keyBelow(key, columns), promptPrefix: '', note, shape: 'key' });
  if (mode === 'none' || !modules) return keyOnly();

  /** Lines the code, the key and the prompt take together; columns they need. */
  const needed = (q: DrawnQr, place: KeyPlacement) => {
    const merged = q.form === 'utf8' ? 1 : 0; // the prompt stands on the compact code's last half row
    if (place === 'below') return { lines: q.lines.length + keyBelow(key, columns).length + 1, columns: q.columns };
    const beside = keyBeside(key);
    return { lines: q.lines.length - merged + 1, columns: q.columns + GAP + beside.width };
  };
  const fits = (q: DrawnQr, place: KeyPlacement) => {
    const need = needed(q, place);
    return (columns === undefined || need.columns <= columns) && (rows === undefined || need.lines <= rows);
  };
  const compose = (q: DrawnQr, place: KeyPlacement, note?: string): EnrolmentLayout => {
    const merged = q.form === 'utf8';
    const code = merged ? q.lines.slice(0, -1) : [...q.lines];
    const promptPrefix = merged ? q.lines[q.lines.length - 1]! : '';
    if (place === 'below') {
      // the key goes under the code, so the prompt cannot stand on its last half row
      return { lines: [...q.lines, ...keyBelow(key, columns)], promptPrefix: '', note, shape: `${q.form}/below` };
    }
    const beside = keyBeside(key).lines;
    const from = code.length - beside.length;
    const lines = code.map((line, i) => (i >= from ? `${line}${' '.repeat(GAP)}${beside[i - from]}` : line));
    return { lines, promptPrefix, note, shape: `${q.form}/beside` };
  };

  if (mode !== 'auto') {
    const q = drawQr(modules, mode, term.color);
    const name = mode === 'ansi' ? 'the full-size QR code (--qr ansi)' : 'the compact QR code (--qr utf8)';
    if (columns !== undefined && q.columns > columns) {
      return keyOnly(
        `${name} needs ${q.columns} columns and this terminal is ${size}: not printed, it would wrap and not scan. Widen the terminal to ${q.columns} columns and run again, ${mode === 'ansi' ? 'try --qr utf8, ' : ''}or type the key below into the app.`,
      );
    }
    for (const place of ['below', 'beside'] as const) if (fits(q, place)) return compose(q, place);
    const need = needed(q, 'below').lines;
    return compose(q, 'below', `${name} needs ${need} lines and this terminal has ${rows}: enlarge the window (or scroll up) to scan it whole.`);
  }

  const forms: QrForm[] = term.color ? ['ansi', 'utf8'] : ['utf8'];
  for (const form of forms) {
    const q = drawQr(modules, form, term.color);
    for (const place of ['below', 'beside'] as const) if (fits(q, place)) return compose(q, place);
  }
  const compact = drawQr(modules, 'utf8', term.color);
  const least = needed(compact, 'beside');
  return keyOnly(
    `the QR code needs a ${least.columns}×${least.lines} terminal and this one is ${size}: enlarge the window and it is drawn, or type the key below into the app (--qr none skips this note; --qr utf8 prints it anyway).`,
  );
}
