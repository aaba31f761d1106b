/**
 * The support toolkit through the built binary (issue 12): the access-code recovery story end to
 * end — support issues a code on a ticket, the user logs in with it, enrols a new phone, the old
 * secret is gone, the audit shows every step — plus unlock, users list --csv (formula-safe),
 * audit --csv, keys check and JSON errors. SQLite; the rules themselves run on both databases in
 * test/integration.
 */
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, expectOneLineError, makeCliEnv, runCli, type CliResult } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { currentStep, totpAt } from '../support/independentTotp.js';
import { ALICE, BOB, cheapDemoPasswords, DEVON, ERIN, SAM } from '../support/scenario.js';

describe('support toolkit through the CLI', () => {
  let db: TestDatabase;
  let knex: Knex;
  const key = randomBytes(32).toString('base64');
  const env = makeCliEnv({ PORTAL_MFA_KEY: key }).env;
  const devonMachine = makeCliEnv({ PORTAL_MFA_KEY: key }).env;
  const cli = (args: string[], stdin?: string, e = env) => runCli(['--db', db.url, ...args], { env: e, stdin, timeoutMs: 60_000 });
  const ok = (r: CliResult) => {
    expect(r.code, describeRun(r)).toBe(0);
    return r.stdout.trim() ? JSON.parse(r.stdout) : null;
  };

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    expect((await cli(['db', 'migrate'])).code).toBe(0);
    expect((await cli(['demo'])).code).toBe(0);
    knex = knexFactory({ client: 'better-sqlite3', connection: { filename: db.url.slice('sqlite:'.length) }, useNullAsDefault: true });
    // most runs check a password: the demo's at bcrypt's lowest cost (nothing here depends on it)
    await cheapDemoPasswords(knex);
  }, 120_000);
  afterAll(async () => {
    await knex?.destroy();
    await db?.drop();
  });

  it('the recovery story: access code on a ticket → login with it → enrol a new phone → old secret gone → audited', { timeout: 180_000 }, async () => {
    // devon enrols a phone, then "loses" it
    const pending = ok(await cli(['enroll', '--as', DEVON.email, '--password-stdin', '--no-confirm', '--json'], `${DEVON.password}\n`));
    const oldSecret: string = pending.secret;
    ok(await cli(['enroll', '--as', DEVON.email, '--password-stdin', '--confirm', '-', '--json'], `${DEVON.password}\n${totpAt(oldSecret, currentStep())}\n`));
    const oldCipher = (
      await knex('mfa_credentials')
        .where({ status: 'active' })
        .join('users', 'users.id', 'mfa_credentials.user_id')
        .where('users.email', DEVON.email)
        .first('secret_ciphertext')
    ).secret_ciphertext;

    // support without a ticket is refused (audited); with one, the code is shown once
    expectOneLineError(
      await cli(['access-code', 'issue', '--user', DEVON.email, '--as', SAM.email, '--password-stdin', '--yes'], `${SAM.password}\n`),
      2,
      /ticket/,
    );
    const issued = ok(
      await cli(
        ['access-code', 'issue', '--user', DEVON.email, '--ticket', 'SUP-42', '--as', SAM.email, '--password-stdin', '--yes', '--json'],
        `${SAM.password}\n`,
      ),
    );
    expect(issued.accessCode).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){4}$/);
    expect(JSON.stringify(await knex('mfa_access_codes').select('*'))).not.toContain(issued.accessCode.replace(/-/g, ''));

    // devon logs in with it (read from stdin, never argv) and must set up a device first
    const login = ok(
      await cli(['login', '--as', DEVON.email, '--password-stdin', '--code', '-', '--json'], `${DEVON.password}\n${issued.accessCode}\n`, devonMachine),
    );
    expect(login).toMatchObject({ email: DEVON.email, secondFactor: 'access-code', restricted: true });
    expectOneLineError(await cli(['org', 'list'], undefined, devonMachine), 6, /replace/);
    // replace without the lost phone, then confirm with the new one
    const next = ok(await cli(['replace', '--no-confirm', '--json', '--password-stdin'], `${DEVON.password}\n`, devonMachine));
    ok(await cli(['replace', '--confirm', '-', '--json', '--password-stdin'], `${DEVON.password}\n${totpAt(next.secret, currentStep())}\n`, devonMachine));
    const newCipher = (
      await knex('mfa_credentials')
        .where({ status: 'active' })
        .join('users', 'users.id', 'mfa_credentials.user_id')
        .where('users.email', DEVON.email)
        .first('secret_ciphertext')
    ).secret_ciphertext;
    expect(newCipher).not.toBe(oldCipher);
    expect(
      await knex('mfa_credentials').join('users', 'users.id', 'mfa_credentials.user_id').where('users.email', DEVON.email).count({ n: '*' }).first(),
    ).toEqual({ n: 1 });
    // the session works normally now
    ok(await cli(['status', '--json'], undefined, devonMachine));

    const trail = ok(
      await cli(['audit', '--user', DEVON.email, '--as', SAM.email, '--password-stdin', '--json', '--limit', '50'], `${SAM.password}\n`).then((r) => ({
        ...r,
        stdout: `[${r.stdout.trim().split('\n').join(',')}]`,
      })),
    );
    const steps = (trail as { action: string; outcome: string; ticket: string | null }[]).map((e) => `${e.action}:${e.outcome}`);
    expect(steps).toEqual(
      expect.arrayContaining([
        'access-code.issue:refused',
        'access-code.issue:success',
        'session.login:success',
        'mfa.replace.start:success',
        'mfa.replace.confirm:success',
      ]),
    );
  });

  it('unlock by an org admin; users list and audit as formula-safe CSV; keys check; JSON errors', { timeout: 180_000 }, async () => {
    // erin (acme) is locked by five wrong codes after enrolling
    const p = ok(await cli(['enroll', '--as', ERIN.email, '--password-stdin', '--no-confirm', '--json'], `${ERIN.password}\n`));
    ok(await cli(['enroll', '--as', ERIN.email, '--password-stdin', '--confirm', totpAt(p.secret, currentStep()), '--json'], `${ERIN.password}\n`));
    const wrong = totpAt(p.secret, currentStep()) === '123456' ? '654321' : '123456';
    for (let i = 0; i < 5; i++) await cli(['verify', '--as', ERIN.email, '--password-stdin', '--code', wrong], `${ERIN.password}\n`);
    expectOneLineError(await cli(['verify', '--as', ERIN.email, '--password-stdin', '--code', wrong], `${ERIN.password}\n`), 4);
    // alice must enrol first (acme requires MFA) before she can unlock anyone
    const ap = ok(await cli(['enroll', '--as', ALICE.email, '--password-stdin', '--no-confirm', '--json'], `${ALICE.password}\n`));
    const confirmStep = currentStep();
    ok(await cli(['enroll', '--as', ALICE.email, '--password-stdin', '--confirm', totpAt(ap.secret, confirmStep), '--json'], `${ALICE.password}\n`));
    const dry = ok(
      await cli(
        ['unlock', '--user', 'erin@acme.example', '--dry-run', '--json', '--as', ALICE.email, '--password-stdin', '--code', totpAt(ap.secret, confirmStep + 1)],
        `${ALICE.password}\n`,
      ),
    );
    expect(dry).toMatchObject({ dryRun: true, unlocked: false, consecutiveFailures: 5 });

    // a hostile name reaches the CSV neutralised
    await knex('users').where({ email: 'frank@globex.example' }).update({ name: '=HYPERLINK("http://x","y")' });
    const csv = await cli(['users', 'list', '--csv', '--as', SAM.email, '--password-stdin'], `${SAM.password}\n`);
    expect(csv.code, describeRun(csv)).toBe(0);
    expect(csv.stdout.split('\r\n')[0]).toBe('email,name,role,mfa,enrolledAt,lastUsedAt,locked,organisations,active');
    expect(csv.stdout).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csv.stdout).toContain('devon@example.com');
    const auditCsv = await cli(['audit', '--csv', '--as', SAM.email, '--password-stdin', '--limit', '5'], `${SAM.password}\n`);
    expect(auditCsv.code, describeRun(auditCsv)).toBe(0);
    expect(auditCsv.stdout.startsWith('id,time,actor,target,organisation,action,outcome,ticket,reason,host,osUser,detail\r\n')).toBe(true);

    const check = ok(await cli(['keys', 'check', '--json']));
    expect(check).toMatchObject({ failed: 0 });
    expect(check.total).toBeGreaterThanOrEqual(2);
    const other = randomBytes(32).toString('base64');
    const bad = await runCli(['--db', db.url, 'keys', 'check', '--json'], { env: { ...env, PORTAL_MFA_KEY: other } });
    expect(bad.code).toBe(10);
    expect(JSON.parse(bad.stdout).failed).toBe(check.total);
    expect(JSON.parse(bad.stderr).error).toMatchObject({ exitCode: 10 });

    // users list is support only (exit 5), and with --json the error is JSON
    const refused = await cli(['users', 'list', '--json', '--as', BOB.email, '--password-stdin'], `${BOB.password}\n`);
    expectOneLineError(refused, 5);
    expect(JSON.parse(refused.stderr).error).toMatchObject({ code: 'forbidden', exitCode: 5 });
  });
});
