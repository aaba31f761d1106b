import type { IOStreams } from './io.js';

/** The styles portal-mfa uses; chalk's when colour is on, plain text otherwise. */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
}

const plain = (s: string) => s;
const PLAIN: Style = { bold: plain, dim: plain, green: plain, red: plain, yellow: plain };

// chalk and string-width (emoji and East Asian width tables) are only needed on a terminal: to
// colour and to align tables. They are loaded then (loadTerminalSupport), so scripts and pipes
// do not pay for them at start-up; until then, no colour and plain lengths.
let chalkStyle: Style | undefined;
let stringWidth: (s: string) => number = (s) => s.length;

export async function loadTerminalSupport(io: Pick<IOStreams, 'stdoutIsTTY' | 'color' | 'colorErr'>): Promise<void> {
  if (io.color || io.colorErr) {
    const { Chalk } = await import('chalk');
    chalkStyle = new Chalk({ level: 1 });
  }
  if (io.stdoutIsTTY) stringWidth = (await import('string-width')).default;
}

/** The style of error lines (main.ts): chalk's on a colour terminal, loaded only then. */
export async function errorStyle(on: boolean): Promise<Style> {
  if (!on) return PLAIN;
  const { Chalk } = await import('chalk');
  return new Chalk({ level: 1 });
}

function makeStyle(on: boolean): Style {
  return on && chalkStyle ? chalkStyle : PLAIN;
}

/**
 * A value with a colour: the text is data (sanitised by the renderer), the paint is applied
 * after sanitising — so a colour is an escape the terminal obeys, and data can never carry one.
 */
export interface Painted {
  text: string;
  paint: keyof Style;
}

/** A cell of `fields`: plain data, or data with a colour. */
export type Cell = string | Painted;

export function painted(text: string, paint: keyof Style): Painted {
  return { text, paint };
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  color?: (value: string, style: Style) => string;
  /**
   * On a terminal too narrow for the table: a column with a `drop` is left out, the highest number
   * first, before any column is cut below what it needs (as gh drops and elides columns).
   */
  drop?: number;
  /** never elided (ids, states, times: a cut one would mislead); others are cut with … when too wide */
  whole?: boolean;
}

/** Below this, a cut cell says too little to be worth showing (the header sets a larger minimum). */
const MIN_CELL = 6;

/**
 * The columns of a table that fit `available` cells, and the width of each (issue 23): the natural
 * width when the table fits; else columns with a `drop` are left out (highest first) until it fits
 * or none is left — an optional column gives way before an essential one is cut — and then the
 * widest cuttable columns are narrowed one cell at a time, never below their header or MIN_CELL.
 * A table that still does not fit is printed as is.
 */
export function fitColumns(
  columns: { header: string; drop?: number; whole?: boolean }[],
  natural: number[],
  available: number | undefined,
): { shown: number[]; widths: number[] } {
  let shown = columns.map((_, i) => i);
  const gaps = () => 2 * (shown.length - 1);
  const least = (i: number) => (columns[i]!.whole ? natural[i]! : Math.min(natural[i]!, Math.max(stringWidth(columns[i]!.header), MIN_CELL)));
  if (available !== undefined) {
    for (;;) {
      const need = shown.reduce((n, i) => n + natural[i]!, 0) + gaps();
      const droppable = shown.filter((i) => columns[i]!.drop !== undefined);
      if (need <= available || droppable.length === 0) break;
      const first = droppable.reduce((a, b) => (columns[b]!.drop! > columns[a]!.drop! ? b : a));
      shown = shown.filter((i) => i !== first);
    }
  }
  const widths = natural.slice();
  if (available !== undefined) {
    let excess = shown.reduce((n, i) => n + widths[i]!, 0) + gaps() - available;
    while (excess > 0) {
      const cuttable = shown.filter((i) => widths[i]! > least(i));
      if (cuttable.length === 0) break;
      const widest = cuttable.reduce((a, b) => (widths[b]! > widths[a]! ? b : a));
      widths[widest]!--;
      excess--;
    }
  }
  return { shown, widths };
}

/**
 * A command line to copy, for a terminal `columns` wide: when it would wrap, its trailing
 * `# comment` is left out, and a command still too long is broken between words with ` \` (which
 * every shell reads as one line when pasted).
 */
export function fitCommandLine(line: string, columns: number | undefined): string {
  if (columns === undefined || stringWidth(line) <= columns) return line;
  const command = line.replace(/\s+#\s.*$/, '');
  if (stringWidth(command) <= columns) return command;
  const indent = command.match(/^ */)![0];
  const lines = wrapWords(command.trimStart(), columns - indent.length - 4);
  return lines.map((l, i) => `${indent}${i > 0 ? '    ' : ''}${l}${i < lines.length - 1 ? ' \\' : ''}`).join('\n');
}

/** `text` cut to `width` cells, ending in … when cut. */
export function elide(text: string, width: number): string {
  if (stringWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const w = stringWidth(ch);
    if (used + w > width - 1) break;
    out += ch;
    used += w;
  }
  return out + '…';
}

/**
 * Everything a command prints goes through Output: data on stdout (human or JSON), diagnostics
 * on stderr. With --json, human lines are suppressed so stdout holds only the document.
 */
export class Output {
  readonly style: Style;
  readonly errStyle: Style;

  constructor(
    readonly io: IOStreams,
    readonly opts: { json: boolean; quiet: boolean },
  ) {
    this.style = makeStyle(io.color);
    this.errStyle = makeStyle(io.colorErr);
  }

  get json(): boolean {
    return this.opts.json;
  }

  /** One JSON document on stdout. */
  printJson(doc: unknown): void {
    this.io.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  }

  /** One NDJSON record on stdout. */
  printJsonLine(doc: unknown): void {
    this.io.stdout.write(JSON.stringify(doc) + '\n');
  }

  /** A human line on stdout (not printed in --json mode). */
  line(text = ''): void {
    if (this.opts.json) return;
    this.io.stdout.write(text + '\n');
  }

  /** A diagnostic on stderr, hidden by --quiet; broken between words on a terminal. */
  info(text: string): void {
    if (this.opts.quiet) return;
    this.io.stderr.write(this.wrapErr(text, 0) + '\n');
  }

  /** Prose for stderr: on a terminal, each line broken between words (`indent`: a prefix shares the first row). */
  private wrapErr(text: string, indent: number): string {
    const columns = this.io.errColumns;
    if (columns === undefined) return text;
    return text
      .split('\n')
      .map((line) => wrapWords(line, columns - indent).join('\n'))
      .join('\n');
  }

  /** A non-fatal error line on stderr (e.g. a wrong code before a retry). */
  errorLine(message: string, hint?: string): void {
    this.io.stderr.write(`${this.errStyle.red('error:')} ${sanitizeCell(message)}${hint ? this.errStyle.dim(` (${sanitizeCell(hint)})`) : ''}\n`);
  }

  /** A warning on stderr, always shown; broken between words on a terminal. */
  warn(text: string): void {
    this.io.stderr.write(this.errStyle.yellow('warning: ') + this.wrapErr(text, 'warning: '.length) + '\n');
  }

  /** Success note on stdout for humans (hidden by --quiet and --json). */
  success(text: string): void {
    if (this.opts.json || this.opts.quiet) return;
    this.io.stdout.write(this.style.green('✓ ') + text + '\n');
  }

  /**
   * Aligned columns on a terminal; tab-separated lines without a header when stdout is not a
   * terminal, so scripts can `cut -f`.
   */
  table<Row>(columns: Column<Row>[], rows: Iterable<Row>): void {
    if (this.opts.json) return;
    const cells = [...rows].map((r) => columns.map((c) => sanitizeCell(c.value(r))));
    if (!this.io.stdoutIsTTY) {
      for (const row of cells) this.io.stdout.write(row.join('\t') + '\n');
      return;
    }
    const natural = columns.map((c, i) => Math.max(stringWidth(c.header), ...cells.map((r) => stringWidth(r[i] ?? ''))));
    // fitted to the terminal: no line the terminal would wrap (a header on two lines, a word cut in two)
    const { shown, widths } = fitColumns(columns, natural, this.io.columns);
    const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - stringWidth(s)));
    this.io.stdout.write(
      shown
        .map((i) => this.style.bold(pad(columns[i]!.header.toUpperCase(), widths[i]!)))
        .join('  ')
        .trimEnd() + '\n',
    );
    let text = '';
    for (const row of cells) {
      text +=
        shown
          .map((i) => {
            // cut and colour the sanitised cell, then pad by its visible width
            const cell = elide(row[i] ?? '', widths[i]!);
            const color = columns[i]!.color;
            const painted = color ? color(cell, this.style) : cell;
            return painted + ' '.repeat(Math.max(0, widths[i]! - stringWidth(cell)));
          })
          .join('  ')
          .trimEnd() + '\n';
    }
    this.io.stdout.write(text);
  }

  /** Prose on stdout, broken between words at the terminal's width (not printed in --json mode). */
  prose(text: string): void {
    for (const line of wrapWords(text, this.io.columns)) this.line(line);
  }

  /** Key/value block for one record (status and similar). */
  fields(pairs: [string, Cell][]): void {
    if (this.opts.json) return;
    const width = Math.max(...pairs.map(([k]) => stringWidth(k)));
    for (const [k, v] of pairs) {
      const shown = typeof v === 'string' ? sanitizeCell(v) : this.style[v.paint](sanitizeCell(v.text));
      this.io.stdout.write(`${this.style.dim(k.padEnd(width))}  ${shown}\n`);
    }
  }
}

/**
 * Characters from data that must never reach a terminal, a log or a spreadsheet raw: C0/C1 control
 * characters (terminal escapes), bidirectional overrides, embeddings and isolates
 * (U+202A–U+202E, U+2066–U+2069, and the marks U+200E, U+200F, U+061C) that make text display in
 * another order than it is ("Trojan Source"), zero-width characters (U+200B–U+200D, U+2060,
 * U+FEFF) that hide text or make two emails look alike, and the line/paragraph separators
 * U+2028/U+2029, and the soft hyphen U+00AD.
 */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/g;

/**
 * `\xNN` for control characters, `\uNNNN` for the rest. A tab becomes a space unless told to keep or
 * escape it; CR and LF are escaped unless told to keep them (CSV quotes them instead).
 */
export function escapeInvisibles(s: string, opts: { tab?: 'space' | 'keep' | 'escape'; lineBreaks?: 'keep' | 'escape' } = {}): string {
  const tab = opts.tab ?? 'space';
  return s.replace(INVISIBLE, (c) => {
    if (c === '\t' && tab !== 'escape') return tab === 'space' ? ' ' : c;
    if ((c === '\n' || c === '\r') && opts.lineBreaks === 'keep') return c;
    const code = c.charCodeAt(0);
    return code <= 0xff ? '\\x' + code.toString(16).padStart(2, '0') : '\\u' + code.toString(16).padStart(4, '0');
  });
}

/**
 * Prose for a terminal `columns` wide, broken at spaces (a word longer than a line stays whole),
 * so the terminal never breaks a word; unchanged when the width is unknown (not a terminal).
 * Plain text only: colour it after wrapping.
 */
export function wrapWords(text: string, columns: number | undefined): string[] {
  if (columns === undefined || text.length <= columns) return [text];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/ +/)) {
    if (line !== '' && line.length + 1 + word.length > columns) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Text from data as it may be shown in a table cell, a key/value line or an error (SPEC §6). */
export function sanitizeCell(s: string): string {
  return escapeInvisibles(s);
}

/**
 * Times in JSON: ISO-8601 UTC to the second (`2026-12-01T14:03:05Z`). Stored times carry
 * milliseconds, which only add noise to a report; every JSON time goes through here.
 */
export function isoOrNull(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null;
  // reports repeat the same times (one per enrolment batch, policy change…): remember the last one
  if (ms === lastIso.ms) return lastIso.text;
  // toISOString always ends in .sssZ
  const text = new Date(Number(ms)).toISOString().slice(0, -5) + 'Z';
  lastIso.ms = ms;
  lastIso.text = text;
  return text;
}
const lastIso: { ms: number | null; text: string | null } = { ms: null, text: null };

/** Human time, the one format of every human output: `2026-12-01 14:03 UTC` (see core/primitives/humanTime.ts). */
export { humanTime, humanTimeUntil } from '../core/primitives/humanTime.js';
