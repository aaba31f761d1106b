/**
 * What a user is told, and how it reads (SPEC §7). Each notice says what happened, when (UTC), by
 * whom, from where, and what to do if it was not them. Nothing here ever receives a secret, a
 * code, a token or a password: the events carry only facts that are safe to mail.
 */
export type NotificationEvent =
  | { kind: 'mfa-enabled' }
  | { kind: 'mfa-disabled-self' }
  | { kind: 'mfa-reset-support'; by: string; ticket: string }
  | { kind: 'mfa-disabled-admin'; by: string; organisation: string }
  | { kind: 'device-replaced' }
  | { kind: 'device-trusted'; label: string; expiresAt: number }
  | { kind: 'devices-revoked'; count: number; by: string | null; ticket: string | null }
  | { kind: 'recovery-codes-regenerated' }
  | { kind: 'recovery-code-used'; left: number }
  | { kind: 'locked'; until: number }
  | { kind: 'hard-locked' }
  | { kind: 'unlocked'; by: string; ticket: string | null }
  | { kind: 'access-code-issued'; by: string; ticket: string | null; expiresAt: number; uses: number }
  | { kind: 'org-mfa-required'; organisation: string; deadline: number | null }
  | { kind: 'portal-mfa-required'; deadline: number | null }
  | { kind: 'org-reminder'; organisation: string; deadline: number | null };

export type NotificationKind = NotificationEvent['kind'];

interface RenderContext {
  /** the portal's name (settings.issuer) */
  issuer: string;
  /** the recipient's email */
  to: string;
  /** when the change happened (ms since epoch) */
  at: number;
  /** the machine portal-mfa ran on */
  host: string;
}

export interface RenderedNotification {
  subject: string;
  text: string;
}

/** At this many recovery codes left (or fewer) the notice advises generating new ones. */
const RECOVERY_CODES_LOW = 2;

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * "Tuesday 1 December 2026, 13:54 UTC": written out by hand rather than with Intl, so the text
 * does not depend on the ICU data of the Node build that sends it.
 */
export function mailTime(ms: number): string {
  const d = new Date(ms);
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`;
}

/**
 * Text from the database or the command line (a device label, a ticket, an email) goes into a mail
 * as one line: control and bidirectional-override characters are shown escaped, so a crafted label
 * can neither forge extra lines in the body nor reorder what the reader sees; long values are cut.
 */
function mailSafe(s: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = s.replace(
    /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return cleaned.length > max ? cleaned.slice(0, max - 1) + '…' : cleaned;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

interface Parts {
  /** subject after the "[issuer]" prefix */
  subject: string;
  /** first paragraph: what happened */
  what: string;
  /** who did it */
  by: string;
  /** more facts or advice, paragraphs */
  more?: string[];
  /** what to do if it was not them */
  notYou: string;
}

const CONTACT = 'contact support at once';
const SOMEONE_HAS_PASSWORD = `If this wasn't you, someone else may know your password. Change it and ${CONTACT}.`;

function by(actor: string, ticket: string | null | undefined, role: 'support' | 'admin' | 'either'): string {
  const who = mailSafe(actor, 254);
  if (ticket) return `${who}, support representative (ticket ${mailSafe(ticket)})`;
  if (role === 'support') return `${who}, support representative`;
  if (role === 'admin') return `${who}, administrator of your organisation`;
  return who;
}

function parts(event: NotificationEvent, ctx: RenderContext): Parts {
  const account = `your account ${mailSafe(ctx.to, 254)}`;
  switch (event.kind) {
    case 'mfa-enabled':
      return {
        subject: 'Two-factor authentication turned on',
        what: `Two-factor authentication was turned on for ${account}. From now on, signing in needs your password and a code from your authenticator app.`,
        by: 'you',
        notYou: SOMEONE_HAS_PASSWORD,
      };
    case 'mfa-disabled-self':
      return {
        subject: 'Two-factor authentication turned off',
        what: `Two-factor authentication was turned off for ${account}. Signing in now needs only your password; its recovery codes and trusted devices were removed too.`,
        by: 'you',
        more: ['You can turn it on again at any time (portal-mfa enroll).'],
        notYou: SOMEONE_HAS_PASSWORD,
      };
    case 'mfa-reset-support':
      return {
        subject: 'Two-factor authentication reset by support',
        what: `Support reset two-factor authentication for ${account}: your authenticator app, recovery codes and trusted devices no longer work. Sign in with your password and set up two-factor authentication again.`,
        by: by(event.by, event.ticket, 'support'),
        notYou: `If you did not ask support for this, ${CONTACT} and quote ticket ${mailSafe(event.ticket)}.`,
      };
    case 'mfa-disabled-admin':
      return {
        subject: 'Two-factor authentication turned off by your organisation',
        what: `An administrator of the organisation ${mailSafe(event.organisation)} turned off two-factor authentication for ${account}: your authenticator app, recovery codes and trusted devices no longer work. Sign in with your password and set up two-factor authentication again.`,
        by: `${mailSafe(event.by, 254)}, administrator of ${mailSafe(event.organisation)}`,
        notYou: `If you did not expect this, ${CONTACT} or ask the administrators of ${mailSafe(event.organisation)}.`,
      };
    case 'device-replaced':
      return {
        subject: 'Authenticator device replaced',
        what: `The authenticator app for ${account} was replaced by a new one. Codes from the old device no longer work.`,
        by: 'you',
        notYou: SOMEONE_HAS_PASSWORD,
      };
    case 'device-trusted':
      return {
        subject: 'New trusted device',
        what: `A device was trusted for ${account}: signing in from it skips the authentication code until ${mailTime(event.expiresAt)}.`,
        by: 'you',
        more: [`Device: ${mailSafe(event.label) || '(no label)'}`, 'You can revoke it at any time (portal-mfa devices revoke).'],
        notYou: `If this wasn't you, revoke the device, change your password and ${CONTACT}.`,
      };
    case 'devices-revoked':
      return {
        subject: 'Trusted devices revoked',
        what: `${event.count === 1 ? '1 trusted device was' : `${event.count} trusted devices were`} revoked for ${account}. Signing in from ${event.count === 1 ? 'it' : 'them'} needs an authentication code again.`,
        by: event.by === null ? 'you' : by(event.by, event.ticket, 'either'),
        notYou: event.by === null ? SOMEONE_HAS_PASSWORD : `If you did not expect this, ${CONTACT}.`,
      };
    case 'recovery-codes-regenerated':
      return {
        subject: 'New recovery codes',
        what: `New recovery codes were generated for ${account}. The previous ones no longer work.`,
        by: 'you',
        notYou: SOMEONE_HAS_PASSWORD,
      };
    case 'recovery-code-used': {
      const left = Math.max(0, event.left);
      const more = [`Recovery codes left: ${left}.`];
      if (left <= RECOVERY_CODES_LOW) {
        more.push(
          left === 0
            ? 'You have no recovery codes left: generate new ones now (portal-mfa recovery-codes regenerate), or you may be locked out if you lose your device.'
            : `Only ${plural(left, 'recovery code is', 'recovery codes are')} left: generate new ones soon (portal-mfa recovery-codes regenerate).`,
        );
      }
      return {
        subject: 'A recovery code was used',
        what: `A recovery code was used in place of an authentication code for ${account}. Each recovery code works once.`,
        by: 'you',
        more,
        notYou: `If this wasn't you, someone has your password and a recovery code. Change your password, generate new recovery codes and ${CONTACT}.`,
      };
    }
    case 'locked':
      return {
        subject: 'Sign-in locked after wrong codes',
        what: `Two-factor sign-in for ${account} is locked until ${mailTime(event.until)} after too many wrong authentication codes.`,
        by: 'repeated wrong codes',
        more: ['If it was you, check that your device clock is set automatically, then wait until the lock ends.'],
        notYou: SOMEONE_HAS_PASSWORD,
      };
    case 'hard-locked':
      return {
        subject: 'Sign-in locked until support unlocks it',
        what: `Two-factor sign-in for ${account} is locked after too many wrong authentication codes. The lock does not end by itself: support or an administrator of your organisation must unlock it.`,
        by: 'repeated wrong codes',
        notYou: `If this wasn't you, someone may know your password. Change it and ${CONTACT}.`,
      };
    case 'unlocked':
      return {
        subject: 'Sign-in unlocked',
        what: `The two-factor sign-in lock on ${account} was cleared; authentication codes are accepted again.`,
        by: by(event.by, event.ticket, 'either'),
        notYou: `If you did not ask for this, ${CONTACT}.`,
      };
    case 'access-code-issued':
      return {
        subject: 'Temporary access code issued',
        what: `A temporary access code was issued for ${account}. It can be used in place of an authentication code until ${mailTime(event.expiresAt)}, for ${plural(event.uses, 'sign-in', 'sign-ins')}; after signing in with it you set up your authenticator again.`,
        by: by(event.by, event.ticket, 'either'),
        more: ['The code itself is given to you by the person who issued it, never by email.'],
        notYou: `If you did not ask for this, ${CONTACT}.`,
      };
    case 'org-mfa-required':
      return {
        subject: 'Two-factor authentication now required',
        what: `The organisation ${mailSafe(event.organisation)} now requires two-factor authentication. ${deadlineSentence(event.deadline)}`,
        by: `an administrator of ${mailSafe(event.organisation)}`,
        more: ['To set it up, sign in to the portal (or run portal-mfa enroll) and scan the QR code with an authenticator app.'],
        notYou: `If you have questions, ask the administrators of ${mailSafe(event.organisation)} or contact support.`,
      };
    case 'portal-mfa-required':
      return {
        subject: 'Two-factor authentication now required',
        what: `The portal now requires two-factor authentication for every account, ${account} included. ${deadlineSentence(event.deadline)}`,
        by: "the portal's support team",
        more: ['To set it up, sign in to the portal (or run portal-mfa enroll) and scan the QR code with an authenticator app.'],
        notYou: `If you have questions, ${CONTACT}.`,
      };
    case 'org-reminder':
      return {
        subject: 'Reminder: set up two-factor authentication',
        what: `The organisation ${mailSafe(event.organisation)} requires two-factor authentication, and ${account} does not have it yet. ${deadlineSentence(event.deadline)}`,
        by: `an administrator of ${mailSafe(event.organisation)}`,
        more: ['To set it up, sign in to the portal (or run portal-mfa enroll) and scan the QR code with an authenticator app.'],
        notYou: `If you have questions, ask the administrators of ${mailSafe(event.organisation)} or contact support.`,
      };
  }
}

function deadlineSentence(deadline: number | null): string {
  return deadline === null
    ? 'You will be asked to set it up at your next sign-in.'
    : `Set it up by ${mailTime(deadline)}; after that you will have to set it up before you can do anything else.`;
}

/** The subject and plain-text body of one notice. */
export function renderNotification(event: NotificationEvent, ctx: { issuer: string; to: string; at: number; host: string }): RenderedNotification {
  const issuer = mailSafe(ctx.issuer, 100);
  const p = parts(event, ctx);
  const lines = [
    'Hello,',
    '',
    p.what,
    '',
    `When:  ${mailTime(ctx.at)}`,
    `By:    ${p.by}`,
    `From:  ${mailSafe(ctx.host, 255) || 'unknown host'} (the machine the change was made on)`,
    '',
    ...(p.more ? [...p.more, ''] : []),
    p.notYou,
    '',
    `— ${issuer}`,
    'This is an automatic security notice about your account; it never contains passwords or codes.',
  ];
  return { subject: `[${issuer}] ${p.subject}`, text: lines.join('\n') + '\n' };
}
