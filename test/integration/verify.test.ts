/**
 * Black-box tests of enrolment, verification, lockout, clock diagnosis and login through the
 * built binary (bin/portal-mfa.js), against SQLite and a real MariaDB. Codes come from an
 * independent RFC 6238 implementation (test/support/independentTotp.ts), never from src/.
 *
 * Step bookkeeping: every account is confirmed with the code for step S-1 (accepted as drift -1),
 * so last_accepted_step = S-1 and the current step's code is still unused afterwards.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { expectOneLineError, makeCliEnv, runCli, runCliProcess, type CliResult } from '../support/cli.js';
import { testNow } from '../support/clock.js';
import { cheapDemoPasswords, DAVE, DEVON, member, SAM } from '../support/scenario.js';
import { describeEachDatabase, type TestDatabase } from '../support/databases.js';
import { currentStep, safeStep, totpAt } from '../support/independentTotp.js';

// CLI runs are processes (~0.3 s each, more on a busy machine) plus waits for a safe point in the 30 s step
vi.setConfig({ testTimeout: 60_000 });

function connect(db: TestDatabase): Knex {
  if (db.dialect === 'sqlite') {
    return knexFactory({ client: 'better-sqlite3', connection: { filename: db.url.slice('sqlite:'.length) }, useNullAsDefault: true });
  }
  return knexFactory({ client: 'mysql2', connection: db.url, pool: { min: 0, max: 2 } });
}

/** A 6-digit code that matches no step within ±25 of `step` (so not even --diagnose finds it). */
function wrongCode(secret: string, step: number): string {
  const taken = new Set<string>();
  for (let d = -25; d <= 25; d++) taken.add(totpAt(secret, step + d));
  for (let n = 0; ; n++) {
    const candidate = String((Number(totpAt(secret, step)) + 1 + n * 7919) % 1_000_000).padStart(6, '0');
    if (!taken.has(candidate)) return candidate;
  }
}

describeEachDatabase('verify, lockout and login through the CLI', (getDb) => {
  let knex: Knex;
  let env: NodeJS.ProcessEnv;
  let url: string;
  /** devon's secret, from the enrolment test (the login tests use it) */
  let devonSecret: string | undefined;

  const cli = (args: string[], stdin?: string): Promise<CliResult> => runCli(['--db', url, ...args], { env, stdin });
  const json = (r: CliResult) => {
    expect(r.code, `exit ${r.code}; stderr: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout);
  };

  /** `verify` of the actor's own code (password then code on stdin is covered by login below). */
  const verify = (user: { email: string; password: string }, code: string, ...extra: string[]) =>
    cli(['verify', '--as', user.email, '--password-stdin', '--code', code, ...extra], `${user.password}\n`);
  /**
   * Racing verifications. On SQLite they are processes, as on a shared host (and better-sqlite3
   * is synchronous: in-process runs waiting on one another's lock would block the one thread);
   * on MariaDB concurrent in-process runs, each with its own connection pool, race just the same.
   */
  const racers = (n: { sqlite: number; mysql: number }, user: { email: string; password: string }, code: string) =>
    Promise.all(
      Array.from({ length: getDb().dialect === 'sqlite' ? n.sqlite : n.mysql }, () =>
        getDb().dialect === 'sqlite'
          ? runCliProcess(['--db', url, 'verify', '--as', user.email, '--password-stdin', '--code', code], {
              env,
              stdin: `${user.password}\n`,
              timeoutMs: 60_000,
            })
          : runCli(['--db', url, 'verify', '--as', user.email, '--password-stdin', '--code', code], { env, stdin: `${user.password}\n`, timeoutMs: 60_000 }),
      ),
    );

  const statusOf = async (email: string) => json(await cli(['status', '--as', SAM.email, '--password-stdin', '--user', email, '--json'], `${SAM.password}\n`));

  const credential = async (email: string) => {
    const rows = await knex('mfa_credentials').join('users', 'users.id', 'mfa_credentials.user_id').where('users.email', email).select('mfa_credentials.*');
    return rows as Array<Record<string, unknown>>;
  };
  const activeCredential = async (email: string) => {
    const rows = (await credential(email)).filter((r) => r.status === 'active');
    expect(rows).toHaveLength(1);
    return rows[0]!;
  };
  /** Fails clearly if a time-sensitive sequence crossed a 30 s step boundary (drift assertions would be void). */
  const stillIn = (step: number) => expect(currentStep(), `crossed a 30 s step boundary mid-sequence (started in step ${step}); machine too slow?`).toBe(step);
  const auditRows = (email: string, action: string, outcome?: string) =>
    knex('mfa_audit_events')
      .where({ target_email: email, action, ...(outcome ? { outcome } : {}) })
      .select('*');

  async function startEnrolment(user: { email: string; password: string }): Promise<string> {
    const doc = json(await cli(['enroll', '--as', user.email, '--password-stdin', '--no-confirm', '--json'], `${user.password}\n`));
    expect(doc.status).toBe('pending');
    expect(doc.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(doc.otpauthUri).toContain(`secret=${doc.secret}`);
    return doc.secret as string;
  }

  /** Enrol and confirm with the code for step S-1: returns the secret and last_accepted_step. */
  async function enrolActive(user: { email: string; password: string }): Promise<{ secret: string; lastStep: number }> {
    const secret = await startEnrolment(user);
    const step = await safeStep(5_000);
    const r = await cli(['enroll', '--as', user.email, '--password-stdin', '--confirm', totpAt(secret, step - 1), '--json'], `${user.password}\n`);
    expect(json(r)).toMatchObject({ status: 'active', driftSteps: -1 });
    expect(Number((await activeCredential(user.email)).last_accepted_step)).toBe(step - 1);
    return { secret, lastStep: step - 1 };
  }

  beforeAll(async () => {
    const db = getDb();
    url = db.url;
    env = { ...makeCliEnv().env };
    if (db.dialect === 'mysql') env.PORTAL_MFA_KEY = randomBytes(32).toString('base64');
    knex = connect(db);
    expect((await cli(['db', 'migrate'])).code).toBe(0);
    const demo = await cli(['demo', '--members', '8']);
    expect(demo.code, demo.stderr).toBe(0);
    await cheapDemoPasswords(knex);
  });

  afterAll(async () => {
    await knex?.destroy();
  });

  it('enrols devon: pending until confirmed, wrong confirm code refused, secret encrypted at rest', async () => {
    const secret = await startEnrolment(DEVON);
    devonSecret = secret;
    expect((await statusOf(DEVON.email)).mfa).toBe('pending');

    // encrypted at rest: the pending row does not hold the base32 secret
    const [pendingRow] = await credential(DEVON.email);
    expect(String(pendingRow!.secret_ciphertext).startsWith('v1:')).toBe(true);
    expect(String(pendingRow!.secret_ciphertext).toUpperCase()).not.toContain(secret);

    // a wrong code does not activate (this run and the next must fall inside one step)
    const step = await safeStep(6_000);
    const wrong = await cli(['enroll', '--as', DEVON.email, '--password-stdin', '--confirm', wrongCode(secret, step)], `${DEVON.password}\n`);
    expectOneLineError(wrong, 1);
    expect((await statusOf(DEVON.email)).mfa).toBe('pending');

    // the right code (one step behind, within the window) activates
    const ok = json(await cli(['enroll', '--as', DEVON.email, '--password-stdin', '--confirm', totpAt(secret, step - 1), '--json'], `${DEVON.password}\n`));
    expect(ok).toMatchObject({ status: 'active', email: DEVON.email, driftSteps: -1 });

    const status = await statusOf(DEVON.email);
    expect(status.mfa).toBe('active');
    expect(typeof status.recoveryCodesLeft).toBe('number');
    expect(status.locked).toBe(false);
    expect(status.consecutiveFailures).toBe(0);
    const text = JSON.stringify(status);
    expect(text).not.toContain(secret);
    expect(Object.keys(status).filter((k) => /secret/i.test(k))).toEqual([]);

    const rows = await credential(DEVON.email);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe('active');
    expect(String(rows[0]!.secret_ciphertext).startsWith('v1:')).toBe(true);
    expect(String(rows[0]!.secret_ciphertext).toUpperCase()).not.toContain(secret);

    // wrong state: already active; nothing pending to confirm
    const again = await cli(['enroll', '--as', DEVON.email, '--password-stdin', '--no-confirm', '--json'], `${DEVON.password}\n`);
    expectOneLineError(again, 6);
    const nothingPending = await cli(['enroll', '--as', DEVON.email, '--password-stdin', '--confirm', '123456'], `${DEVON.password}\n`);
    expectOneLineError(nothingPending, 6, /pending/i);
    expect(await credential(DEVON.email)).toHaveLength(1);
  });

  it('verify: current code, replay, next step, older step, malformed codes', async () => {
    const user = member(1);
    const { secret, lastStep } = await enrolActive(user);
    // the four CLI runs below must fall inside one step
    const t = await safeStep(12_000);
    expect(t).toBeGreaterThan(lastStep);

    const first = await verify(user, totpAt(secret, t), '--json');
    stillIn(t);
    expect(json(first)).toMatchObject({ valid: true, email: user.email, driftSteps: 0 });

    const replay = await verify(user, totpAt(secret, t), '--json');
    expectOneLineError(replay, 1, /already been used|replay/i);

    const next = await verify(user, totpAt(secret, t + 1), '--json');
    stillIn(t);
    expect(json(next)).toMatchObject({ valid: true, driftSteps: 1 });

    // within the window, but older than the last accepted step
    const older = await verify(user, totpAt(secret, t - 1));
    stillIn(t);
    expectOneLineError(older, 1);

    const replays = await auditRows(user.email, 'mfa.verify', 'replay');
    expect(replays.length).toBeGreaterThanOrEqual(1);
    expect(Number((await activeCredential(user.email)).last_accepted_step)).toBe(t + 1);

    // malformed: usage error before any check, failures unchanged
    const before = Number((await activeCredential(user.email)).consecutive_failures);
    for (const bad of ['12345', 'abcdef', '１２３４５６', '1234567']) {
      const r = await verify(user, bad);
      expectOneLineError(r, 2);
    }
    // the same through stdin (`--code -`: line 1 password, line 2 code) — checked after the password
    const viaStdin = await cli(['verify', '--as', user.email, '--password-stdin', '--code', '-'], `${user.password}\n１２３４５６\n`);
    expectOneLineError(viaStdin, 2);
    const after = await activeCredential(user.email);
    expect(Number(after.consecutive_failures)).toBe(before);
    expect(Number(after.last_accepted_step)).toBe(t + 1);
    expect(await auditRows(user.email, 'mfa.verify', 'failure')).toHaveLength(0);
  });

  it('verify: a code two steps ahead is outside the ±1 window', async () => {
    const user = member(2);
    const { secret } = await enrolActive(user);
    const t = await safeStep(3_000);
    const r = await verify(user, totpAt(secret, t + 2));
    expectOneLineError(r, 1, /wrong code/i);
    const cred = await activeCredential(user.email);
    expect(Number(cred.consecutive_failures)).toBe(1);
    expect(Number(cred.last_accepted_step)).toBeLessThan(t);
  });

  it('lockout: the 5th wrong code locks; then even a correct code exits 4; audited; visible to support', async () => {
    const user = member(3);
    const { secret } = await enrolActive(user);
    const t = await safeStep(3_000);
    for (let i = 1; i <= 5; i++) {
      const r = await verify(user, wrongCode(secret, t));
      expectOneLineError(r, 1, /wrong code/i);
    }
    const t2 = await safeStep(3_000);
    const locked = await verify(user, totpAt(secret, t2));
    expectOneLineError(locked, 4, /locked/i);

    const lockouts = await auditRows(user.email, 'mfa.lockout');
    expect(lockouts).toHaveLength(1);
    expect(lockouts[0]!.outcome).toBe('locked');
    expect(await auditRows(user.email, 'mfa.verify', 'failure')).toHaveLength(5);

    const status = await statusOf(user.email);
    expect(status.locked).toBe(true);
    expect(Date.parse(status.lockedUntil)).toBeGreaterThan(testNow() + 10 * 60_000);
    // the refused correct code was not accepted
    expect(Number((await activeCredential(user.email)).last_accepted_step)).toBeLessThan(t2);
  });

  it('verify --diagnose measures a clock 3 minutes behind, and a diagnosed code is burnt (rule 12)', async () => {
    const user = member(4);
    const { secret, lastStep } = await enrolActive(user);
    // the three CLI runs below must fall inside one step
    const t = await safeStep(10_000);

    const behind = await cli(['verify', '--diagnose', '--as', user.email, '--password-stdin', '--code', totpAt(secret, t - 6), '--json'], `${user.password}\n`);
    stillIn(t);
    expect(json(behind)).toMatchObject({ diagnose: true, matched: true, driftSteps: -6, withinWindow: false });
    // a step older than the last accepted one moves nothing
    expect(Number((await activeCredential(user.email)).last_accepted_step)).toBe(Math.max(lastStep, t - 6));

    // diagnosing the current code burns it and every earlier step: it can never be accepted later
    const now = await cli(['verify', '--diagnose', '--as', user.email, '--password-stdin', '--code', totpAt(secret, t), '--json'], `${user.password}\n`);
    stillIn(t);
    expect(json(now)).toMatchObject({ matched: true, driftSteps: 0, withinWindow: true });
    let cred = await activeCredential(user.email);
    expect(Number(cred.last_accepted_step)).toBe(t);
    expect(Number(cred.consecutive_failures)).toBe(0);

    const replay = await verify(user, totpAt(secret, t), '--json');
    stillIn(t);
    expectOneLineError(replay, 1);
    expect(JSON.parse(replay.stderr).error.code).toBe('replayed_code');
    cred = await activeCredential(user.email);
    expect(Number(cred.last_accepted_step)).toBe(t);
  });

  it('concurrency: parallel verifications of one valid code (8 processes on SQLite, 12 runs on MariaDB) give exactly one success', async () => {
    const user = member(5);
    const { secret } = await enrolActive(user);
    // the code stays within the window for the rest of this step and the next (≥ 33 s)
    const t = await safeStep(3_000);
    const code = totpAt(secret, t);
    const results = await racers({ sqlite: 8, mysql: 12 }, user, code);
    const codes = results.map((r) => r.code).sort((a, b) => a - b);
    expect(
      codes,
      results
        .filter((r) => r.code !== 0 && r.code !== 1)
        .map((r) => r.stderr)
        .join('\n'),
    ).toEqual([0, ...Array<number>(results.length - 1).fill(1)]);
    for (const r of results.filter((x) => x.code !== 0)) expectOneLineError(r, 1, /already been used|replay/i);
    expect(await auditRows(user.email, 'mfa.verify', 'success')).toHaveLength(1);
    expect(await auditRows(user.email, 'mfa.verify', 'replay')).toHaveLength(results.length - 1);
    expect(Number((await activeCredential(user.email)).last_accepted_step)).toBe(t);
  });

  it('concurrency: parallel wrong codes (8 processes on SQLite, 12 runs on MariaDB) lock the user, with exactly one lockout audited', async () => {
    const user = member(6);
    const { secret } = await enrolActive(user);
    const t = await safeStep(3_000);
    const bad = wrongCode(secret, t);
    const results = await racers({ sqlite: 8, mysql: 12 }, user, bad);
    for (const r of results) {
      expect([1, 4], `exit ${r.code}: ${r.stderr}`).toContain(r.code);
      expectOneLineError(r, r.code, r.code === 1 ? /wrong code/ : /locked/);
    }
    // Rule 11: five failures, then locked. A guess that raced past the lock check must be refused
    // as locked, not answered (else a parallel burst gets more than 5 answers, and a right guess
    // would stand out as the only 'locked' among 'wrong code's).
    const answered = results.filter((r) => r.code === 1);
    expect(
      answered.map((r) => r.stderr.trim()),
      'exactly 5 of the parallel guesses may be answered',
    ).toHaveLength(5);
    expect(await auditRows(user.email, 'mfa.verify', 'failure')).toHaveLength(5);

    const t2 = await safeStep(3_000);
    const locked = await verify(user, totpAt(secret, t2));
    expectOneLineError(locked, 4, /locked/i);

    const lockouts = await auditRows(user.email, 'mfa.lockout');
    expect(lockouts, 'one burst of failures must produce exactly one lockout event').toHaveLength(1);
    const cred = await activeCredential(user.email);
    expect(Number(cred.locked_until)).toBeGreaterThan(testNow() + 10 * 60_000);
    expect(Number(cred.last_accepted_step)).toBeLessThan(t2);
  });

  it('login with password and code on stdin, session file 0600, status via session, logout', async () => {
    const t = await safeStep(3_000);
    // devon was confirmed with step S-1 < t in the first test and has not verified since
    const secret = devonSecret;
    if (!secret) throw new Error('the enrolment test must run first');
    const login = await cli(['login', '--as', DEVON.email, '--password-stdin', '--code', '-'], `${DEVON.password}\n${totpAt(secret, t)}\n`);
    expect(login.code, login.stderr).toBe(0);

    const sessionsFile = path.join(String(env.XDG_CONFIG_HOME), 'portal-mfa', 'sessions.json');
    const st = statSync(sessionsFile);
    expect(st.mode & 0o777).toBe(0o600);
    const content = readFileSync(sessionsFile, 'utf8');
    expect(content).toContain(DEVON.email);
    expect(content).not.toContain(DEVON.password);

    const status = json(await cli(['status', '--json']));
    expect(status).toMatchObject({ email: DEVON.email, mfa: 'active' });

    const logout = await cli(['logout']);
    expect(logout.code, logout.stderr).toBe(0);
    const after = await cli(['status', '--json']);
    expectOneLineError(after, 2);
    expect(after.stdout).toBe('');
  });

  it('login: a wrong password reads the same as an unknown email', async () => {
    const wrongPw = await cli(['login', '--as', DEVON.email, '--password-stdin', '--code', '123456'], 'not-the-password\n');
    expectOneLineError(wrongPw, 1);
    const unknown = await cli(['login', '--as', 'nobody-here@example.com', '--password-stdin', '--code', '123456'], 'not-the-password\n');
    expectOneLineError(unknown, 1);
    expect(unknown.stderr).toBe(wrongPw.stderr);
    expect(wrongPw.stderr).not.toMatch(/devon|nobody/i);
  });

  it('login: a member of an organisation that requires MFA, not enrolled, without a TTY → exit 6 naming it', async () => {
    const r = await cli(['login', '--as', DAVE.email, '--password-stdin'], `${DAVE.password}\n`);
    expectOneLineError(r, 6, /acme/);
    // no session was started
    const st = await cli(['status', '--json']);
    expectOneLineError(st, 2);
  });
});
