import { sanitizeCell } from './render.js';

/** Text from anywhere (a message, a hint, commander's error) as one line: breaks joined, invisibles escaped. */
export function oneLine(s: string): string {
  return sanitizeCell(s.replace(/[\r\n]+/g, ' ')).trim();
}

/** A message from elsewhere (a server, a driver) as one short line for stderr. */
export function oneLineMessage(s: string, max = 300): string {
  const line = oneLine(s);
  return line.length > max ? line.slice(0, max - 1) + '…' : line;
}
