/**
 * What a person sees on a real terminal (issue 13), replayed through a headless xterm so cursor
 * moves, line clears and colours count as they do on screen: status colours, a bulk run with its
 * progress bar (results and summary intact), the QR code fitted to 80×24, 40×60 and 150×50
 * terminals, and Ctrl-C at the code prompt. SQLite only: the terminal path does not depend on the
 * dialect. Kept to a few sessions: each is a process on a pseudo-terminal.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeCliEnv, runCli } from '../support/cli.js';
import { PtySession, type PtyOptions, type Screen } from '../support/pty.js';
import { decodeModules } from '../support/qrScreen.js';
import { DEVON, FRANK, HEIDI, SAM } from '../support/scenario.js';

vi.setConfig({ testTimeout: 60_000 });

const members = Array.from({ length: 30 }, (_, i) => `member-${String(i + 1).padStart(6, '0')}@acme.example`);

/** The full-size QR code on the screen, read from the cells' background colours (white = light). */
function fullSizeQr(screen: Screen): boolean[][] | null {
  const rows: boolean[][] = [];
  for (let y = 0; y < screen.lines.length; y++) {
    const first = screen.cell(y, 0);
    if (first.bg === -1) {
      if (rows.length > 20) break;
      rows.length = 0;
      continue;
    }
    const row: boolean[] = [];
    for (let x = 0; screen.cell(y, x).bg !== -1; x += 2) {
      const [a, b] = [screen.cell(y, x), screen.cell(y, x + 1)];
      expect(a.bg, 'a module is two cells of one colour').toBe(b.bg);
      row.push(a.bg === 7 || a.bg === 15);
    }
    rows.push(row);
  }
  return rows.length > 20 ? rows : null;
}

/** A run of ≥ 10 lines of half-block characters: a compact QR code. */
const hasCompactQr = (lines: string[]) => {
  let run = 0;
  for (const l of lines) {
    run = /^[█▀▄ ]+$/.test(l) && /[█▀▄]/.test(l) ? run + 1 : 0;
    if (run >= 10) return true;
  }
  return false;
};

describe('on a terminal [sqlite]', () => {
  let env: NodeJS.ProcessEnv;
  let db: string;
  const sessions: PtySession[] = [];
  const cli = (args: string[], stdin?: string) => runCli(['--db', db, ...args], { env, stdin });
  const pty = (args: string[], opts: PtyOptions) => {
    const s = new PtySession(['--db', db, ...args], env, opts);
    sessions.push(s);
    return s;
  };
  const stateOf = async (email: string) => {
    const r = await cli(['status', '--as', SAM.email, '--password-stdin', '--user', email, '--json'], `${SAM.password}\n`);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).state as string;
  };
  /** Start `enroll` and answer the password prompt; resolves at the code prompt. */
  const enrolAt = async (email: string, password: string, opts: PtyOptions, extra: string[] = []) => {
    const s = pty(['enroll', '--as', email, ...extra], opts);
    await s.waitFor(/Password for/, 'the password prompt');
    s.type(`${password}\r`);
    await s.waitFor(/Code from the app:/, 'the code prompt');
    return s;
  };

  beforeAll(async () => {
    env = makeCliEnv().env;
    db = `sqlite:${env.HOME}/portal.db`;
    expect((await cli(['db', 'migrate'])).code).toBe(0);
    expect((await cli(['demo', '--members', '30'])).code).toBe(0);
  });
  afterAll(() => {
    for (const s of sessions) s.kill();
  });

  it('status: the MFA state is coloured on a terminal, never shown as escape text; plain in a pipe', async () => {
    const s = pty(['status', '--as', 'devon@example.com'], { cols: 80, rows: 24, color: true });
    await s.waitFor(/Password for/, 'the password prompt');
    s.type(`${DEVON.password}\r`);
    expect(await s.exited, s.text).toBe(0);
    const screen = await s.screen();
    const y = screen.lines.findIndex((l) => /^mfa\s+none$/.test(l));
    expect(y, screen.lines.join('\n')).toBeGreaterThanOrEqual(0);
    const x = screen.lines[y]!.indexOf('none');
    expect(screen.cell(y, x)).toMatchObject({ char: 'n', fg: 1 }); // red
    expect(screen.lines.join('\n')).not.toMatch(/\\x1b|\[3\dm/);

    const piped = await cli(['status', '--as', DEVON.email, '--password-stdin'], `${DEVON.password}\n`);
    expect(piped.stdout).toMatch(/^mfa\s+none$/m);
    expect(piped.stdout).not.toMatch(/\u001b|\\x1b/);
  });

  it('bulk disable-mfa: every result on a line of its own, the summary after them, the bar says "checking" in a dry run', async () => {
    const s = pty(['org', 'disable-mfa', '--org', 'acme', '--as', SAM.email, '--ticket', 'SUP-1', '--dry-run', '--user', ...members], {
      cols: 80,
      rows: 24,
      color: true,
    });
    await s.waitFor(/Password for/, 'the password prompt');
    s.type(`${SAM.password}\r`);
    await s.exited;
    const screen = await s.screen();
    const results = screen.lines.filter((l) => /^[✓✗] /.test(l));
    // each member once, in order, and nothing else on its line (no bar remnant)
    expect(results).toEqual(members.map((m) => expect.stringMatching(new RegExp(`^[✓✗] ${m.replace(/[.]/g, '\\.')}  \\S.*[^#-]$`))));
    const summary = screen.lines.findIndex((l) => l.startsWith('dry run: 30 user(s)'));
    expect(summary, screen.lines.join('\n')).toBeGreaterThan(screen.lines.indexOf(results[results.length - 1]!));
    // the bar was drawn, and named what a dry run does
    expect(s.text).toMatch(/checking [#-]+ \d+\/30/);
    expect(s.text).not.toContain('disabling');
    expect(screen.lines.some((l) => /[#-]{10} \d+\/30/.test(l))).toBe(false); // cleared when done
  });

  it('80×24: the compact QR code cannot fit: said before the prompt, no QR printed; Ctrl-C leaves the enrolment pending (exit 130)', async () => {
    const { email, password } = DEVON;
    const s = await enrolAt(email, password, { cols: 80, rows: 24 });
    let screen = await s.screen();
    const note = screen.lines.findIndex((l) => l.includes('does not fit this 80×24 terminal'));
    expect(note, screen.lines.join('\n')).toBeGreaterThanOrEqual(0);
    expect(screen.lines.slice(note).join(' ')).toMatch(/Enlarge the terminal/);
    expect(hasCompactQr(screen.lines)).toBe(false);
    expect(screen.lines.some((l) => /^ {2}([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/.test(l))).toBe(true); // the key, whole

    s.type('\u0003');
    expect(await s.exited).toBe(130);
    screen = await s.screen();
    const after = screen.lines.join(' ');
    expect(after).toMatch(/enrolment of devon@example\.com is left pending/);
    // commands to paste: with the --db and --as of this run (the text as written, before the terminal wraps it)
    expect(s.text).toMatch(/finish with: portal-mfa --db sqlite:\S+ --as devon@example\.com enroll --confirm - \(it asks for the code from the app\)/);
    expect(s.text).toMatch(/start over with: portal-mfa --db sqlite:\S+ --as devon@example\.com enroll;/);
    expect(await stateOf(email)).toBe('pending');
  });

  it('40×60: too narrow for any QR code: said so, none printed; the manual key breaks only between groups', async () => {
    const s = await enrolAt(FRANK.email, FRANK.password, { cols: 40, rows: 60 });
    const screen = await s.screen();
    expect(screen.lines.join(' ')).toMatch(/does not fit this 40×60 terminal/);
    expect(hasCompactQr(screen.lines)).toBe(false);
    const start = screen.lines.findIndex((l) => l.startsWith('Key for manual entry'));
    const isKeyLine = (l: string) => /^ {2}[A-Z2-7]{4}( [A-Z2-7]{4})*$/.test(l);
    const from = screen.lines.findIndex((l, i) => i > start && isKeyLine(l));
    const keyLines: string[] = [];
    for (let i = from; i >= 0 && isKeyLine(screen.lines[i]!); i++) keyLines.push(screen.lines[i]!);
    expect(keyLines.length).toBeGreaterThan(1);
    expect(keyLines.join('').replace(/ /g, '')).toMatch(/^[A-Z2-7]{32}$/);
    for (const l of keyLines) expect(l.length).toBeLessThanOrEqual(40);
    s.type('\u0003');
    expect(await s.exited).toBe(130);
  });

  it('150×50 with colour: the full-size QR code, whole, scans to an otpauth URI', async () => {
    const s = await enrolAt(HEIDI.email, HEIDI.password, { cols: 150, rows: 50, color: true });
    const screen = await s.screen();
    expect(screen.lines.join(' ')).not.toMatch(/does not fit|warning:/);
    const modules = fullSizeQr(screen);
    expect(modules, screen.lines.join('\n')).not.toBeNull();
    const uri = decodeModules(modules!);
    expect(uri).toMatch(/^otpauth:\/\/totp\/Gentrack%20Developer%20Portal:heidi%40partners\.example\?secret=[A-Z2-7]{32}/);
    // the QR code and the prompt are on the one screen: the last 50 lines
    const promptLine = screen.lines.findIndex((l) => l.includes('Code from the app:'));
    const firstQrLine = screen.lines.findIndex((_, y) => screen.cell(y, 0).bg !== -1);
    expect(promptLine - firstQrLine).toBeLessThan(50);
    s.type('\u0003');
    expect(await s.exited).toBe(130);
  });
});
