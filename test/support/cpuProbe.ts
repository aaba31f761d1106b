/**
 * The CPU each test costs (`PORTAL_MFA_TEST_CPU=FILE npx vitest run …`, summed up by
 * `node scripts/test-cost.mjs FILE`): this process's own CPU and that of the child processes it
 * has waited for, per test and per file (the file's row includes the worker's start, the imports
 * and beforeAll). `npm test` keeps the two cores busy, so its time follows the CPU its tests
 * spend, not how long each waits: this is what to look at to make it faster.
 * Linux only (/proc/self/stat); a setup file only when the variable is set (vitest.config.ts).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeEach, expect } from 'vitest';

const LOG = process.env.PORTAL_MFA_TEST_CPU as string;
const TICK_MS = 10; // USER_HZ is 100 on Linux

/** [own, reaped children] CPU in ms */
function cpu(): [number, number] {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const n = (i: number) => Number(fields[i]) * TICK_MS;
  return [n(11) + n(12), n(13) + n(14)];
}

const file = () => (expect.getState().testPath ?? '').replace(/^.*?\/test\//, 'test/');
const row = (own: number, children: number, name: string) => appendFileSync(LOG, `${own + children}\t${own}\t${children}\t${file()}\t${name}\n`);

let start: [number, number] = [0, 0];
beforeEach(() => {
  start = cpu();
});
afterEach((ctx) => {
  const [own, children] = cpu();
  const names: string[] = [ctx.task.name];
  for (let suite = ctx.task.suite; suite?.name; suite = suite.suite) names.unshift(suite.name);
  row(own - start[0], children - start[1], names.join(' > '));
});
afterAll(() => {
  const [own, children] = cpu();
  row(own, children, '(whole file)');
});
