/**
 * The flows of issue 23 on a real terminal (a pseudo-terminal replayed through a headless xterm,
 * test/support/pty.ts), as a person types them:
 * - every command printed for the person to run next can be pasted: the demo's "Try this next"
 *   commands run as printed, in order; the hint after Ctrl-C at the enrolment code prompt finishes
 *   the enrolment, with the --as and --db of the run;
 * - cheap checks before secrets: a missing ticket, a user who is not locked or has no MFA, is said
 *   before any password is asked (a CLI session) or before a code is used (--as) — run in-process
 *   with a prompter that keeps every question, as nothing is drawn that the order depends on;
 * - a wrong password typed again (recovery-codes regenerate, unlock, disable) is asked again;
 * - a lost phone at `replace`: a recovery code stands in for the old device's code;
 * - Ctrl-C during a bulk `org disable-mfa … > out.txt`: every committed result is in the file, the
 *   summary says what was done and how to finish, exit 130.
 * SQLite only: the terminal path does not depend on the dialect. Every code comes from the key the
 * screen showed, on the test clock (advanced, never slept), which the sessions share.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { advanceClock } from '../support/clock.js';
import { describeRun, makeCliEnv, runCli } from '../support/cli.js';
import { currentStep, totpAt } from '../support/independentTotp.js';
import type { Prompter } from '../../src/cli/prompter.js';
import { PtySession, type PtyOptions } from '../support/pty.js';
import { cheapDemoPasswords } from '../support/scenario.js';

vi.setConfig({ testTimeout: 90_000 });

const PASSWORDS: Record<string, string> = {
  'alice@acme.example': 'alice-demo-pass',
  'olivia@partners.example': 'olivia-demo-pass',
  'devon@example.com': 'devon-demo-pass',
  'frank@globex.example': 'frank-demo-pass',
  'heidi@partners.example': 'heidi-demo-pass',
  'erin@acme.example': 'erin-demo-pass',
  'sam@support.example': 'sam-demo-pass',
};
const TERM: PtyOptions = { cols: 120, rows: 40 };
/**
 * Members in the bulk run that Ctrl-C interrupts: enough that it is always interrupted mid-run, no
 * more (each costs the rerun that finishes the list). Chunks grow 20, 40, 80 … up to 500 users, so
 * the run commits after 20, 60, 140, 300, 620, 1120, 1620 and 2000 users; Ctrl-C goes when the first
 * chunk is in the file, and on a machine loaded to 9 runnable processes on 2 cores it landed after 20
 * to 300 users (13 runs), four chunks short of the end.
 */
const MEMBERS = 2_000;

/** A code for `secret` in a step no earlier code used: the test clock moves on 30 s first (sessions started after this see it). */
function freshCode(secret: string): string {
  advanceClock(30_000);
  return totpAt(secret, currentStep());
}

/** A command line as printed (`portal-mfa --db sqlite:/x enroll --as a@b`): its words, as a POSIX shell splits them (single quotes only). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]!);
  expect(out[0], line).toBe('portal-mfa');
  return out.slice(1);
}

/**
 * The manual-entry key shown on the screen (the last one, when several were): on the label's line
 * (`Key for manual entry: ABCD …`), or in the lines after it — under it, or beside a QR code's
 * last lines, where each line ends in groups of four.
 */
function keyShown(text: string): string {
  const at = text.lastIndexOf('Key for manual entry:');
  expect(at, text).toBeGreaterThanOrEqual(0);
  const [label, ...next] = text.slice(at + 'Key for manual entry:'.length).split('\n');
  const groups = (line: string | undefined) => line?.match(/(?:^|\s)((?:[A-Z2-7]{4} )*[A-Z2-7]{4})\s*$/)?.[1] ?? '';
  const key = groups(label) || groups(next[0]) + groups(next[1]);
  return key.replace(/\s/g, '');
}

/** The active prompts a person answers here (inquirer draws an active prompt after "? ", an answered one after "✔ "). */
const PROMPTS = [
  /\? (Password for (\S+):)/,
  /\? (Enter your password to complete the process \((\S+)\):)/,
  /\? (Your authentication code \((\S+)\):)/,
  /\? (Code for (\S+):)/,
  /\? (Code from the app:)/,
  /\? (Code from your current device \(or a recovery code\):)/,
  /\? (.*\? \(y\/N\))/,
];

/**
 * Answer each prompt of the session as it comes, until the command exits: `answer(prompt, who,
 * shownSoFar)` gives what to type. Resolves with the exit code.
 */
async function converse(s: PtySession, answer: (prompt: string, who: string | undefined, shown: string) => string): Promise<number> {
  let from = 0;
  for (;;) {
    let found: { prompt: string; who?: string; end: number } | undefined;
    const next = (text: string) => {
      const rest = text.slice(from);
      let best: { prompt: string; who?: string; end: number; at: number } | undefined;
      for (const p of PROMPTS) {
        const m = p.exec(rest);
        if (m && (!best || m.index < best.at)) best = { prompt: m[1]!, who: m[2], end: from + m.index + m[0].length, at: m.index };
      }
      found = best;
      return best !== undefined;
    };
    try {
      await s.waitFor(next, 'a prompt or the end');
    } catch (e) {
      if (/the command ended/.test(String(e))) return s.exited;
      throw e;
    }
    const { prompt, who, end } = found!;
    s.type(`${answer(prompt, who, s.text)}\r`);
    // the prompt is answered once its line is drawn again as done
    const done = `✔ ${prompt.replace(/ \(y\/N\)$/, '')}`;
    await s
      .waitFor((t) => t.indexOf(done, end) >= 0, `"${done}"`)
      .catch((e) => {
        if (!/the command ended/.test(String(e))) throw e;
      });
    from = Math.max(end, s.text.indexOf(done, end) + done.length);
  }
}

describe('flows on a terminal [sqlite]', () => {
  let env: NodeJS.ProcessEnv;
  let home: string;
  let db: string;
  let knex: Knex;
  const sessions: PtySession[] = [];
  const cli = (args: string[], stdin?: string, e = env) => runCli(['--db', db, ...args], { env: e, stdin });
  /** `portal-mfa ARGS` on a terminal, exactly these words (no --db added). */
  const pty = (args: string[], e = env, opts: PtyOptions = TERM) => {
    const s = new PtySession(args, e, opts);
    sessions.push(s);
    return s;
  };
  const count = async (table: string, where: Record<string, unknown> = {}) => Number((await knex(table).where(where).count({ n: '*' }).first())?.n);
  const stateOf = async (email: string) => {
    const r = await cli(['status', '--as', 'sam@support.example', '--password-stdin', '--user', email, '--json'], 'sam-demo-pass\n');
    expect(r.code, describeRun(r)).toBe(0);
    return JSON.parse(r.stdout) as { mfa: string; recoveryCodesLeft: number; consecutiveFailures: number };
  };
  /** Enrol `email` without a terminal; returns its secret and recovery codes. */
  const enrolScripted = async (email: string, e = env) => {
    const pending = await cli(['enroll', '--as', email, '--password-stdin', '--no-confirm', '--json'], `${PASSWORDS[email]}\n`, e);
    expect(pending.code, describeRun(pending)).toBe(0);
    const secret = JSON.parse(pending.stdout).secret as string;
    const done = await cli(['enroll', '--as', email, '--password-stdin', '--confirm', '-', '--json'], `${PASSWORDS[email]}\n${freshCode(secret)}\n`, e);
    expect(done.code, describeRun(done)).toBe(0);
    return { secret, recoveryCodes: JSON.parse(done.stdout).recoveryCodes as string[] };
  };
  /**
   * `portal-mfa ARGS` in-process as at a terminal (it may ask): `answer` gives what the person types
   * (by default nothing is expected to be asked); every question asked is kept, in order.
   */
  const atTerminal = async (args: string[], e: NodeJS.ProcessEnv, answer?: (question: string) => string) => {
    const asked: string[] = [];
    const ask = async (question: string) => {
      asked.push(question);
      if (!answer) throw new Error(`asked: ${question}`);
      return answer(question);
    };
    const prompter: Prompter = {
      password: ask,
      input: ask,
      confirm: async (question) => (await ask(question)) === 'y',
      select: async (question) => {
        asked.push(question);
        throw new Error(`asked to choose: ${question}`);
      },
    };
    return { ...(await runCli(['--db', db, ...args], { env: e, prompter })), asked };
  };
  /** A CLI session for `email` in a HOME of its own. */
  const sessionOf = async (email: string, code?: string) => {
    const e = makeCliEnv().env;
    const r = await cli(['login', '--as', email, '--password-stdin', ...(code ? ['--code', code] : [])], `${PASSWORDS[email]}\n`, e);
    expect(r.code, describeRun(r)).toBe(0);
    return e;
  };

  beforeAll(async () => {
    ({ env, home } = makeCliEnv());
    db = `sqlite:${home}/portal.db`;
    expect((await cli(['db', 'migrate'])).code).toBe(0);
    expect((await cli(['demo'])).code).toBe(0);
    // (the secrets key is generated beside the database: every HOME below finds it there)
    knex = knexFactory({ client: 'better-sqlite3', connection: { filename: `${home}/portal.db` }, useNullAsDefault: true });
    // the same passwords at bcrypt cost 4: every session and in-process run checks one or two, and
    // nothing here depends on what a check costs
    await cheapDemoPasswords(knex);
  });
  afterAll(async () => {
    for (const s of sessions) s.kill();
    await knex?.destroy();
  });

  it("demo: each command of 'Try this next' runs as printed, in order, on a terminal", async () => {
    const storyEnv = makeCliEnv().env;
    const printed = await cli(['demo'], undefined, storyEnv);
    expect(printed.code, describeRun(printed)).toBe(0);
    const lines = printed.stdout.split('\n');
    const commands = lines.slice(lines.findIndex((l) => l.startsWith('Try this next'))).filter((l) => /^ {4}portal-mfa /.test(l));
    expect(commands.length).toBeGreaterThanOrEqual(6);
    // each carries the --db of the demo run, so it reaches this database when pasted
    for (const c of commands) expect(words(c.trim()).slice(0, 2)).toEqual(['--db', db]);

    const secrets: Record<string, string> = {};
    for (const line of commands) {
      // a code typed in this session must not be one an earlier session used: on to the next step
      advanceClock(30_000);
      const s = pty(words(line.trim()), storyEnv);
      let signingIn = '';
      const code = await converse(s, (prompt, who, shown) => {
        if (prompt.startsWith('Password for')) signingIn = who!;
        if (/password/i.test(prompt)) return PASSWORDS[who!]!;
        if (prompt.endsWith('(y/N)')) return 'y';
        // enrolling (enroll, or login made to enrol): the key on the screen is the new secret
        if (prompt === 'Code from the app:') secrets[signingIn] = keyShown(shown);
        return totpAt(secrets[who ?? signingIn]!, currentStep());
      });
      expect(code, `${line.trim()}\n${s.text}`).toBe(0);
    }
    // what the story did: Devon enrolled and was reset by support; Alice enrolled at her login
    expect((await stateOf('devon@example.com')).mfa).toBe('none');
    expect((await stateOf('alice@acme.example')).mfa).toBe('active');
    expect(await count('mfa_audit_events', { action: 'mfa.reset', target_email: 'devon@example.com', outcome: 'success' })).toBe(1);
  });

  it('Ctrl-C at the enrolment code prompt: the hint, pasted as printed, finishes the enrolment (--as and --db carried)', async () => {
    const s = pty(['--db', db, 'enroll', '--as', 'frank@globex.example', '--qr', 'none']);
    await s.waitFor(/\? Password for/, 'the password prompt');
    s.type(`${PASSWORDS['frank@globex.example']}\r`);
    await s.waitFor(/\? Code from the app:/, 'the code prompt');
    const key = keyShown(s.text);
    s.type('\u0003');
    expect(await s.exited).toBe(130);
    const hint = /finish with: (portal-mfa [^(]*?) \(it asks for the code from the app\)/.exec(s.text);
    expect(hint, s.text).not.toBeNull();
    expect(hint![1]).toBe(`portal-mfa --db ${db} --as frank@globex.example enroll --confirm -`);
    expect((await stateOf('frank@globex.example')).mfa).toBe('pending');

    advanceClock(30_000);
    const finish = pty(words(hint![1]!));
    const code = await converse(finish, (prompt) => (/Password/.test(prompt) ? PASSWORDS['frank@globex.example']! : totpAt(key, currentStep())));
    expect(code, finish.text).toBe(0);
    expect(finish.text).toMatch(/MFA is active for frank@globex\.example/);
    expect((await stateOf('frank@globex.example')).mfa).toBe('active');
  });

  it('cheap checks first: with a session, a missing ticket, a user not locked or without MFA is said before any password; with --as, before a code is used', async () => {
    // in-process at a terminal (a prompter that keeps every question asked): which checks come
    // before which question is the point here, not how a prompt is drawn (the other tests draw them)
    const sam = await sessionOf('sam@support.example');
    const cases: [string[], number, RegExp][] = [
      [['unlock', '--user', 'erin@acme.example'], 2, /needs a ticket reference/],
      [
        ['unlock', '--user', 'erin@acme.example', '--ticket', 'SUP-9'],
        6,
        /erin@acme\.example is not locked \(portal-mfa --db \S+ status --user erin@acme\.example shows/,
      ],
      [['disable', '--user', 'heidi@partners.example', '--ticket', 'SUP-9'], 6, /MFA is not enabled for heidi@partners\.example/],
      [['org', 'disable-mfa', '--org', 'acme', '--user', 'erin@acme.example'], 2, /needs a ticket reference/],
    ];
    for (const [args, exit, said] of cases) {
      const r = await atTerminal(args, sam);
      // nothing was asked: no password, no question
      expect(r.asked, describeRun(r)).toEqual([]);
      expect(r.code, describeRun(r)).toBe(exit);
      expect(r.stderr).toMatch(said);
      expect(r.stdout + r.stderr).not.toMatch(/password|\(y\/N\)/i);
    }

    // olivia (MFA on) administers both of heidi's organisations: her code is looked at, not used,
    // and neither an organisation nor a password again is asked before "MFA is not enabled"
    const { secret } = await enrolScripted('olivia@partners.example');
    const code = freshCode(secret);
    const olivia = (question: string) => (/Password/.test(question) ? PASSWORDS['olivia@partners.example']! : code);
    const signIn = [
      expect.stringMatching(/^Password for olivia@partners\.example/),
      expect.stringMatching(/^Your authentication code \(olivia@partners\.example\)/),
    ];
    const d = await atTerminal(['disable', '--user', 'heidi@partners.example', '--as', 'olivia@partners.example'], env, olivia);
    expect(d.code, describeRun(d)).toBe(6);
    expect(d.stderr).toMatch(/MFA is not enabled for heidi@partners\.example/);
    expect(d.asked).toEqual(signIn);
    // verify of heidi's code: she has none to check, said before olivia's code is used (and the hint is heidi's to follow)
    const v = await atTerminal(['verify', '--user', 'heidi@partners.example', '--as', 'olivia@partners.example'], env, olivia);
    expect(v.code, describeRun(v)).toBe(6);
    expect(v.stderr).toMatch(/MFA is not enabled for heidi@partners\.example \(the user runs portal-mfa enroll first\)/);
    expect(v.asked).toEqual(signIn);
    // the same code still signs olivia in: it was not used up
    const again = await cli(['status', '--as', 'olivia@partners.example', '--password-stdin', '--code', code], `${PASSWORDS['olivia@partners.example']}\n`);
    expect(again.code, describeRun(again)).toBe(0);
  });

  it('a wrong password typed again is asked again (recovery-codes regenerate, unlock, disable), each counted', async () => {
    const { secret } = await enrolScripted('devon@example.com');
    const devon = await sessionOf('devon@example.com', freshCode(secret));
    const wrongFirst = (right: string) => {
      let tries = 0;
      return (prompt: string) => (prompt.endsWith('(y/N)') ? 'y' : tries++ === 0 ? 'not-the-password' : right);
    };
    const failuresBefore = await count('mfa_audit_events', { action: 'recovery-codes.regenerate.reauth', outcome: 'failure' });
    const regen = pty(['--db', db, 'recovery-codes', 'regenerate'], devon);
    expect(await converse(regen, wrongFirst(PASSWORDS['devon@example.com']!)), regen.text).toBe(0);
    expect(regen.text).toMatch(/error: wrong password[\s\S]*Enter your password to complete the process[\s\S]*Recovery codes/);
    expect(await count('mfa_audit_events', { action: 'recovery-codes.regenerate.reauth', outcome: 'failure' })).toBe(failuresBefore + 1);

    // erin locked by five wrong codes; sam's session unlocks her after a wrong password
    const { secret: erinSecret } = await enrolScripted('erin@acme.example');
    void erinSecret;
    for (let i = 0; i < 5; i++)
      await cli(['verify', '--as', 'erin@acme.example', '--password-stdin', '--code', '000000'], `${PASSWORDS['erin@acme.example']}\n`);
    expect((await stateOf('erin@acme.example')).consecutiveFailures).toBe(5);
    const sam = await sessionOf('sam@support.example');
    const unlock = pty(['--db', db, 'unlock', '--user', 'erin@acme.example', '--ticket', 'SUP-10'], sam);
    expect(await converse(unlock, wrongFirst(PASSWORDS['sam@support.example']!)), unlock.text).toBe(0);
    expect(unlock.text).toMatch(/error: wrong password[\s\S]*Unlock erin@acme\.example\?[\s\S]*unlocked erin@acme\.example/);
    expect((await stateOf('erin@acme.example')).consecutiveFailures).toBe(0);

    // disable with --as: the sign-in password is asked again the same way
    const disable = pty(['--db', db, 'disable', '--user', 'erin@acme.example', '--ticket', 'SUP-11', '--as', 'sam@support.example']);
    expect(await converse(disable, wrongFirst(PASSWORDS['sam@support.example']!)), disable.text).toBe(0);
    expect(disable.text).toMatch(/error: wrong email or password[\s\S]*Password for sam@support\.example[\s\S]*MFA disabled for erin@acme\.example/);
    expect((await stateOf('erin@acme.example')).mfa).toBe('none');
  });

  it('lost phone at replace: a wrong code says what stands in for the old device; a recovery code at either prompt does', async () => {
    const heidi = 'heidi@partners.example';
    const { recoveryCodes } = await enrolScripted(heidi);
    // logged in with a recovery code (the phone is gone); replace asks for the old device's code
    const session = makeCliEnv().env;
    expect((await cli(['login', '--as', heidi, '--password-stdin', '--recovery-code', recoveryCodes[0]!], `${PASSWORDS[heidi]}\n`, session)).code).toBe(0);
    const s = pty(['--db', db, 'replace', '--qr', 'none'], session);
    let oldDeviceTries = 0;
    let newSecret = '';
    const exit = await converse(s, (prompt, _who, shown) => {
      if (/password/.test(prompt)) return PASSWORDS[heidi]!;
      // first a code from an app that holds no such secret, then a recovery code, in capitals, with spaces
      if (prompt.startsWith('Code from your current device')) return oldDeviceTries++ === 0 ? '123456' : recoveryCodes[1]!.toUpperCase().replace(/-/g, ' ');
      newSecret = keyShown(shown);
      return totpAt(newSecret, currentStep());
    });
    expect(exit, s.text).toBe(0);
    expect(s.text).toMatch(
      /error: wrong code \(lost the phone\? type a recovery code here, or ask support for a temporary access code; then type that at portal-mfa --db \S+ login\)/,
    );
    expect(s.text).toMatch(/recovery code used; 8 left/);
    expect(s.text).toMatch(/new device active for heidi@partners\.example/);
    expect((await stateOf(heidi)).recoveryCodesLeft).toBe(8);
    // the new device is the one in force
    const withNew = await cli(['verify', '--as', heidi, '--password-stdin', '--code', freshCode(newSecret)], `${PASSWORDS[heidi]}\n`);
    expect(withNew.code, describeRun(withNew)).toBe(0);

    // --as: a recovery code at the sign-in prompt is the old device's proof too (no second prompt)
    const viaAs = pty(['--db', db, 'replace', '--as', heidi, '--qr', 'none']);
    await viaAs.waitFor(/\? Password for/, 'the password prompt');
    viaAs.type(`${PASSWORDS[heidi]}\r`);
    await viaAs.waitFor(/\? Your authentication code/, 'the code prompt');
    viaAs.type(`${recoveryCodes[2]}\r`);
    await viaAs.waitFor(/\? Code from the app:/, 'the new device prompt');
    expect(viaAs.text).not.toMatch(/Code from your current device/);
    expect(viaAs.text).toMatch(/recovery code used; 7 left/);
    viaAs.type('\u0003');
    expect(await viaAs.exited).toBe(130);
    expect(viaAs.text).toMatch(/finish with: portal-mfa --db \S+ --as heidi@partners\.example replace --confirm -/);

    // an access code typed where the old device's code goes: where it belongs instead (exit 2, nothing used)
    const mistaken = await cli(
      ['replace', '--code', 'ABCD-EFGH-IJKL-MNOP-QRST', '--no-confirm', '--json', '--password-stdin'],
      `${PASSWORDS[heidi]}\n`,
      session,
    );
    expect(mistaken.code, describeRun(mistaken)).toBe(2);
    expect(mistaken.stderr).toMatch(/a temporary access code is typed at login, not here.*portal-mfa --db \S+ login/);
  });

  it('Ctrl-C during a bulk org disable-mfa > out.txt: every committed result is in the file, the summary says how to finish, exit 130', async () => {
    const generated = await cli(['demo', '--members', String(MEMBERS)]);
    expect(generated.code, describeRun(generated)).toBe(0);
    const members = (await knex('users').where('email', 'like', 'member-%@acme.example').orderBy('email').select('id', 'email')) as {
      id: number;
      email: string;
    }[];
    expect(members).toHaveLength(MEMBERS);
    const now = Date.now();
    // active MFA for every member (any ciphertext: disabling never decrypts)
    for (let i = 0; i < members.length; i += 500) {
      await knex('mfa_credentials').insert(
        members.slice(i, i + 500).map((m) => ({
          user_id: String(m.id),
          status: 'active',
          secret_ciphertext: 'v1:x',
          key_id: '0000000000000000',
          created_at: now,
          confirmed_at: now,
          consecutive_failures: 0,
        })),
      );
    }
    const list = path.join(home, 'big.txt');
    writeFileSync(list, members.map((m) => m.email).join('\n') + '\n');
    const out = path.join(home, 'out.txt');
    const lines = () => readFileSync(out, 'utf8').split('\n').filter(Boolean);

    const s = pty(['--db', db, 'org', 'disable-mfa', '--org', 'acme', '--users-from', list, '--ticket', 'SUP-12', '--as', 'sam@support.example'], env, {
      ...TERM,
      stdoutFile: out,
    });
    await s.waitFor(/\? Password for/, 'the password prompt');
    s.type('sam-demo-pass\r');
    await s.waitFor(new RegExp(`\\? Disable MFA for ${MEMBERS} member\\(s\\) of acme\\? \\(y/N\\)`), 'the question');
    s.type('y\r');
    // the first results are in the file: Ctrl-C, as a person watching the bar would
    await vi.waitFor(() => expect(lines().length).toBeGreaterThan(0), { timeout: 20_000, interval: 5 });
    s.type('\u0003');
    expect(await s.exited, s.text).toBe(130);

    const results = lines();
    const done = results.length;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(MEMBERS);
    for (const r of results) expect(r).toMatch(/^member-\d{6}@acme\.example\tdisabled\t0\tMFA disabled$/);
    // the file holds exactly the users whose MFA went, each with its audit row and notice
    const disabled = await count('mfa_audit_events', { action: 'mfa.reset', ticket: 'SUP-12', outcome: 'success' });
    expect(disabled).toBe(done);
    const left = await knex('mfa_credentials')
      .whereIn(
        'user_id',
        members.map((m) => String(m.id)),
      )
      .count({ n: '*' })
      .first();
    expect(MEMBERS - Number(left!.n)).toBe(done);
    const screen = (await s.screen()).lines.join('\n');
    expect(screen).toContain(`stopped after ${done} of ${MEMBERS} user(s) of acme (${done} disabled); ${MEMBERS - done} not looked at`);
    expect(screen.replace(/\n/g, '')).toContain(`error: cancelled: ${done} of ${MEMBERS} disabled so far (run the same command again to finish`);

    // the same command again finishes: the users done report already-off
    const rerun = await cli(
      ['org', 'disable-mfa', '--org', 'acme', '--users-from', list, '--ticket', 'SUP-12', '--as', 'sam@support.example', '--password-stdin', '--yes'],
      'sam-demo-pass\n',
    );
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(`${MEMBERS} user(s) of acme: ${done} already-off, ${MEMBERS - done} disabled`);
    expect(await count('mfa_audit_events', { action: 'mfa.reset', ticket: 'SUP-12', outcome: 'success' })).toBe(MEMBERS);
  });
});
