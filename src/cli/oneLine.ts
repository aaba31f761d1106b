import { sanitizeCell } from './render.js';

/** A message from elsewhere (a server, a driver) as one short line for stderr. */
export function oneLineMessage(s: string, max = 300): string {
  const line = sanitizeCell(s.replace(/[\r\n]+/g, ' ')).trim();
  return line.length > max ? line.slice(0, max - 1) + '…' : line;
}
