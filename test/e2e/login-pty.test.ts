/**
 * Interactive `login` on a pseudo-terminal (issue 13): a wrong code is answered and asked again
 * with the password kept; a recovery code typed at the same prompt is accepted (and used up).
 * SQLite only: the terminal path does not depend on the dialect.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeCliEnv, runCli } from '../support/cli.js';
import { currentStep, totpAt } from '../support/independentTotp.js';
import { PtySession } from '../support/pty.js';
import { cheapDemoPasswordsIn, DEVON } from '../support/scenario.js';

vi.setConfig({ testTimeout: 90_000 });

describe('login on a terminal [sqlite]', () => {
  let env: NodeJS.ProcessEnv;
  let db: string;
  let recovery: string[] = [];
  const sessions: PtySession[] = [];
  const cli = (args: string[], stdin?: string) => runCli(['--db', db, ...args], { env, stdin, timeoutMs: 60_000 });

  beforeAll(async () => {
    env = makeCliEnv().env;
    db = `sqlite:${env.HOME}/portal.db`;
    expect((await cli(['db', 'migrate'])).code).toBe(0);
    expect((await cli(['demo'])).code).toBe(0);
    // the same passwords at bcrypt cost 4: what the terminal shows does not depend on a check's cost
    await cheapDemoPasswordsIn(`${env.HOME}/portal.db`);
    const pending = JSON.parse((await cli(['enroll', '--as', DEVON.email, '--password-stdin', '--no-confirm', '--json'], `${DEVON.password}\n`)).stdout);
    const done = await cli(
      ['enroll', '--as', DEVON.email, '--password-stdin', '--confirm', '-', '--json'],
      `${DEVON.password}\n${totpAt(pending.secret, currentStep())}\n`,
    );
    expect(done.code, done.stderr).toBe(0);
    recovery = JSON.parse(done.stdout).recoveryCodes;
  }, 120_000);
  afterAll(() => {
    for (const s of sessions) s.kill();
  });

  it('a wrong code is asked again (password kept); a recovery code at the prompt logs in', async () => {
    const s = new PtySession(['--db', db, 'login', '--as', DEVON.email], env, { cols: 100, rows: 40 });
    sessions.push(s);
    await s.waitFor(/Password for/, 'the password prompt');
    s.type(`${DEVON.password}\r`);
    await s.waitFor(/Authentication code \(or a recovery or access code\):/, 'the code prompt');
    s.type('000000\r');
    await s.waitFor(/error: wrong code/, 'the wrong-code error');
    // asked again for the code only: no second password prompt
    await s.waitFor(/wrong code[\s\S]*Authentication code/, 'the code prompt again');
    const screen = await s.screen();
    // what the person sees: one password prompt, two code prompts
    expect(screen.lines.filter((l) => l.includes('Password for')).length).toBe(1);
    expect(screen.lines.filter((l) => l.includes('Authentication code')).length).toBe(2);
    s.type(`${recovery[0]}\r`);
    expect(await s.exited).toBe(0);
    expect(s.text).toMatch(/recovery code used; 9 left/);
    expect(s.text).toMatch(/logged in as devon@example\.com/);
    // the session works, and the recovery code is used up
    const status = await cli(['status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ email: DEVON.email, recoveryCodesLeft: 9 });
  });
});
