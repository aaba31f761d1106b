// Replace the text between two markers of a README with a benchmark's results (the benchmarks'
// --readme options and bench/all.mjs). Returns false, writing nothing, when the markers are missing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export function replaceReadmeSection(file, start, end, body) {
  if (!existsSync(file)) return false;
  const text = readFileSync(file, 'utf8');
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) return false;
  writeFileSync(file, `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`);
  return true;
}
