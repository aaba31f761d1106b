import { usageError } from '../core/errors.js';

export type QrMode = 'utf8' | 'ansi' | 'none';

export function parseQrMode(raw: string | undefined, stdoutIsTTY: boolean): QrMode {
  if (raw === undefined) return stdoutIsTTY ? 'utf8' : 'none';
  if (raw === 'utf8' || raw === 'ansi' || raw === 'none') return raw;
  throw usageError(`--qr takes utf8, ansi or none (got ${JSON.stringify(raw.slice(0, 20))})`);
}

/**
 * The otpauth URI as a QR code for the terminal. `utf8` is the compact form (two modules per
 * character cell; fits an 80×24 terminal); `ansi` is the full-size form drawn with background
 * colours, for terminals whose fonts distort block characters. Loaded lazily.
 */
export async function renderQr(uri: string, mode: Exclude<QrMode, 'none'>): Promise<string> {
  const { default: qrcode } = await import('qrcode-terminal');
  qrcode.setErrorLevel('L');
  return new Promise((resolve) => qrcode.generate(uri, { small: mode === 'utf8' }, (out: string) => resolve(out)));
}
