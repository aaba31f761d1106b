/**
 * The Mailer of src/core/notify/delivery.ts over SMTP, with nodemailer. nodemailer is imported here,
 * when a notice is about to be sent, never at start-up.
 */
import { MailerUnavailableError, type Mailer, type OutgoingMail } from '../core/notify/delivery.js';
import type { SmtpConfig } from './smtpConfig.js';

// Errors that say nothing can be sent right now (the server is down, unreachable, too slow, or
// refuses our TLS or credentials), as opposed to a refusal of one message (EENVELOPE, EMESSAGE).
const UNAVAILABLE = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'EAUTH',
  'ENOAUTH',
  'EPROXY',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
]);

export async function createSmtpMailer(config: SmtpConfig, opts: { concurrency: number }): Promise<Mailer> {
  const nodemailer = await import('nodemailer');
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: Math.max(1, opts.concurrency),
    // reuse each connection for the whole run
    maxMessages: Number.POSITIVE_INFINITY,
    host: config.host,
    port: config.port,
    secure: config.secure,
    auth: config.user !== null ? { user: config.user, pass: config.password ?? '' } : undefined,
    connectionTimeout: config.timeoutMs,
    greetingTimeout: config.timeoutMs,
    socketTimeout: config.timeoutMs,
    requireTLS: config.starttls === 'required',
    ignoreTLS: config.starttls === 'never',
    tls: { rejectUnauthorized: config.tlsVerify },
    // nodemailer logs nothing unless asked; say so, it writes to stdout otherwise
    logger: false,
    debug: false,
  });
  const scrub = (text: string) => scrubSecret(text, config.password);
  return {
    async send(mail: OutgoingMail) {
      try {
        await transport.sendMail({
          from: config.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          messageId: `<${mail.messageId}@${config.fromDomain}>`,
          headers: {
            // RFC 3834: an automatic message; out-of-office replies should not answer it
            'Auto-Submitted': 'auto-generated',
            'X-Auto-Response-Suppress': 'All',
          },
        });
      } catch (e) {
        const err = e as { code?: string; responseCode?: number; message?: string };
        let text = scrub(err.message ?? String(e));
        // name the kind of failure when the text does not (e.g. "Greeting never received" is a timeout)
        if (err.code && !text.includes(err.code)) text += ` (${err.code})`;
        const message = `${config.display}: ${text}`;
        if ((err.code !== undefined && UNAVAILABLE.has(err.code)) || err.responseCode === 421) throw new MailerUnavailableError(message);
        throw new Error(message);
      }
    },
    async close() {
      transport.close();
    },
  };
}

/** The password never appears in a message, whichever way a server or library might echo it. */
function scrubSecret(text: string, secret: string | null): string {
  if (!secret) return text;
  let out = text;
  for (const form of new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')])) {
    if (form.length >= 3) out = out.split(form).join('***');
  }
  return out;
}
