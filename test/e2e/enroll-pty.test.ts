/**
 * Interactive enrolment on a real pseudo-terminal (80×50, NO_COLOR=1; test/support/pty.ts): the password
 * prompt, the QR code as the terminal shows it — decoded from the screen's block characters as a
 * phone would — the manual key, and the code prompt. SQLite only: the PTY path does not depend
 * on the dialect (the integration tests cover both databases).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeCliEnv, runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { safeStep, totpAt } from '../support/independentTotp.js';
import { PtySession } from '../support/pty.js';
import { decodeQrOnScreen, decodeVisibleScreen, extractQrBlock } from '../support/qrScreen.js';
import { cheapDemoPasswordsIn, DEVON, FRANK, SAM } from '../support/scenario.js';

// CLI runs are processes (~0.3 s each, more on a busy machine) plus waits for a safe point in the 30 s step
vi.setConfig({ testTimeout: 60_000 });

const COLS = 80;
const ROWS = 50;

/** How often `needle` occurs in `text`. */
const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('enroll on a terminal [sqlite]', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  const sessions: PtySession[] = [];
  const cli = (args: string[], stdin?: string) => runCli(['--db', db.url, ...args], { env, stdin });

  const statusOf = async (email: string) => {
    const r = await cli(['status', '--as', SAM.email, '--password-stdin', '--user', email, '--json'], `${SAM.password}\n`);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };

  function start(email: string): PtySession {
    const s = new PtySession(['--db', db.url, 'enroll', '--as', email], env, { cols: COLS, rows: ROWS, term: 'xterm' });
    sessions.push(s);
    return s;
  }

  /** Answer the password prompt, wait for the code prompt, decode the QR; returns the secret. */
  async function reachCodePrompt(s: PtySession, email: string, password: string): Promise<string> {
    await s.waitFor(new RegExp(`Password for ${email.replace(/[.]/g, '\\.')}`), 'the password prompt');
    s.type(`${password}\r`);
    await s.waitFor(/Code from the app:/, 'the code prompt');
    const screen = s.text;
    expect(screen).not.toContain(password);

    const block = extractQrBlock(screen);
    expect([...block[0]!].length).toBeLessThanOrEqual(COLS);
    const uri = decodeQrOnScreen(screen);
    expect(uri, `the QR code on the terminal did not decode:\n${block.join('\n')}`).not.toBeNull();
    expect(uri!.startsWith('otpauth://totp/')).toBe(true);

    const parsed = new URL(uri!);
    const label = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    expect(label).toBe(`Gentrack Developer Portal:${email}`);
    expect(parsed.searchParams.get('issuer')).toBe('Gentrack Developer Portal');
    const secret = parsed.searchParams.get('secret');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    // SHA1/6/30 are the defaults and must be left out for the common apps
    for (const p of ['algorithm', 'digits', 'period']) expect(parsed.searchParams.has(p)).toBe(false);

    // what is on the screen scans too, with nothing added around it
    expect(decodeVisibleScreen((await s.screen()).visible, COLS)).toBe(uri);
    // the manual-entry key printed under the QR code (right above the prompt) is the same secret
    const afterQr = screen.slice(screen.lastIndexOf(block[block.length - 1]!));
    const manual = afterQr.match(/Key for manual entry:\s*((?:[A-Z2-7]{4} )+[A-Z2-7]{1,4})\s*$/m);
    expect(manual, `no manual key under the QR code:\n${afterQr}`).not.toBeNull();
    expect(manual![1]!.replace(/ /g, '')).toBe(secret);
    return secret!;
  }

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    env = { ...makeCliEnv().env };
    expect((await cli(['db', 'migrate'])).code).toBe(0);
    expect((await cli(['demo'])).code).toBe(0);
    // the same passwords at bcrypt cost 4: what the terminal shows does not depend on a check's cost
    await cheapDemoPasswordsIn(db.url.slice('sqlite:'.length));
  });

  afterAll(async () => {
    for (const s of sessions) s.kill();
    await db?.drop();
  });

  it('shows a QR code that scans to the manual key; the current code activates MFA', async () => {
    const { email, password } = DEVON;
    const s = start(email);
    const secret = await reachCodePrompt(s, email, password);

    // until the code is confirmed the enrolment is only pending
    expect((await statusOf(email)).mfa).toBe('pending');

    const step = await safeStep(3_000);
    s.type(`${totpAt(secret, step)}\r`);
    await s.waitFor(/MFA is active/, '"MFA is active"');
    expect(await s.exited, s.text).toBe(0);
    expect(s.text).not.toMatch(/error:/);

    const status = await statusOf(email);
    expect(status.mfa).toBe('active');
    expect(JSON.stringify(status)).not.toContain(secret);
  });

  it('a wrong code prints an error and prompts again; then the right code works', async () => {
    const { email, password } = FRANK;
    const s = start(email);
    const secret = await reachCodePrompt(s, email, password);
    const promptsBefore = count(s.text, 'Code from the app:');

    const step = await safeStep(3_000);
    const near = new Set([-1, 0, 1].map((d) => totpAt(secret, step + d)));
    let wrong = '000000';
    for (let n = 1; near.has(wrong); n++) wrong = String((n * 111_111) % 1_000_000).padStart(6, '0');
    const mark = s.text.length;
    s.type(`${wrong}\r`);
    await s.waitFor(/error: wrong code/, 'the wrong-code error', { from: mark });
    await s.waitFor(
      (t) => {
        const after = t.slice(t.indexOf('error: wrong code'));
        return after.includes('Code from the app:');
      },
      'a new code prompt after the error',
      { from: mark },
    );
    expect(count(s.text, 'Code from the app:')).toBeGreaterThan(promptsBefore);
    // the error is one line
    const errorLines = s.text
      .slice(mark)
      .split('\n')
      .filter((l) => l.includes('error:'));
    expect(errorLines).toHaveLength(1);
    expect((await statusOf(email)).mfa).toBe('pending');

    const step2 = await safeStep(3_000);
    s.type(`${totpAt(secret, step2)}\r`);
    await s.waitFor(/MFA is active/, '"MFA is active"', { from: mark });
    expect(await s.exited, s.text).toBe(0);
    expect((await statusOf(email)).mfa).toBe('active');
  });
});
