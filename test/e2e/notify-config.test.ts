/**
 * SPEC §7 / §4: SMTP configuration through the built binary. A malformed PORTAL_MFA_SMTP_URL or
 * PORTAL_MFA_MAIL_FROM is exit 10 naming the variable, with the password masked, before anything is
 * touched; credentials in the URL authenticate to the server and never appear in any output.
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

  it('an SMTP URL without PORTAL_MFA_MAIL_FROM is exit 10 naming it; notify send without any SMTP is exit 10', async () => {
    expectOneLineError(
      await runCli(['--db', url, 'db', 'status'], { env: { ...base, PORTAL_MFA_SMTP_URL: 'smtp://mail.example' } }),
      10,
      /PORTAL_MFA_MAIL_FROM is not set, but PORTAL_MFA_SMTP_URL is/,
    );
    const migrated = await runCli(['--db', url, 'db', 'migrate'], { env: base });
    expect(migrated.code, describeRun(migrated)).toBe(0);
    expectOneLineError(await runCli(['--db', url, 'notify', 'send'], { env: base }), 10, /PORTAL_MFA_SMTP_URL is not set/);
  });

  it('credentials in the URL log in to the server; a wrong password is exit 10 with the password masked, the notice kept', async () => {
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

      const port = new URL(smtp.url).port;
      const wrong = await runCli(['--db', url, 'notify', 'send'], {
        env: { ...base, PORTAL_MFA_SMTP_URL: `smtp://mailer:not-${ENCODED}@127.0.0.1:${port}?timeout=2`, PORTAL_MFA_MAIL_FROM: 'no-reply@portal.example' },
      });
      expectOneLineError(wrong, 10, /could not be reached \(smtp:\/\/mailer:\*\*\*@127\.0\.0\.1:\d+: .*(535|EAUTH)/);
      expectNoPassword(wrong.stderr + wrong.stdout);
      expect(smtp.messages).toHaveLength(0);
      expect(await knex('mfa_notifications').first('status', 'attempts')).toEqual({ status: 'pending', attempts: 1 });

      // the retry is due after the backoff: move it to now, as time passing would
      await knex('mfa_notifications').update({ next_attempt_at: Date.now() });
      const right = await runCli(['--db', url, 'notify', 'send'], {
        env: { ...base, PORTAL_MFA_SMTP_URL: smtp.url, PORTAL_MFA_MAIL_FROM: 'no-reply@portal.example' },
      });
      expect(right.code, describeRun(right)).toBe(0);
      expect(right.stdout).toMatch(/sent 1 notice\(s\) through smtp:\/\/mailer:\*\*\*@127\.0\.0\.1:\d+/);
      expectNoPassword(right.stderr + right.stdout);
      expect((await smtp.waitFor(1)).map((m) => m.to)).toEqual(['devon@example.com']);
      const audit = await knex('mfa_audit_events').where('action', 'notify.send').orderBy('id').select('outcome', 'detail', 'actor_email', 'os_user', 'host');
      expect(audit.map((a) => a.outcome)).toEqual(['failure', 'success']);
      expect(audit[1].actor_email).toBeNull();
      expect(audit[1].os_user).not.toBe('');
      for (const a of audit) expectNoPassword(String(a.detail));
    } finally {
      await knex.destroy();
    }
  });
});
