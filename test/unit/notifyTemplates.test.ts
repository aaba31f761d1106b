/**
 * SPEC §7: what every notice says. Each event's mail names what happened, when (UTC), by whom, from
 * where, and what to do if it was not them; it never carries a secret, code, token or password; and
 * text from data (labels, tickets) cannot forge lines or reorder what the reader sees.
 */
import { describe, expect, it } from 'vitest';
import { mailTime, renderNotification, type NotificationEvent, type NotificationKind } from '../../src/core/notify/events.js';

const AT = Date.UTC(2026, 11, 1, 13, 54, 7); // a Tuesday
const CTX = { issuer: 'Gentrack Developer Portal', to: 'erin@acme.example', at: AT, host: 'support-bastion-01' };
const LATER = Date.UTC(2026, 11, 31, 9, 5);

/** One of every event, with the facts its mail must show. */
const EVENTS: { event: NotificationEvent; subject: RegExp; by: string; facts: string[] }[] = [
  { event: { kind: 'mfa-enabled' }, subject: /turned on/, by: 'you', facts: ['turned on for your account erin@acme.example'] },
  { event: { kind: 'mfa-disabled-self' }, subject: /turned off/, by: 'you', facts: ['turned off for your account'] },
  {
    event: { kind: 'mfa-reset-support', by: 'sam@support.example', ticket: 'SUP-4711' },
    subject: /reset by support/,
    by: 'sam@support.example, support representative (ticket SUP-4711)',
    facts: ['Support reset two-factor authentication', 'quote ticket SUP-4711'],
  },
  {
    event: { kind: 'mfa-disabled-admin', by: 'alice@acme.example', organisation: 'acme' },
    subject: /turned off by your organisation/,
    by: 'alice@acme.example, administrator of acme',
    facts: ['An administrator of the organisation acme turned off'],
  },
  { event: { kind: 'device-replaced' }, subject: /device replaced/, by: 'you', facts: ['Codes from the old device no longer work'] },
  {
    event: { kind: 'device-trusted', label: 'Erin’s work laptop', expiresAt: LATER },
    subject: /New trusted device/,
    by: 'you',
    facts: ['Device: Erin’s work laptop', 'until Thursday 31 December 2026, 09:05 UTC', 'devices revoke'],
  },
  { event: { kind: 'devices-revoked', count: 3, by: null, ticket: null }, subject: /revoked/, by: 'you', facts: ['3 trusted devices were revoked'] },
  {
    event: { kind: 'devices-revoked', count: 1, by: 'sam@support.example', ticket: 'SUP-9' },
    subject: /revoked/,
    by: 'sam@support.example, support representative (ticket SUP-9)',
    facts: ['1 trusted device was revoked'],
  },
  { event: { kind: 'recovery-codes-regenerated' }, subject: /New recovery codes/, by: 'you', facts: ['previous ones no longer work'] },
  { event: { kind: 'recovery-code-used', left: 7 }, subject: /recovery code was used/, by: 'you', facts: ['Recovery codes left: 7.'] },
  { event: { kind: 'locked', until: LATER }, subject: /locked/, by: 'repeated wrong codes', facts: ['locked until Thursday 31 December 2026, 09:05 UTC'] },
  { event: { kind: 'hard-locked' }, subject: /until support unlocks/, by: 'repeated wrong codes', facts: ['does not end by itself'] },
  {
    event: { kind: 'unlocked', by: 'alice@acme.example', ticket: null },
    subject: /unlocked/,
    by: 'alice@acme.example',
    facts: ['lock on your account erin@acme.example was cleared'],
  },
  {
    event: { kind: 'access-code-issued', by: 'sam@support.example', ticket: 'SUP-12', expiresAt: LATER, uses: 1 },
    subject: /access code issued/,
    by: 'sam@support.example, support representative (ticket SUP-12)',
    facts: ['until Thursday 31 December 2026, 09:05 UTC, for 1 sign-in', 'never by email'],
  },
  {
    event: { kind: 'org-mfa-required', organisation: 'acme', deadline: LATER },
    subject: /now required/,
    by: 'an administrator of acme',
    facts: ['The organisation acme now requires two-factor authentication', 'Set it up by Thursday 31 December 2026, 09:05 UTC'],
  },
  {
    event: { kind: 'org-mfa-required', organisation: 'acme', deadline: null },
    subject: /now required/,
    by: 'an administrator of acme',
    facts: ['at your next sign-in'],
  },
  {
    event: { kind: 'portal-mfa-required', deadline: LATER },
    subject: /now required/,
    by: "the portal's support team",
    facts: ['The portal now requires two-factor authentication for every account', 'Set it up by Thursday 31 December 2026, 09:05 UTC'],
  },
  {
    event: { kind: 'org-reminder', organisation: 'globex', deadline: LATER },
    subject: /Reminder/,
    by: 'an administrator of globex',
    facts: [
      'globex requires two-factor authentication, and your account erin@acme.example does not have it yet',
      'Set it up by Thursday 31 December 2026, 09:05 UTC',
    ],
  },
];

describe('notification templates (SPEC §7)', () => {
  it('covers every event kind', () => {
    const kinds: NotificationKind[] = [
      'mfa-enabled',
      'mfa-disabled-self',
      'mfa-reset-support',
      'mfa-disabled-admin',
      'device-replaced',
      'device-trusted',
      'devices-revoked',
      'recovery-codes-regenerated',
      'recovery-code-used',
      'locked',
      'hard-locked',
      'unlocked',
      'access-code-issued',
      'org-mfa-required',
      'portal-mfa-required',
      'org-reminder',
    ];
    expect(new Set(EVENTS.map((e) => e.event.kind))).toEqual(new Set(kinds));
  });

  it.each(
    EVENTS.map(
      (e) =>
        [
          e.event.kind + ('by' in e.event && e.event.by ? ' (by another)' : '') + ('deadline' in e.event && e.event.deadline === null ? ' (no deadline)' : ''),
          e,
        ] as const,
    ),
  )('%s: what, when (UTC), by whom, from where, what to do, from the portal', (_name, { event, subject, by, facts }) => {
    const { subject: s, text } = renderNotification(event, CTX);
    expect(s.startsWith('[Gentrack Developer Portal] ')).toBe(true);
    expect(s).toMatch(subject);
    expect(s).not.toMatch(/[\r\n]/);
    expect(text).toContain('When:  Tuesday 1 December 2026, 13:54 UTC');
    expect(text).toContain(`By:    ${by}\n`);
    expect(text).toContain('From:  support-bastion-01');
    expect(text).toMatch(/contact support|ask the administrators/);
    expect(text).toContain('— Gentrack Developer Portal');
    for (const f of facts) expect(text).toContain(f);
  });

  it('recovery-code-used advises regenerating at 2 left or fewer, not above', () => {
    const advice = /generate new ones (soon|now) \(portal-mfa recovery-codes regenerate\)/;
    expect(renderNotification({ kind: 'recovery-code-used', left: 3 }, CTX).text).not.toMatch(advice);
    expect(renderNotification({ kind: 'recovery-code-used', left: 2 }, CTX).text).toMatch(/Only 2 recovery codes are left: generate new ones soon/);
    expect(renderNotification({ kind: 'recovery-code-used', left: 1 }, CTX).text).toMatch(/Only 1 recovery code is left: generate new ones soon/);
    expect(renderNotification({ kind: 'recovery-code-used', left: 0 }, CTX).text).toMatch(/no recovery codes left: generate new ones now/);
  });

  it('never contains anything shaped like a code, a secret, a token or a password', () => {
    for (const { event } of EVENTS) {
      const { subject, text } = renderNotification(event, CTX);
      const mail = `${subject}\n${text}`;
      expect(mail).not.toMatch(/\b\d{6,}\b/); // a TOTP or access code, an epoch time
      expect(mail).not.toMatch(/\b[A-Z2-7]{16,}\b/); // a base32 secret
      expect(mail).not.toMatch(/\b[A-Za-z0-9+/_-]{22,}={0,2}/); // a base64/hex token
      expect(mail).not.toMatch(/otpauth:|\b(password|secret|token|code)s?\s*[:=]/i); // "password: hunter2"
    }
  });

  it('text from data cannot forge lines or reorder the mail (control and bidi characters are shown escaped)', () => {
    const { subject, text } = renderNotification(
      { kind: 'device-trusted', label: 'laptop\n\nBy:    support\u202eevil', expiresAt: LATER },
      { ...CTX, issuer: 'Portal\r\nBcc: x@evil.example' },
    );
    expect(subject).not.toMatch(/[\r\n]/);
    expect(text).toContain('Device: laptop\\u000a\\u000aBy:    support\\u202eevil');
    expect(text.match(/^By: /gm)).toHaveLength(1);
  });

  it('writes times in UTC, spelled out, whatever the local time zone', () => {
    expect(mailTime(Date.UTC(2027, 0, 3, 0, 0))).toBe('Sunday 3 January 2027, 00:00 UTC');
    expect(mailTime(Date.UTC(2026, 6, 14, 23, 59, 59))).toBe('Tuesday 14 July 2026, 23:59 UTC');
  });
});
