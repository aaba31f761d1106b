/**
 * Issue 20, findings 2 and 6, as the attacker ran them through the CLI: security limits taken from
 * the caller's environment, and notices redirected to the caller's SMTP sink. The portal's policy is
 * stored in the database (support changes it with `policy set`); a client may only tighten it, and
 * notices go only to the policy's relay. SQLite; the policy's rules run on both databases in
 * test/integration/attach.test.ts.
 */
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, expectOneLineError, makeCliEnv, runCli, type CliResult } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { currentStep, totpAt } from '../support/independentTotp.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtpServer.js';
import { cheapDemoPasswords, DEVON, ERIN, FRANK, SAM } from '../support/scenario.js';

describe('the portal policy through the CLI (issue 20: findings 2 and 6)', () => {
  let db: TestDatabase;
  let knex: Knex;
  let relay: TestSmtpServer;
  let sink: TestSmtpServer;
  const key = randomBytes(32).toString('base64');
  const env = makeCliEnv({ PORTAL_MFA_KEY: key }).env;
  const cli = (args: string[], stdin?: string, extra: NodeJS.ProcessEnv = {}) =>
    runCli(['--db', db.url, ...args], { env: { ...env, ...extra }, stdin, timeoutMs: 60_000 });
  const ok = (r: CliResult) => {
    expect(r.code, describeRun(r)).toBe(0);
    return r.stdout.trim() ? JSON.parse(r.stdout) : null;
  };
  const enrol = async (who: { email: string; password: string }) => {
    const pending = ok(await cli(['enroll', '--as', who.email, '--password-stdin', '--no-confirm', '--json'], `${who.password}\n`));
    ok(await cli(['enroll', '--as', who.email, '--password-stdin', '--confirm', '-', '--json'], `${who.password}\n${totpAt(pending.secret, currentStep())}\n`));
    return pending.secret as string;
  };

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    expect((await cli(['db', 'migrate'])).code).toBe(0);
    expect((await cli(['demo'])).code).toBe(0);
    knex = knexFactory({ client: 'better-sqlite3', connection: { filename: db.url.slice('sqlite:'.length) }, useNullAsDefault: true });
    // most runs check a password: the demo's at bcrypt's lowest cost (nothing here depends on it)
    await cheapDemoPasswords(knex);
    relay = await startSmtpServer();
    sink = await startSmtpServer();
  }, 120_000);
  afterAll(async () => {
    await relay?.close();
    await sink?.close();
    await knex?.destroy();
    await db?.drop();
  });

  it('finding 2: a lockout variable is refused (exit 10, naming it), and the stored limit locks after 5 wrong codes', { timeout: 120_000 }, async () => {
    await enrol(ERIN);
    for (const [variable, value] of [
      ['PORTAL_MFA_MAX_FAILURES', '100'],
      ['PORTAL_MFA_MAX_FAILURES', '3'],
      ['PORTAL_MFA_HARD_LOCK_FAILURES', '10'],
      ['PORTAL_MFA_LOCK_MINUTES', '1440'],
    ]) {
      expectOneLineError(
        await cli(['verify', '--as', ERIN.email, '--password-stdin', '--code', '000000'], `${ERIN.password}\n`, { [variable!]: value! }),
        10,
        new RegExp(variable!),
      );
    }
    const loose = { PORTAL_MFA_WINDOW: '2' };
    for (let i = 0; i < 5; i++) {
      const r = await cli(['verify', '--as', ERIN.email, '--password-stdin', '--code', '000000'], `${ERIN.password}\n`, loose);
      expect(r.code, describeRun(r)).toBe(1);
    }
    expectOneLineError(await cli(['verify', '--as', ERIN.email, '--password-stdin', '--code', '000000'], `${ERIN.password}\n`, loose), 4, /locked/);
    const cred = await knex('mfa_credentials')
      .join('users', knex.raw('CAST(users.id AS TEXT)'), 'mfa_credentials.user_id')
      .where('users.email', ERIN.email)
      .first();
    expect(cred.consecutive_failures).toBe(5);
    expect(cred.locked_until).toBeGreaterThan(Date.now() - 60_000);
  });

  it('finding 2: PORTAL_MFA_TRUST_DAYS=365 cannot lengthen a device token past the stored 30 days', { timeout: 120_000 }, async () => {
    const secret = await enrol(DEVON);
    const step = currentStep() + 1;
    const trusted = ok(
      await cli(
        ['verify', '--as', DEVON.email, '--password-stdin', '--code', '-', '--trust-device', '--json'],
        `${DEVON.password}\n${totpAt(secret, step)}\n`,
        {
          PORTAL_MFA_TRUST_DAYS: '365',
        },
      ),
    );
    expect(trusted.valid).toBe(true);
    const device = await knex('mfa_trusted_devices').orderBy('id', 'desc').first();
    expect(device.expires_at - device.created_at).toBe(30 * 86_400_000);
  });

  it('policy set is support only, needs a ticket and the password, and is audited; the stored limits are what every client runs with', async () => {
    expectOneLineError(
      await cli(['policy', 'set', '--max-failures', '50', '--ticket', 'X-1', '--as', FRANK.email, '--password-stdin', '--yes'], `${FRANK.password}\n`),
      5,
    );
    expectOneLineError(await cli(['policy', 'set', '--max-failures', '4', '--as', SAM.email, '--password-stdin', '--yes'], `${SAM.password}\n`), 2, /ticket/);
    expectOneLineError(
      await cli(['policy', 'set', '--max-failures', '500', '--ticket', 'SUP-1', '--as', SAM.email, '--password-stdin', '--yes'], `${SAM.password}\n`),
      2,
      /max-failures/,
    );
    const set = ok(
      await cli(['policy', 'set', '--max-failures', '4', '--ticket', 'SUP-1', '--as', SAM.email, '--password-stdin', '--yes', '--json'], `${SAM.password}\n`),
    );
    expect(set.policy.limits.maxFailures).toBe(4);
    const shown = ok(await cli(['policy', 'show', '--as', SAM.email, '--password-stdin', '--json'], `${SAM.password}\n`));
    expect(shown.limits.maxFailures).toBe(4);
    const audit = await knex('mfa_audit_events').where({ action: 'policy.set' }).orderBy('id');
    expect(audit.map((a) => a.outcome)).toEqual(['refused', 'success']);
    expect(audit[1].ticket).toBe('SUP-1');
  });

  it('finding 6: a caller cannot send notices to their own SMTP sink; they go to the relay the policy names', { timeout: 120_000 }, async () => {
    const attacker = { PORTAL_MFA_SMTP_URL: `smtp://127.0.0.1:${sink.port}`, PORTAL_MFA_MAIL_FROM: 'x@evil.example' };
    // no relay in the policy: the caller's SMTP is ignored, the notices stay pending
    const drained = await cli(['notify', 'send'], undefined, attacker);
    expect(drained.code, describeRun(drained)).toBe(10);
    expect(drained.stderr).toMatch(/ignored/);
    expect(sink.messages).toHaveLength(0);
    const pending = Number((await knex('mfa_notifications').where({ status: 'pending' }).count({ n: '*' }).first())?.n);
    expect(pending).toBeGreaterThan(0);
    // support names the portal's relay; a caller's different relay is still ignored
    ok(
      await cli(
        [
          'policy',
          'set',
          '--smtp-relay',
          `smtp://127.0.0.1:${relay.port}?starttls=never`,
          '--mail-from',
          'Portal <no-reply@portal.example>',
          '--ticket',
          'SUP-2',
          '--as',
          SAM.email,
          '--password-stdin',
          '--yes',
          '--json',
        ],
        `${SAM.password}\n`,
      ),
    );
    const sent = await cli(['notify', 'send'], undefined, attacker);
    expect(sent.code, describeRun(sent)).toBe(0);
    expect(sink.messages).toHaveLength(0);
    expect(relay.messages.length).toBe(pending);
    expect(relay.messages.every((m) => m.from.includes('no-reply@portal.example'))).toBe(true);
  });
});
