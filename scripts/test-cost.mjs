#!/usr/bin/env node
// The costliest test files and tests from a PORTAL_MFA_TEST_CPU log (test/support/cpuProbe.ts):
//   PORTAL_MFA_TEST_CPU=/tmp/cpu.tsv npx vitest run --project unit --project db
//   node scripts/test-cost.mjs /tmp/cpu.tsv [how many, default 15]
import { readFileSync } from 'node:fs';

const [file, most = '15'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/test-cost.mjs FILE [N]');
  process.exit(2);
}
const rows = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => {
    const [total, own, children, path, ...name] = line.split('\t');
    return { total: Number(total), own: Number(own), children: Number(children), path, name: name.join('\t') };
  });
const files = rows.filter((r) => r.name === '(whole file)');
const tests = rows.filter((r) => r.name !== '(whole file)');
const s = (ms) => `${(ms / 1000).toFixed(1)} s`.padStart(8);
const top = (list) => list.sort((a, b) => b.total - a.total).slice(0, Number(most));
console.log(`CPU of ${files.length} files: ${s(files.reduce((n, r) => n + r.total, 0)).trim()} (own + child processes)\n`);
console.log('files (start, imports, beforeAll and tests):');
for (const r of top(files)) console.log(`${s(r.total)}  ${s(r.children)} in children  ${r.path}`);
console.log('\ntests:');
for (const r of top(tests)) console.log(`${s(r.total)}  ${r.path} > ${r.name}`);
