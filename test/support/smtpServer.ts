/**
 * A real SMTP server in the test process (smtp-server on 127.0.0.1, any free port) that parses every
 * message it accepts with mailparser, for asserting mail from the receiving side.
 *
 *   const smtp = await startSmtpServer();
 *   env.PORTAL_MFA_SMTP_URL = smtp.url;           // smtp://127.0.0.1:PORT/?timeout=…
 *   … run portal-mfa …
 *   const [mail] = await smtp.waitFor(1);
 *   expect(mail.to).toBe('alice@acme.example');
 *   smtp.refuseConnections();  // the port is closed: connection refused
 *   smtp.rejectRecipients(550); // RCPT TO answered 5xx
 *   smtp.stall();              // connections accepted but never greeted: the client times out
 *   smtp.slow(50);             // each message accepted after 50 ms
 *   smtp.parseMessages(false); // keep envelope, Message-ID and raw text only (counting hundreds of notices)
 *   await smtp.acceptAll();    // back to normal (re-opens the port)
 *   await smtp.close();
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';

export interface ReceivedMail {
  /** envelope sender (MAIL FROM) */
  envelopeFrom: string;
  /** envelope recipients (RCPT TO) */
  envelopeTo: string[];
  /** the To: header's first address */
  to: string;
  from: string;
  subject: string;
  text: string;
  messageId: string;
  headers: Map<string, unknown>;
  /** the message exactly as received */
  raw: string;
}

type SmtpMode = { kind: 'accept'; delayMs: number } | { kind: 'refuse' } | { kind: 'reject-rcpt'; code: number } | { kind: 'stall' };

export interface TestSmtpServer {
  readonly port: number;
  /** smtp://[user:pass@]127.0.0.1:PORT/?timeout=SECONDS — a short client timeout so stall tests are quick */
  readonly url: string;
  readonly messages: ReceivedMail[];
  /** connections opened so far (a refused connection is not counted) */
  readonly connections: number;
  mode(): SmtpMode;
  acceptAll(): Promise<void>;
  slow(delayMs: number): Promise<void>;
  refuseConnections(): Promise<void>;
  rejectRecipients(code?: number): Promise<void>;
  stall(): Promise<void>;
  /**
   * Parse each message with mailparser (on, the default) or keep only its envelope, Message-ID and
   * raw text (to, from, subject and text empty): a test that only counts hundreds of notices by id
   * would otherwise spend more CPU parsing them than delivering them.
   */
  parseMessages(on: boolean): void;
  /** resolves when at least n messages have arrived (rejects after timeoutMs) */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  clear(): void;
  close(): Promise<void>;
}

export interface SmtpServerOptions {
  /** require AUTH with these credentials */
  auth?: { user: string; pass: string };
  /** client timeout put into the URL, seconds (default 3: enough for a loaded machine, short enough for stall tests) */
  clientTimeoutSeconds?: number;
}

const firstAddress = (a: AddressObject | AddressObject[] | undefined): string => {
  const obj = Array.isArray(a) ? a[0] : a;
  return obj?.value[0]?.address ?? '';
};

export async function startSmtpServer(opts: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  let mode: SmtpMode = { kind: 'accept', delayMs: 0 };
  const messages: ReceivedMail[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const stalled = new Set<() => void>();
  let connections = 0;
  let parse = true;
  const notify = () => {
    for (const w of [...waiters]) {
      if (messages.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  const options: SMTPServerOptions = {
    logger: false,
    // plain SMTP on loopback: no STARTTLS to negotiate, AUTH allowed without TLS
    disabledCommands: opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    allowInsecureAuth: true,
    authOptional: !opts.auth,
    closeTimeout: 200,
    size: 1024 * 1024,
    onConnect(_session, callback) {
      connections++;
      if (mode.kind === 'stall') {
        // never answer: the client's greeting timeout fires
        stalled.add(() => callback(new Error('closing')));
        return;
      }
      callback();
    },
    onAuth(auth, _session, callback) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) return callback(null, { user: auth.username });
      return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(_address, _session, callback) {
      if (mode.kind === 'reject-rcpt') {
        return callback(Object.assign(new Error('5.1.1 mailbox unavailable (test server told to refuse)'), { responseCode: mode.code }));
      }
      callback();
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
        const finish = (mail: ReceivedMail) => {
          messages.push(mail);
          notify();
          const delay = mode.kind === 'accept' ? mode.delayMs : 0;
          if (delay > 0) setTimeout(() => callback(), delay);
          else callback();
        };
        if (!parse) {
          const id = /^message-id:\s*(.+)$/im.exec(raw)?.[1]?.trim() ?? '';
          finish({ envelopeFrom, envelopeTo, to: envelopeTo[0] ?? '', from: envelopeFrom, subject: '', text: '', messageId: id, headers: new Map(), raw });
          return;
        }
        simpleParser(raw).then(
          (parsed) =>
            finish({
              envelopeFrom,
              envelopeTo,
              to: firstAddress(parsed.to),
              from: firstAddress(parsed.from),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              messageId: parsed.messageId ?? '',
              headers: parsed.headers as Map<string, unknown>,
              raw,
            }),
          (e: Error) => callback(e),
        );
      });
    },
  };

  let server = new SMTPServer(options);
  server.on('error', () => undefined);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port));
    });
  const port = await listen(0);
  let listening = true;

  const closeServer = () =>
    new Promise<void>((resolve) => {
      for (const release of stalled) release();
      stalled.clear();
      if (!listening) return resolve();
      listening = false;
      server.close(() => resolve());
    });
  const reopen = async () => {
    if (listening) return;
    server = new SMTPServer(options);
    server.on('error', () => undefined);
    await listen(port);
    listening = true;
  };

  const credentials = opts.auth ? `${encodeURIComponent(opts.auth.user)}:${encodeURIComponent(opts.auth.pass)}@` : '';
  return {
    port,
    url: `smtp://${credentials}127.0.0.1:${port}/?timeout=${opts.clientTimeoutSeconds ?? 3}`,
    messages,
    get connections() {
      return connections;
    },
    mode: () => mode,
    async acceptAll() {
      for (const release of stalled) release();
      stalled.clear();
      mode = { kind: 'accept', delayMs: 0 };
      await reopen();
    },
    async slow(delayMs) {
      mode = { kind: 'accept', delayMs };
      await reopen();
    },
    async refuseConnections() {
      mode = { kind: 'refuse' };
      await closeServer();
    },
    async rejectRecipients(code = 550) {
      mode = { kind: 'reject-rcpt', code };
      await reopen();
    },
    async stall() {
      mode = { kind: 'stall' };
      await reopen();
    },
    parseMessages(on) {
      parse = on;
    },
    waitFor(n, timeoutMs = 10_000) {
      if (messages.length >= n) return Promise.resolve(messages.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${n} message(s), the SMTP server got ${messages.length}`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve(messages.slice());
          },
        });
      });
    },
    clear() {
      messages.length = 0;
    },
    close: closeServer,
  };
}
