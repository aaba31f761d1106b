/**
 * Issue 11 / SPEC §7: every event produces exactly one mail to the right person, on both databases,
 * asserted from a real SMTP server's side. The changes are made through the core use cases with an
 * injected clock (test/support/world.ts); the outbox is then delivered over SMTP as the CLI does
 * after a command. No mail may carry a secret the same run produced (TOTP secrets, recovery codes,
 * access codes, device tokens, passwords).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deliverNotifications } from '../../src/core/notify/delivery.js';
import { resolveSmtpConfig } from '../../src/mail/smtpConfig.js';
import { createSmtpMailer } from '../../src/mail/smtpMailer.js';
import { describeEachDatabase } from '../support/databases.js';
import { totpAt } from '../support/independentTotp.js';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../support/smtpServer.js';
import { openWorld, type World } from '../support/world.js';

const ALICE = 'alice@acme.example';
const BOB = 'bob@globex.example';
const DAVE = 'dave@acme.example';
const ERIN = 'erin@acme.example';
const FRANK = 'frank@globex.example';
const DEVON = 'devon@example.com';
const SAM = 'sam@support.example';

describeEachDatabase('one mail per SPEC §7 event', (getDb) => {
  let w: World;
  let smtp: TestSmtpServer;
  const secrets: string[] = [];
  const totp: Record<string, string> = {};

  /** Deliver what is pending; return the mails that arrived for it. */
  async function deliver(): Promise<ReceivedMail[]> {
    const before = smtp.messages.length;
    const config = resolveSmtpConfig({ PORTAL_MFA_SMTP_URL: smtp.url, PORTAL_MFA_MAIL_FROM: 'Portal <no-reply@portal.example>' })!;
    const mailer = await createSmtpMailer(config, { concurrency: 2 });
    try {
      await deliverNotifications(w.deps.db, mailer, { concurrency: 2, now: w.now });
    } finally {
      await mailer.close();
    }
    return smtp.messages.slice(before);
  }
  /** Exactly one mail, to `to`, whose subject and body match. */
  async function expectOneMail(to: string, subject: RegExp, body: RegExp[] = []): Promise<ReceivedMail> {
    const mails = await deliver();
    expect(mails.map((m) => `${m.to}: ${m.subject}`)).toEqual([expect.stringMatching(new RegExp(`^${to.replace(/[.]/g, '\\.')}: `))]);
    const m = mails[0]!;
    expect(m.envelopeTo).toEqual([to]);
    expect(m.subject).toMatch(subject);
    for (const b of body) expect(m.text).toMatch(b);
    expect(m.text).toMatch(/test-host/); // from where
    return m;
  }
  const enrol = async (email: string) => {
    const s = await w.enrol(email);
    totp[email] = s;
    secrets.push(s);
    return s;
  };

  beforeAll(async () => {
    smtp = await startSmtpServer();
    w = await openWorld(getDb().url);
  });
  afterAll(async () => {
    await w?.close();
    await smtp?.close();
  });

  it('MFA enabled; recovery codes regenerated; a recovery code used (with advice at ≤ 2)', async () => {
    await enrol(DEVON);
    await expectOneMail(DEVON, /enabled|turned on|active/i);
    w.advance(30_000);
    const devon = await w.as(DEVON, totp[DEVON]);
    const { codes } = await w.mfa.regenerateRecoveryCodes(devon, {});
    secrets.push(...codes);
    await expectOneMail(DEVON, /recovery codes/i);
    for (let i = 0; i < 8; i++) {
      await w.mfa.signIn({
        email: DEVON,
        password: w.password(DEVON),
        action: 'portal.login',
        secondFactor: { proof: { kind: 'recovery-code', code: codes[i]! } },
      });
      await deliver();
    }
    await w.mfa.signIn({
      email: DEVON,
      password: w.password(DEVON),
      action: 'portal.login',
      secondFactor: { proof: { kind: 'recovery-code', code: codes[8]! } },
    });
    await expectOneMail(DEVON, /recovery code/i, [/\b1\b/, /regenerat/i]);
  });

  it('new trusted device; devices revoked; device replaced', async () => {
    w.advance(30_000);
    const devon = await w.as(DEVON, totp[DEVON]);
    const device = await w.mfa.trustThisDevice(devon, { label: 'devon-laptop' });
    secrets.push(device.token);
    await expectOneMail(DEVON, /trusted device|new device/i, [/devon-laptop/]);
    const revoker = await w.as(SAM);
    await w.mfa.revokeDevices(revoker, { targetEmail: DEVON, ticket: 'SUP-5' });
    await expectOneMail(DEVON, /revoked/i, [/SUP-5|sam@support\.example/]);
    w.advance(30_000);
    const again = await w.as(DEVON, totp[DEVON]);
    const pending = await w.mfa.startReplacement(again, {});
    secrets.push(pending.secret);
    await w.mfa.confirmEnrolment(again, { code: totpAt(pending.secret, w.step()) });
    totp[DEVON] = pending.secret;
    await expectOneMail(DEVON, /replaced|new (phone|device)/i);
  });

  it('locked; hard-locked; unlocked (support, ticket named)', async () => {
    const s = await enrol(ERIN);
    await deliver();
    const wrong = () => (w.code(s) === '123456' ? '654321' : '123456');
    for (let i = 0; i < 5; i++)
      await w.mfa
        .signIn({ email: ERIN, password: w.password(ERIN), action: 'portal.login', secondFactor: { proof: { kind: 'code', code: wrong() } } })
        .catch(() => undefined);
    await expectOneMail(ERIN, /locked/i);
    w.deps.settings.hardLockFailures = 10;
    w.advance(15 * 60_000);
    for (let i = 0; i < 5; i++)
      await w.mfa
        .signIn({ email: ERIN, password: w.password(ERIN), action: 'portal.login', secondFactor: { proof: { kind: 'code', code: wrong() } } })
        .catch(() => undefined);
    w.deps.settings.hardLockFailures = 100;
    await expectOneMail(ERIN, /locked/i, [/unlock|support/i]);
    const sam = await w.as(SAM);
    await w.mfa.unlock(sam, { targetEmail: ERIN, ticket: 'SUP-6' });
    await expectOneMail(ERIN, /unlocked/i, [/SUP-6/]);
  });

  it('access code issued; disabled by themself; reset by support (ticket, "contact support"); disabled by an org admin (organisation and admin named)', async () => {
    const sam = await w.as(SAM);
    const issued = await w.mfa.issueAccessCode(sam, { targetEmail: FRANK, ticket: 'SUP-7' });
    if (issued.kind === 'issued') secrets.push(issued.code);
    await expectOneMail(FRANK, /access code/i, [/SUP-7|sam@support\.example/]);

    const f = await enrol(FRANK);
    await deliver();
    w.advance(30_000);
    await w.mfa.disableMfa(await w.as(FRANK, f), {});
    await expectOneMail(FRANK, /disabled|turned off/i);

    await enrol(FRANK);
    await deliver();
    await w.mfa.disableMfa(sam, { targetEmail: FRANK, ticket: 'SUP-8' });
    await expectOneMail(FRANK, /reset|disabled|turned off/i, [/SUP-8/, /contact support/i]);

    await enrol(DAVE);
    await deliver();
    const a = await enrol(ALICE);
    await deliver();
    w.advance(30_000);
    await w.mfa.disableMfa(await w.as(ALICE, a), { targetEmail: DAVE });
    await expectOneMail(DAVE, /disabled|turned off/i, [/acme/, /alice@acme\.example/]);
  });

  it('organisation now requires MFA (deadline), and reminders — one mail per member lacking MFA', async () => {
    const bob = await w.as(BOB);
    await w.mfa.setPolicy(bob, { orgSlug: 'globex', change: { require: true, graceDays: 7 } });
    const lacking = ['bob@globex.example', 'frank@globex.example', 'heidi@partners.example', 'olivia@partners.example'];
    const mails = await deliver();
    expect(mails.map((m) => m.to).sort()).toEqual(lacking);
    for (const m of mails) expect(m.text).toMatch(/globex/);
    await w.mfa.remindMembers(bob, { orgSlug: 'globex' });
    const reminders = await deliver();
    expect(reminders.map((m) => m.to).sort()).toEqual(lacking);
    await w.mfa.setPolicy(bob, { orgSlug: 'globex', change: { require: false } });
  });

  it('no mail carries a secret, code, token or password', () => {
    const passwords = ['alice-demo-pass', 'bob-demo-pass', 'dave-demo-pass', 'erin-demo-pass', 'frank-demo-pass', 'devon-demo-pass', 'sam-demo-pass'];
    expect(smtp.messages.length).toBeGreaterThan(15);
    for (const m of smtp.messages) {
      const raw = m.raw.toUpperCase().replace(/[\s=-]/g, '');
      for (const s of [...secrets, ...passwords]) expect(raw, `${m.subject} to ${m.to}`).not.toContain(s.toUpperCase().replace(/[\s-]/g, ''));
    }
  });
});
