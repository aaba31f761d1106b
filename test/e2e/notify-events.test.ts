/**
 * SPEC §7 end to end: real commands through the built binary, on SQLite and MariaDB, with the
 * portal's relay and sender set by support (`policy set --smtp-relay … --mail-from …`) and the
 * operators' PORTAL_MFA_SMTP_URL naming that relay. Each change is told to the right person in exactly
 * one mail from the policy's sender (asserted from the SMTP server's side), delivered by the command
 * itself; and no mail carries any of the secrets the same commands printed (TOTP secret, recovery
 * codes, access code, passwords).
 */
import type { Knex } from 'knex';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKeyBase64 } from '../../src/core/primitives/secretBox.js';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { parseDatabaseUrl } from '../../src/db/url.js';
import { describeRun, makeCliEnv, runCli, type CliResult } from '../support/cli.js';
import { describeEachDatabase } from '../support/databases.js';
import { safeStep, totpAt } from '../support/independentTotp.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtpServer.js';
import { cheapDemoPasswords, DEVON, SAM } from '../support/scenario.js';

describeEachDatabase('notifications from real commands (SPEC §7)', (getDb) => {
  let db: Database;
  let knex: Knex;
  let url: string;
  let smtp: TestSmtpServer;
  let env: NodeJS.ProcessEnv;
  let devonMachine: NodeJS.ProcessEnv;
  const cli = (args: string[], stdin?: string, e = env) => runCli(['--db', url, ...args], { env: e, stdin, timeoutMs: 60_000 });
  const ok = (r: CliResult) => {
    expect(r.code, describeRun(r)).toBe(0);
    return r.stdout.trim() ? JSON.parse(r.stdout) : null;
  };

  beforeAll(async () => {
    url = getDb().url;
    smtp = await startSmtpServer();
    const key = generateKeyBase64();
    // the operators' own SMTP settings name the portal's relay (they lend its short timeout); their sender is not the portal's
    const mail = { PORTAL_MFA_SMTP_URL: smtp.url, PORTAL_MFA_MAIL_FROM: 'Operator <ops@operator.example>', PORTAL_MFA_ISSUER: 'Acme Portal' };
    env = makeCliEnv({ PORTAL_MFA_KEY: key, ...mail }).env;
    devonMachine = makeCliEnv({ PORTAL_MFA_KEY: key, ...mail }).env;
    for (const args of [['db', 'migrate'], ['demo']]) {
      const r = await cli(args);
      expect(r.code, describeRun(r)).toBe(0);
    }
    db = await openDatabase(parseDatabaseUrl(url));
    knex = db.knex;
    // every run checks a password: the demo's at bcrypt's lowest cost (nothing here depends on it)
    await cheapDemoPasswords(knex);
    // support names the portal's relay (no credentials) and the sender of every notice
    ok(
      await cli(
        [
          'policy',
          'set',
          '--smtp-relay',
          `smtp://127.0.0.1:${smtp.port}`,
          '--mail-from',
          'Acme Portal <no-reply@portal.example>',
          '--ticket',
          'SUP-7000',
          '--as',
          SAM.email,
          '--password-stdin',
          '--yes',
          '--json',
        ],
        `${SAM.password}\n`,
      ),
    );
    smtp.clear(); // demo data and the policy are not changes to tell anyone about
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    await smtp?.close();
  });

  it('enrol, regenerate, use a recovery code, support reset, access code: one mail each to the user, in order, no secret in any', {
    timeout: 180_000,
  }, async () => {
    const secrets: string[] = [DEVON.password, SAM.password];
    const expectMails = async (n: number, subject: RegExp) => {
      const mails = await smtp.waitFor(n, 20_000);
      expect(mails, mails.map((m) => m.subject).join('\n')).toHaveLength(n);
      const last = mails[n - 1]!;
      expect(last.envelopeTo).toEqual([DEVON.email]);
      expect([last.from, last.envelopeFrom]).toEqual(['no-reply@portal.example', 'no-reply@portal.example']);
      expect(last.subject).toMatch(subject);
      expect(last.subject.startsWith('[Acme Portal] ')).toBe(true);
      return last;
    };

    // enrolment: the secret and the first recovery codes are printed, never mailed
    const pending = ok(await cli(['enroll', '--as', DEVON.email, '--password-stdin', '--no-confirm', '--json'], `${DEVON.password}\n`, devonMachine));
    secrets.push(pending.secret, pending.otpauthUri);
    expect(smtp.messages).toHaveLength(0); // nothing changed yet: enrolment is pending
    // codes of this step and the next: both stay inside the ±1 window whichever boundary passes meanwhile
    const step = await safeStep(5_000);
    const confirmed = ok(
      await cli(
        ['enroll', '--as', DEVON.email, '--password-stdin', '--confirm', '-', '--json'],
        `${DEVON.password}\n${totpAt(pending.secret, step)}\n`,
        devonMachine,
      ),
    );
    secrets.push(...(confirmed.recoveryCodes ?? []), totpAt(pending.secret, step));
    const enabled = await expectMails(1, /Two-factor authentication turned on/);
    expect(enabled.text).toContain(`your account ${DEVON.email}`);
    expect(enabled.text).toContain('By:    you');

    // new recovery codes (a sensitive action; the code of the next step proves the device)
    const regenerated = ok(
      await cli(
        ['recovery-codes', 'regenerate', '--as', DEVON.email, '--password-stdin', '--code', totpAt(pending.secret, step + 1), '--json'],
        `${DEVON.password}\n`,
        devonMachine,
      ),
    );
    secrets.push(...regenerated.recoveryCodes, totpAt(pending.secret, step + 1));
    await expectMails(2, /New recovery codes/);

    // a recovery code used in place of a code: the mail says how many are left
    ok(
      await cli(
        ['login', '--as', DEVON.email, '--password-stdin', '--recovery-code', '-', '--json'],
        `${DEVON.password}\n${regenerated.recoveryCodes[0]}\n`,
        devonMachine,
      ),
    );
    const used = await expectMails(3, /A recovery code was used/);
    expect(used.text).toContain(`Recovery codes left: ${regenerated.recoveryCodes.length - 1}.`);

    // support resets devon's MFA on a ticket
    ok(await cli(['disable', '--user', DEVON.email, '--ticket', 'SUP-7001', '--as', SAM.email, '--password-stdin', '--yes', '--json'], `${SAM.password}\n`));
    const reset = await expectMails(4, /reset by support/);
    expect(reset.text).toContain(`By:    ${SAM.email}, support representative (ticket SUP-7001)`);

    // support gives devon a temporary access code: the mail announces it, never contains it
    const issued = ok(
      await cli(
        ['access-code', 'issue', '--user', DEVON.email, '--ticket', 'SUP-7002', '--as', SAM.email, '--password-stdin', '--yes', '--json'],
        `${SAM.password}\n`,
      ),
    );
    secrets.push(issued.accessCode, String(issued.accessCode).replace(/-/g, ''));
    const access = await expectMails(5, /Temporary access code issued/);
    expect(access.text).toContain('ticket SUP-7002');

    // exactly these five, each once; the outbox agrees
    expect(smtp.messages).toHaveLength(5);
    const rows = await knex('mfa_notifications').orderBy('id').select('event', 'status', 'email');
    expect(rows).toEqual(
      ['mfa-enabled', 'recovery-codes-regenerated', 'recovery-code-used', 'mfa-reset-support', 'access-code-issued'].map((event) => ({
        event,
        status: 'sent',
        email: DEVON.email,
      })),
    );
    // the scan: nothing any command printed as a secret, and no password, is in any mail
    for (const m of smtp.messages) {
      // decoded (the body may travel quoted-printable or base64) and as received
      const everything = `${m.subject}\n${m.text}\n${m.raw}`;
      for (const s of secrets.filter((x) => typeof x === 'string' && x.length >= 6)) expect(everything, `${m.subject} contains a secret`).not.toContain(s);
    }
  });
});
