/**
 * Turn the compact QR code that `portal-mfa enroll` draws on a terminal back into pixels and
 * decode it, as a phone camera would. The compact (utf8) form packs two vertical modules into
 * each character cell (src/cli/qr.ts drawQr, the compact form):
 *
 *   '█' top light, bottom light     '▀' top light, bottom dark
 *   '▄' top dark,  bottom light     ' ' top dark,  bottom dark
 */
import jsQRImport, { type Options, type QRCode } from 'jsqr';

// jsqr is CommonJS; at run time module.exports is the decoder function (with .default = itself),
// but under NodeNext typings the default import is typed as the module namespace.
type JsQr = (data: Uint8ClampedArray, width: number, height: number, options?: Options) => QRCode | null;
const jsQR = jsQRImport as unknown as JsQr;

const CELLS: Record<string, [boolean, boolean]> = {
  // [top is light, bottom is light]
  '█': [true, true],
  '▀': [true, false],
  '▄': [false, true],
  ' ': [false, false],
};

/** Remove ANSI escape sequences (CSI, OSC, single-char escapes) and carriage returns. */
export function stripAnsi(text: string): string {
  return text
    .replace(/\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g, '')
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\u001b[@-Z\\-_]/g, '')
    .replace(/\r/g, '');
}

const QR_LINE = /^[█▀▄ ]+$/;

/**
 * The QR block in a screen's text: the longest run of consecutive lines made only of the four
 * block characters (and at least one non-space). Throws if there is none or it is ragged.
 */
export function extractQrBlock(screen: string): string[] {
  const lines = stripAnsi(screen).split('\n');
  let best: string[] = [];
  let run: string[] = [];
  for (const line of lines) {
    if (QR_LINE.test(line) && /[█▀▄]/.test(line)) {
      run.push(line);
      if (run.length > best.length) best = run;
    } else {
      run = [];
    }
  }
  if (best.length < 10) throw new Error(`no QR block found on screen (longest block-character run: ${best.length} lines)`);
  const width = best[0]!.length;
  const ragged = best.find((l) => l.length !== width);
  if (ragged !== undefined) throw new Error(`QR block is ragged: widths ${width} and ${ragged.length}`);
  return best;
}

interface Raster {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** The modules of a compact block: true = light. */
function blockModules(block: string[]): boolean[][] {
  const modules: boolean[][] = [];
  for (const line of block) {
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    for (const ch of line) {
      const cell = CELLS[ch];
      if (!cell) throw new Error(`unexpected character in QR block: ${JSON.stringify(ch)}`);
      top.push(cell[0]);
      bottom.push(cell[1]);
    }
    modules.push(top, bottom);
  }
  return modules;
}

/** Rasterise the block into RGBA: `scale` px per module, a light quiet zone of `quiet` modules. */
function rasteriseQr(block: string[], opts: { scale?: number; quiet?: number } = {}): Raster {
  return rasteriseModules(blockModules(block), opts);
}

/**
 * Rasterise a module grid (true = light) into RGBA, as a camera would see it. Four pixels a module
 * by default: jsQR decoded or refused exactly as at eight in every case tried (whole codes, codes
 * scrolled off the top, text touching them, single damaged cells), and a whole 80×50 screen at
 * eight is four times the pixels (~70 ms a decode instead of ~15). At two it began refusing a few
 * damaged codes that eight still read.
 */
function rasteriseModules(modules: boolean[][], opts: { scale?: number; quiet?: number } = {}): Raster {
  const scale = opts.scale ?? 4;
  const quiet = opts.quiet ?? 4;
  const cols = modules[0]!.length;
  const modRows = modules.length;
  const width = (cols + 2 * quiet) * scale;
  const height = (modRows + 2 * quiet) * scale;
  const data = new Uint8ClampedArray(width * height * 4).fill(255); // light everywhere, opaque
  for (let r = 0; r < modRows; r++) {
    for (let c = 0; c < cols; c++) {
      if (modules[r]![c]) continue;
      for (let y = 0; y < scale; y++) {
        const py = (r + quiet) * scale + y;
        for (let x = 0; x < scale; x++) {
          const i = (py * width + (c + quiet) * scale + x) * 4;
          data[i] = data[i + 1] = data[i + 2] = 0;
        }
      }
    }
  }
  return { data, width, height };
}

/** Decode a module grid (true = light); null when it does not decode. */
export function decodeModules(modules: boolean[][]): string | null {
  const { data, width, height } = rasteriseModules(modules);
  return jsQR(data, width, height, { inversionAttempts: 'dontInvert' })?.data ?? null;
}

/** Find, rasterise and decode the QR code on a screen; null when it does not decode. */
export function decodeQrOnScreen(screen: string): string | null {
  const { data, width, height } = rasteriseQr(extractQrBlock(screen));
  return jsQR(data, width, height, { inversionAttempts: 'dontInvert' })?.data ?? null;
}

/**
 * Decode the QR code from what a terminal shows now (`Screen.visible` of test/support/pty.ts), as
 * a phone camera pointed at a dark-background terminal would: every cell of the screen counts —
 * half blocks as their halves, any other character and blank cells as dark (text on a dark
 * background), and the terminal's edge as dark too. No quiet zone is added: the code's own must
 * be on the screen, so a code whose edge scrolled off, or that touches text, does not decode.
 */
export function decodeVisibleScreen(visible: string[], cols: number): string | null {
  const margin = 4; // the terminal's edge: dark
  const modules: boolean[][] = [];
  const darkRow = () => Array<boolean>(cols + 2 * margin).fill(false);
  for (let i = 0; i < 2 * margin; i++) modules.push(darkRow());
  for (const line of visible) {
    const top = darkRow();
    const bottom = darkRow();
    [...line].slice(0, cols).forEach((ch, x) => {
      const cell = CELLS[ch] ?? [false, false];
      top[margin + x] = cell[0];
      bottom[margin + x] = cell[1];
    });
    modules.push(top, bottom);
  }
  for (let i = 0; i < 2 * margin; i++) modules.push(darkRow());
  const { data, width, height } = rasteriseModules(modules, { quiet: 0 });
  return jsQR(data, width, height, { inversionAttempts: 'dontInvert' })?.data ?? null;
}
