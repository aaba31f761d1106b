/**
 * What a person sees on a real terminal (issue 13), replayed through a headless xterm so cursor
 * moves, line clears and colours count as they do on screen: status colours, a bulk run with its
 * progress bar (results and summary intact), the QR code fitted to 80×24, 40×60 and 160×50
 * terminals — decoded from what is on the screen — a window that grows at the code prompt, and
 * Ctrl-C at the code prompt. SQLite only: the terminal path does not depend on the
 * dialect. Kept to a few sessions: each is a process on a pseudo-terminal.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { BIN, makeCliEnv, runCli } from '../support/cli.js';
import { currentStep, totpAt } from '../support/independentTotp.js';
import { PtySession, type PtyOptions, type Screen } from '../support/pty.js';
import { decodeModules, decodeVisibleScreen } from '../support/qrScreen.js';
import { cheapDemoPasswordsIn, DEVON, FRANK, HEIDI, SAM } from '../support/scenario.js';

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
    return JSON.parse(r.stdout).mfa as string;
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
    // the same passwords at bcrypt cost 4: each session checks one, and what the terminal shows does not depend on its cost
    await cheapDemoPasswordsIn(`${env.HOME}/portal.db`);
  });
  afterAll(() => {
    for (const s of sessions) s.kill();
  });

  it('80 columns: the demo, devices list, audit, users list and org users tables fit — no line the terminal wraps, each header on one line', async () => {
    // bob gets MFA, a CLI session and a trusted device (in-process, on the test clock)
    const bob = { email: 'bob@globex.example', password: 'bob-demo-pass' };
    const started = await cli(['enroll', '--as', bob.email, '--password-stdin', '--no-confirm', '--json'], `${bob.password}\n`);
    expect(started.code, started.stderr).toBe(0);
    const secret = JSON.parse(started.stdout).secret as string;
    const step = currentStep();
    expect((await cli(['enroll', '--as', bob.email, '--password-stdin', '--confirm', totpAt(secret, step)], `${bob.password}\n`)).code).toBe(0);
    const login = [
      'login',
      '--as',
      bob.email,
      '--password-stdin',
      '--code',
      totpAt(secret, step + 1),
      '--trust-device',
      '--label',
      "bob's work laptop (ThinkPad)",
    ];
    expect((await cli(login, `${bob.password}\n`)).code).toBe(0);

    const bin = path.join(env.HOME!, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(BIN, path.join(bin, 'portal-mfa'));
    const asSam = `echo ${SAM.password} | portal-mfa --db ${db} --as ${SAM.email} --password-stdin`;
    const script = [
      `portal-mfa --db ${db} demo`,
      `portal-mfa --db ${db} devices list --all`,
      `${asSam} audit --no-pager`,
      `${asSam} users list --no-pager --org globex`,
      `${asSam} org users --org acme --no-pager`,
    ].join(' && echo ==== && ');
    const s = new PtySession(['-c', script], { ...env, PATH: `${bin}:${env.PATH}` }, { cols: 80, rows: 24, program: 'bash' });
    sessions.push(s);
    expect(await s.exited, s.text).toBe(0);
    const screen = await s.screen();
    expect(screen.wrapped.map((i) => `${screen.lines[i - 1]}⏎${screen.lines[i]}`)).toEqual([]);
    const headers = screen.lines.filter((l) => /^[A-Z][A-Z ]+$/.test(l) && / {2}/.test(l));
    expect(headers).toEqual([
      expect.stringMatching(/^EMAIL +PASSWORD +ROLE +STORY$/),
      expect.stringMatching(/^ID +LABEL +STATE +LAST USED +EXPIRES$/),
      expect.stringMatching(/^TIME +ACTOR +TARGET +ACTION +OUTCOME +REASON$/),
      expect.stringMatching(/^EMAIL +ROLE +MFA +LOCKED +ORGANISATIONS$/), // the times and the name gave way
      expect.stringMatching(/^EMAIL +NAME +ROLE +MFA +DEVICES +ENROL BY$/),
    ]);
    // optional columns give way (devices: created) before a cell is cut; cut cells end in …
    expect(screen.lines).toContainEqual(expect.stringMatching(/^1 \* +bob's work laptop \(ThinkPad\) +active +- +\d{4}-\d\d-\d\d \d\d:\d\d UTC$/));
    expect(screen.lines).toContainEqual(expect.stringMatching(/^bob@globex\.example +developer +active +no +globex$/));
    expect(screen.lines).toContainEqual(expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC +bob@\S*… +bob@\S*… +mfa\.enroll\.confirm +success +-$/));
    for (const l of screen.lines) expect(l.length).toBeLessThanOrEqual(80);
  });

  it('org users on a terminal pages through less (q quits, exit 0); with PAGER= it prints straight through', async () => {
    const args = ['org', 'users', '--org', 'acme', '--as', SAM.email];
    const paged = pty(args, { cols: 80, rows: 24 });
    await paged.waitFor(/Password for/, 'the password prompt');
    paged.type(`${SAM.password}\r`);
    await paged.waitFor(/member-000010[\s\S]*\n:\s*$/, "the first page and less's prompt");
    let screen = await paged.screen();
    // less holds the first screenful: the header on top of it, no more than fits, the rest not yet shown
    expect(screen.visible.some((l) => /^EMAIL +NAME +ROLE +MFA/.test(l))).toBe(true);
    expect(paged.text).not.toContain('member-000030');
    paged.type('q');
    expect(await paged.exited, paged.text).toBe(0);
    screen = await paged.screen();
    expect(screen.lines.join('\n')).toMatch(/\d+ member\(s\) of acme/);

    const straight = new PtySession(['--db', db, ...args], { ...env, PAGER: '' }, { cols: 80, rows: 24 });
    sessions.push(straight);
    await straight.waitFor(/Password for/, 'the password prompt');
    straight.type(`${SAM.password}\r`);
    expect(await straight.exited, straight.text).toBe(0);
    expect(straight.text).toMatch(/member-000030@acme\.example[\s\S]*\d+ member\(s\) of acme/);
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

  /** The grouped key shown on the screen now, beside or below the code (a line of 8 groups, or lines of 4 after the label). */
  const keyOnScreen = (visible: string[]) => {
    const at = visible.findIndex((l) => l.includes('Key for manual entry:'));
    if (at < 0) return null;
    const groups = (l: string | undefined) => l?.match(/(?:[A-Z2-7]{4} )+[A-Z2-7]{4}\s*$/)?.[0].trim() ?? '';
    const same = groups(visible[at]!.slice(visible[at]!.indexOf('Key for manual entry:')));
    const text = same || groups(visible[at + 1]) + ' ' + groups(visible[at + 2]);
    return text.replace(/ /g, '');
  };
  const secretOf = (uri: string | null) => (uri ? new URL(uri).searchParams.get('secret') : null);

  it('80×24: the whole compact QR code, the key beside it and the prompt on one screen; it scans from the screen; Ctrl-C leaves the enrolment pending (exit 130)', async () => {
    const { email, password } = DEVON;
    const s = await enrolAt(email, password, { cols: 80, rows: 24, color: true });
    let screen = await s.screen();
    expect(screen.lines.join(' ')).not.toMatch(/warning:|does not fit/);
    const uri = decodeVisibleScreen(screen.visible, 80);
    expect(uri, screen.visible.join('\n')).toMatch(/^otpauth:\/\/totp\/Gentrack%20Developer%20Portal:devon%40example\.com\?secret=[A-Z2-7]{32}/);
    expect(keyOnScreen(screen.visible)).toBe(secretOf(uri));
    expect(screen.visible[23]).toMatch(/Code from the app:/);

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

  it('40×60: too narrow for any QR code: said so, the key whole; the window grows to 80×24 at the prompt: the code is drawn and scans', async () => {
    const s = await enrolAt(FRANK.email, FRANK.password, { cols: 40, rows: 60 });
    let screen = await s.screen();
    expect(screen.lines.join(' ')).toMatch(/needs a \d+×24 terminal and this one is 40×60: enlarge the window and it is drawn/);
    expect(hasCompactQr(screen.lines)).toBe(false);
    const start = screen.lines.findIndex((l) => l.startsWith('Key for manual entry'));
    const isKeyLine = (l: string) => /^ {2}[A-Z2-7]{4}( [A-Z2-7]{4})*$/.test(l);
    const keyLines: string[] = [];
    for (let i = start + 1; i < screen.lines.length && isKeyLine(screen.lines[i]!); i++) keyLines.push(screen.lines[i]!);
    expect(keyLines.length).toBeGreaterThan(1);
    const key = keyLines.join('').replace(/ /g, '');
    expect(key).toMatch(/^[A-Z2-7]{32}$/);
    for (const l of keyLines) expect(l.length).toBeLessThanOrEqual(40);

    const mark = s.text.length;
    s.resize(80, 24);
    await s.waitFor((t) => hasCompactQr(t.split('\n')) && /Code from the app:/.test(t), 'the QR code drawn again at 80×24', { from: mark });
    screen = await s.screen();
    const uri = decodeVisibleScreen(screen.visible, 80);
    expect(uri, screen.visible.join('\n')).toMatch(/^otpauth:\/\/totp\/Gentrack%20Developer%20Portal:frank%40globex\.example\?/);
    expect(secretOf(uri)).toBe(key); // the same enrolment, not a new one
    expect(keyOnScreen(screen.visible)).toBe(key);
    s.type('\u0003');
    expect(await s.exited).toBe(130);
  });

  it('160×50 with colour: the full-size QR code, whole, scans to an otpauth URI', async () => {
    const s = await enrolAt(HEIDI.email, HEIDI.password, { cols: 160, rows: 50, color: true });
    const screen = await s.screen();
    expect(screen.lines.join(' ')).not.toMatch(/does not fit|warning:/);
    const modules = fullSizeQr(screen);
    expect(modules, screen.lines.join('\n')).not.toBeNull();
    const uri = decodeModules(modules!);
    expect(uri).toMatch(/^otpauth:\/\/totp\/Gentrack%20Developer%20Portal:heidi%40partners\.example\?secret=[A-Z2-7]{32}/);
    // the QR code, the manual key below it and the prompt are on the one screen
    const promptLine = screen.lines.findIndex((l) => l.includes('Code from the app:'));
    const firstQrLine = screen.lines.findIndex((_, y) => screen.cell(y, 0).bg !== -1);
    expect(promptLine - firstQrLine).toBeLessThan(50);
    expect(screen.visible.some((l) => /^\? Code from the app:/.test(l))).toBe(true);
    expect(keyOnScreen(screen.visible)).toBe(secretOf(uri));
    expect(screen.visible.findIndex((l) => l.startsWith('Key for manual entry:'))).toBeGreaterThan(screen.visible.length - 4);
    s.type('\u0003');
    expect(await s.exited).toBe(130);
  });
});
