// Where the benchmarks write their figures: bench/RESULTS.md, one section per benchmark between two
// markers (the README files describe the benchmarks and are never rewritten).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');

/** True when the command line asks to leave bench/RESULTS.md alone (--no-results; --no-readme, its old name). */
export function resultsDisabled(args) {
  return args.includes('--no-results') || args.includes('--no-readme');
}

/**
 * Replace the text between two markers of bench/RESULTS.md with a benchmark's results. Returns false,
 * writing nothing, when the file or the markers are missing.
 */
export function replaceResultsSection(start, end, body) {
  if (!existsSync(RESULTS_FILE)) return false;
  const text = readFileSync(RESULTS_FILE, 'utf8');
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) return false;
  writeFileSync(RESULTS_FILE, `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`);
  return true;
}
