/**
 * The test clock reaches every runner: in-process runs read it through run()'s clock, and the
 * subprocesses through the --import preload. Were the preload lost, a subprocess would judge a code
 * by the real clock, twenty steps behind the test clock, and refuse it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeCliEnv, runCli, runCliProcess, type CliResult } from './cli.js';
import { advanceClock, nodeClockArgs, testNow } from './clock.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { currentStep, totpAt } from './independentTotp.js';
import { DEVON } from './scenario.js';

describe('the test clock [sqlite]', () => {
  let db: TestDatabase;
  const env = makeCliEnv().env;
  const json = (r: CliResult) => {
    expect(r.code, describeRun(r)).toBe(0);
    return JSON.parse(r.stdout);
  };

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    json(await runCli(['--db', db.url, 'db', 'migrate', '--json'], { env }));
    expect((await runCli(['--db', db.url, 'demo'], { env })).code).toBe(0);
  });
  afterAll(() => db?.drop());

  it('moves only forward, and subprocesses start on the real clock until it has moved', () => {
    expect(nodeClockArgs()).toEqual([]);
    expect(() => advanceClock(-1)).toThrow();
    const before = testNow();
    advanceClock(10 * 60_000);
    expect(testNow() - before).toBeGreaterThanOrEqual(10 * 60_000);
    expect(nodeClockArgs()[0]).toBe('--import');
  });

  it('a subprocess and an in-process run both accept the code of the test clock’s step, 20 steps ahead of the real one', async () => {
    const as = ['--db', db.url, '--as', DEVON.email, '--password-stdin'];
    const pending = json(await runCli([...as, 'enroll', '--no-confirm', '--json'], { env, stdin: `${DEVON.password}\n` }));
    const step = currentStep();
    expect(step - Math.floor(Date.now() / 30_000)).toBeGreaterThanOrEqual(19);
    const confirmed = json(
      await runCliProcess([...as, 'enroll', '--confirm', totpAt(pending.secret, step), '--json'], { env, stdin: `${DEVON.password}\n`, timeoutMs: 60_000 }),
    );
    // 0, or -1 if the machine took long enough to cross a step; the real clock would be ~-20: refused
    expect(confirmed.status).toBe('active');
    expect([0, -1]).toContain(confirmed.driftSteps);
    const verified = json(await runCli([...as, 'verify', '--code', totpAt(pending.secret, step + 1), '--json'], { env, stdin: `${DEVON.password}\n` }));
    expect(verified.valid).toBe(true);
  }, 180_000);
});
