/**
 * SPEC §7 / §4 / §8: SMTP configuration through the built binary. A malformed PORTAL_MFA_SMTP_URL or
 * PORTAL_MFA_MAIL_FROM is exit 10 naming the variable, with the password masked, before anything is
 * touched. Notices go only to the relay and sender of the portal's delivery policy; the operator's
 * PORTAL_MFA_SMTP_URL lends its credentials when it names that same relay (never to another one),
 * they authenticate to the server and never appear in any output.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueNotification } from '../../src/core/notify/outbox.js';
import { createDemoTables } from '../../src/db/demoSeeder.js';
import { DEMO_MAPPING } from '../../src/db/identity/presets.js';
import { DEFAULT_TABLE_PREFIX, makeDb } from '../../src/db/store.js';
import { describeRun, expectOneLineError, makeCliEnv, runCli } from '../support/cli.js';
import { setDeliveryPolicy } from '../support/deliveryPolicy.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtpServer.js';

const PASSWORD = 'pa$$-w0rd/s3cr3t';
const ENCODED = encodeURIComponent(PASSWORD);

describe('SMTP configuration (built binary)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-notify-e2e-'));
  const url = `sqlite:${path.join(dir, 'portal.db')}`;
  const base = makeCliEnv().env;
  let smtp: TestSmtpServer;

  beforeAll(async () => {
    smtp = await startSmtpServer({ auth: { user: 'mailer', pass: PASSWORD } });
  });
  afterAll(async () => {
    await smtp?.close();
  });

  const expectNoPassword = (text: string) => {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(ENCODED);
    expect(text).not.toContain('s3cr3t');
  };

  it.each([
    [
      'a port out of range',
      `smtp://mailer:${ENCODED}@mail.example:99999`,
      /PORTAL_MFA_SMTP_URL is not a valid URL: "smtp:\/\/mailer:\*\*\*@mail\.example:99999"/,
    ],
    [
      'another scheme',
      `http://mailer:${ENCODED}@mail.example`,
      /PORTAL_MFA_SMTP_URL must be an smtp:\/\/ or smtps:\/\/ URL: "http:\/\/mailer:\*\*\*@mail\.example"/,
    ],
    ['no scheme', `mailer:${ENCODED}@mail.example`, /PORTAL_MFA_SMTP_URL must be an smtp:\/\/ or smtps:\/\/ URL: "mailer:\*\*\*@mail\.example"/],
    ['no host', `smtp://mailer:${ENCODED}@`, /PORTAL_MFA_SMTP_URL (names no host|is not a valid URL)/],
    ['a path', `smtps://mailer:${ENCODED}@mail.example/inbox`, /PORTAL_MFA_SMTP_URL has a path/],
    ['an unknown parameter', `smtp://mailer:${ENCODED}@mail.example?pool=9`, /PORTAL_MFA_SMTP_URL has an unknown parameter "pool"/],
    ['bad percent-encoding', 'smtp://mailer:s3cr3t%zz@mail.example', /PORTAL_MFA_SMTP_URL (has invalid percent-encoding|is not a valid URL)/],
    ['a bad timeout', `smtp://mailer:${ENCODED}@mail.example?timeout=forever`, /PORTAL_MFA_SMTP_URL: timeout must be/],
    ['spaces', `smtp://mailer:${ENCODED}@mail example`, /PORTAL_MFA_SMTP_URL contains spaces/],
  ])('a URL with %s is exit 10 naming PORTAL_MFA_SMTP_URL, password masked, nothing created', async (_what, value, pattern) => {
    const r = await runCli(['--db', url, 'db', 'migrate'], { env: { ...base, PORTAL_MFA_SMTP_URL: value, PORTAL_MFA_MAIL_FROM: 'no-reply@portal.example' } });
    expectOneLineError(r, 10, pattern);
    expectNoPassword(r.stderr + r.stdout);
    expect(existsSync(path.join(dir, 'portal.db'))).toBe(false);
  });

  it.each([['not an address'], ['Portal <no-reply@>'], ['no-reply@portal'], ['"Portal" <a@b.example> extra'], ['a@b.example, c@d.example']])(
    'PORTAL_MFA_MAIL_FROM %j is exit 10 naming the variable',
    async (from) => {
      const r = await runCli(['--db', url, 'db', 'status'], {
        env: { ...base, PORTAL_MFA_SMTP_URL: `smtp://mailer:${ENCODED}@mail.example`, PORTAL_MFA_MAIL_FROM: from },
      });
      expectOneLineError(r, 10, /^error: PORTAL_MFA_MAIL_FROM is not a valid from-address/);
      expectNoPassword(r.stderr);
    },
  );

  it("an SMTP URL without PORTAL_MFA_MAIL_FROM is exit 10 naming it; notify send without a relay in the portal's policy is exit 10, the operator's URL ignored", async () => {
    expectOneLineError(
      await runCli(['--db', url, 'db', 'status'], { env: { ...base, PORTAL_MFA_SMTP_URL: 'smtp://mail.example' } }),
      10,
      /PORTAL_MFA_MAIL_FROM is not set, but PORTAL_MFA_SMTP_URL is/,
    );
    const migrated = await runCli(['--db', url, 'db', 'migrate'], { env: base });
    expect(migrated.code, describeRun(migrated)).toBe(0);
    const noRelay =
      /^error: the portal's delivery policy names no SMTP relay: there is no server to send notices to \(support sets one with: portal-mfa policy set --smtp-relay/;
    expectOneLineError(await runCli(['--db', url, 'notify', 'send'], { env: base }), 10, noRelay);
    // the operator's own SMTP does not stand in for the portal's relay: said once (password masked), then the same error
    const own = await runCli(['--db', url, 'notify', 'send'], {
      env: { ...base, PORTAL_MFA_SMTP_URL: smtp.url, PORTAL_MFA_MAIL_FROM: 'no-reply@portal.example' },
    });
    expect(own.code, describeRun(own)).toBe(10);
    const lines = own.stderr.trim().split('\n');
    expect(lines, describeRun(own)).toHaveLength(2);
    expect(lines[0]).toBe(
      `warning: smtp://mailer:***@127.0.0.1:${smtp.port} ignored: the portal's delivery policy names no relay (support sets one with portal-mfa policy set --smtp-relay)`,
    );
    expect(lines[1]).toMatch(noRelay);
    expectNoPassword(own.stderr + own.stdout);
    expect(smtp.connections).toBe(0);
  });

  it("credentials in the operator's URL for the policy's relay log in to it; a wrong password is exit 10 with the password masked, the notice kept; they are never lent to another relay", async () => {
    const migrated = await runCli(['--db', url, 'db', 'migrate'], { env: base });
    expect(migrated.code, describeRun(migrated)).toBe(0);
    const knex = knexFactory({ client: 'better-sqlite3', connection: { filename: url.slice('sqlite:'.length) }, useNullAsDefault: true });
    try {
      // a portal user (the portal's tables: db migrate creates only portal-mfa's)
      await createDemoTables(knex);
      const [id] = await knex('users').insert({ email: 'devon@example.com', name: 'Devon', password_hash: 'x', role: 'developer', created_at: Date.now() });
      await queueNotification(
        makeDb(knex, DEFAULT_TABLE_PREFIX, DEMO_MAPPING),
        { clock: () => Date.now(), settings: { issuer: 'Portal' }, origin: { host: 'h', osUser: 'u' } },
        { id: String(id), email: 'devon@example.com' },
        { kind: 'mfa-enabled' },
      );
      // support's relay, without credentials; the sender is the policy's, not the operator's
      const port = smtp.port;
      await setDeliveryPolicy(knex, { relay: `smtp://127.0.0.1:${port}`, from: 'Portal <no-reply@portal.example>' });
      const operatorFrom = 'ops@operator.example';

      const wrong = await runCli(['--db', url, 'notify', 'send'], {
        env: { ...base, PORTAL_MFA_SMTP_URL: `smtp://mailer:not-${ENCODED}@127.0.0.1:${port}?timeout=2`, PORTAL_MFA_MAIL_FROM: operatorFrom },
      });
      expectOneLineError(wrong, 10, /could not be reached \(smtp:\/\/mailer:\*\*\*@127\.0\.0\.1:\d+: .*(535|EAUTH)/);
      expectNoPassword(wrong.stderr + wrong.stdout);
      expect(smtp.messages).toHaveLength(0);
      expect(await knex('mfa_notifications').first('status', 'attempts')).toEqual({ status: 'pending', attempts: 1 });

      // the right credentials, but for another relay: ignored (masked), not lent to the policy's relay, which refuses mail without them
      await knex('mfa_notifications').update({ next_attempt_at: Date.now() });
      const elsewhere = await runCli(['--db', url, 'notify', 'send'], {
        env: { ...base, PORTAL_MFA_SMTP_URL: `smtp://mailer:${ENCODED}@127.0.0.1:${port + 1}?timeout=2`, PORTAL_MFA_MAIL_FROM: operatorFrom },
      });
      // (the server is up, so the refusal counts as this notice's attempt, retried later)
      expect(elsewhere.code, describeRun(elsewhere)).toBe(0);
      expect(elsewhere.stderr.trim().split('\n')).toEqual([
        `warning: smtp://mailer:***@127.0.0.1:${port + 1} ignored: notices go to the portal's relay smtp://127.0.0.1:${port}`,
        expect.stringMatching(new RegExp(`^warning: notice \\d+ to devon@example\\.com: smtp://127\\.0\\.0\\.1:${port}: .*530.*authentication Required`)),
      ]);
      expect(elsewhere.stdout).toMatch(new RegExp(`sent 0 notice\\(s\\) through smtp://127\\.0\\.0\\.1:${port};`));
      expectNoPassword(elsewhere.stderr + elsewhere.stdout);
      expect(smtp.messages).toHaveLength(0);
      const refused = await knex('mfa_notifications').first('status', 'attempts', 'last_error');
      expect(refused).toMatchObject({ status: 'pending', attempts: 2 });
      expect(refused.last_error).toMatch(/530/);

      // the retry is due after the backoff: move it to now, as time passing would
      await knex('mfa_notifications').update({ next_attempt_at: Date.now() });
      const right = await runCli(['--db', url, 'notify', 'send'], {
        env: { ...base, PORTAL_MFA_SMTP_URL: smtp.url, PORTAL_MFA_MAIL_FROM: operatorFrom },
      });
      expect(right.code, describeRun(right)).toBe(0);
      expect(right.stdout).toMatch(/sent 1 notice\(s\) through smtp:\/\/mailer:\*\*\*@127\.0\.0\.1:\d+/);
      expect(right.stderr).toBe('');
      expectNoPassword(right.stderr + right.stdout);
      const [mail] = await smtp.waitFor(1);
      expect(smtp.messages).toHaveLength(1);
      expect([mail!.to, mail!.from, mail!.envelopeFrom]).toEqual(['devon@example.com', 'no-reply@portal.example', 'no-reply@portal.example']);
      const audit = await knex('mfa_audit_events').where('action', 'notify.send').orderBy('id').select('outcome', 'detail', 'actor_email', 'os_user', 'host');
      expect(audit.map((a) => a.outcome)).toEqual(['failure', 'success', 'success']);
      // the relay each run used: the operator's credentials only where the URL named the policy's relay
      expect(audit.map((a) => JSON.parse(String(a.detail)).smtp)).toEqual([
        `smtp://mailer:***@127.0.0.1:${port}`,
        `smtp://127.0.0.1:${port}`,
        `smtp://mailer:***@127.0.0.1:${port}`,
      ]);
      expect(audit[2].actor_email).toBeNull();
      expect(audit[2].os_user).not.toBe('');
      for (const a of audit) expectNoPassword(String(a.detail));
    } finally {
      await knex.destroy();
    }
  });
});
