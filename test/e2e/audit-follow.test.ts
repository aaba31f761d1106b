/**
 * `audit --follow` (issue 12): a support rep watching a case sees new events as they arrive, and
 * Ctrl-C (SIGINT) ends the watch with exit 0. A real process: the signal is the point.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, describeRun, makeCliEnv, runCli } from '../support/cli.js';
import { SAM } from '../support/scenario.js';

describe('audit --follow [sqlite]', () => {
  let env: NodeJS.ProcessEnv;
  let db: string;
  beforeAll(async () => {
    env = makeCliEnv().env;
    db = `sqlite:${env.HOME}/portal.db`;
    for (const args of [['db', 'migrate'], ['demo']]) {
      const r = await runCli(['--db', db, ...args], { env, timeoutMs: 60_000 });
      expect(r.code, describeRun(r)).toBe(0);
    }
  }, 120_000);
  afterAll(() => undefined);

  it('prints the latest events, then new ones as they happen; Ctrl-C is exit 0', async () => {
    const child = spawn(
      process.execPath,
      [BIN, '--db', db, 'audit', '--follow', '--json', '--limit', '3', '--user', 'devon@example.com', '--as', SAM.email, '--password-stdin'],
      {
        env: env as Record<string, string>,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    child.stdin.end(`${SAM.password}\n`);
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
    const until = async (test: () => boolean, what: string) => {
      const end = Date.now() + 45_000;
      while (!test()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    // give the watcher time to start polling (its first read happened before it printed anything)
    await new Promise((r) => setTimeout(r, 3_000));
    // a new event about devon: a wrong password for him
    const wrong = await runCli(['--db', db, 'status', '--as', 'devon@example.com', '--password-stdin'], { env, stdin: 'nope\n', timeoutMs: 60_000 });
    expect(wrong.code).toBe(1);
    await until(() => out.split('\n').some((l) => l.includes('"wrong password"')), 'the new event');
    const event = JSON.parse(out.split('\n').find((l) => l.includes('"wrong password"'))!);
    expect(event).toMatchObject({ target: 'devon@example.com', outcome: 'failure', reason: 'wrong password' });
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 120_000);
});
