/**
 * SPEC §7: the notification outbox and its delivery, on SQLite and a real MariaDB, asserted from a
 * real SMTP server's side (test/support/smtpServer.ts). Notices are queued with queueNotification in
 * the test's own transactions (as the use cases do), delivered by `notify send` (in-process, with a
 * clock that can jump past retry delays and leases) and by the built binary for the SIGKILL case.
 * Notices go to the relay and sender of the portal's delivery policy (stored as support would with
 * `policy set --smtp-relay … --mail-from …`); the operator's PORTAL_MFA_SMTP_URL names the same relay
 * and lends only its options (the short timeout), and the operator's PORTAL_MFA_MAIL_FROM is never
 * the sender.
 */
import { spawn } from 'node:child_process';
import type { Knex } from 'knex';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { deliverQueuedNotifications } from '../../src/cli/deliverQueued.js';
import type { IOStreams } from '../../src/cli/io.js';
import { generateKeyBase64 } from '../../src/core/primitives/secretBox.js';
import { claimBatch, deliverNotifications, LEASE_MS, MAX_ATTEMPTS, retryDelay } from '../../src/core/notify/delivery.js';
import { DELIVERY_CONCURRENCY } from '../../src/cli/deliveryProgress.js';
import type { NotificationEvent } from '../../src/core/notify/events.js';
import { queueNotification, type NotifyDeps } from '../../src/core/notify/outbox.js';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { maskDatabaseUrl, parseDatabaseUrl } from '../../src/db/url.js';
import { shellWord } from '../../src/cli/invocation.js';
import { findUserByEmail } from '../../src/core/rules/identity.js';
import { within } from '../../src/db/store.js';
import { readPolicy } from '../../src/core/rules/policy.js';
import { resolveRelay } from '../../src/mail/relay.js';
import { createSmtpMailer } from '../../src/mail/smtpMailer.js';
import { resolveSmtpConfig } from '../../src/mail/smtpConfig.js';
import { BIN, describeRun, makeCliEnv, runCli, runCliProcess, type CliResult } from '../support/cli.js';
import { describeEachDatabase } from '../support/databases.js';
import { setDeliveryPolicy } from '../support/deliveryPolicy.js';
import { runInProcess } from '../support/inProcess.js';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../support/smtpServer.js';
import { ALICE, DAVE, DEVON, ERIN, SAM, type Account, cheapDemoPasswords } from '../support/scenario.js';
import { PassThrough, Readable } from 'node:stream';

/** the sender in the portal's delivery policy */
const FROM = 'Developer Portal <no-reply@portal.example>';
/** the operator's own PORTAL_MFA_MAIL_FROM: never the sender of a notice */
const OPERATOR_FROM = 'Operator <ops@operator.example>';
const HOST = 'notify-test-host';

/** The notice id in a Message-ID such as <portal-mfa.notice.17.1764597240000@portal.example>. */
const noticeIdOf = (m: ReceivedMail) => Number(/portal-mfa\.notice\.(\d+)\./.exec(m.messageId)?.[1] ?? NaN);

describeEachDatabase('notifications: outbox and SMTP delivery (SPEC §7)', (getDb) => {
  let db: Database;
  let knex: Knex;
  let url: string;
  let baseEnv: NodeJS.ProcessEnv;
  let env: NodeJS.ProcessEnv;
  let smtp: TestSmtpServer;
  /** the fake "now" of in-process runs, starting at the real time so spawned binaries agree */
  let now: number;
  const clock = () => now;

  const notifyDeps = (queued?: number[]): NotifyDeps => ({
    clock,
    settings: { issuer: 'Acme Developer Portal' },
    origin: { host: HOST, osUser: 'tester' },
    queuedNotifications: queued,
  });
  const userOf = async (a: Account) => {
    const u = (await findUserByEmail(db.store, a.email))!;
    return { id: u.id, email: u.email };
  };
  /** Queue notices in one transaction, as a use case would; returns their ids. */
  const queue = async (items: [Account, NotificationEvent][]): Promise<number[]> => {
    const ids: number[] = [];
    const users = new Map<string, { id: string; email: string }>();
    for (const [who] of items) if (!users.has(who.email)) users.set(who.email, await userOf(who));
    await knex.transaction(async (trx) => {
      for (const [who, event] of items) await queueNotification(within(db.store, trx), notifyDeps(ids), users.get(who.email)!, event);
    });
    return ids;
  };
  const rows = (ids?: number[]) => {
    const q = knex('mfa_notifications').orderBy('id').select('*');
    if (ids) q.whereIn('id', ids);
    return q.then((rs: Record<string, unknown>[]) =>
      rs.map((r) => ({
        ...r,
        id: Number(r.id),
        attempts: Number(r.attempts),
        next_attempt_at: Number(r.next_attempt_at),
        sent_at: r.sent_at === null ? null : Number(r.sent_at),
      })),
    );
  };
  const send = (args: string[] = [], e: NodeJS.ProcessEnv = env) => runInProcess(['--db', url, 'notify', 'send', ...args], { env: e, clock });
  const ok = (r: CliResult) => {
    expect(r.code, describeRun(r)).toBe(0);
    return r;
  };

  /** A command's context (as main.ts makes it) whose stderr the test reads, for delivery after a command. */
  const ctxWith = (e: NodeJS.ProcessEnv, quiet = false, json = false, dbUrl = url, verbose = false) => {
    const stderr = new PassThrough();
    let text = '';
    stderr.on('data', (c: Buffer) => (text += c.toString()));
    const io: IOStreams = {
      stdin: Readable.from([]),
      stdout: new PassThrough(),
      stderr,
      stdinIsTTY: false,
      stdoutIsTTY: false,
      stderrIsTTY: false,
      color: false,
      colorErr: false,
      canPrompt: false,
    };
    const ctx = createContext({ db: dbUrl, quiet, json, verbose }, { env: e, io, clock });
    // (--verbose also names the database when it opens: in a command that was said before, by the command)
    return { ctx, stderr: () => text.replace(/^verbose: using .*\n/, '') };
  };

  beforeAll(async () => {
    url = getDb().url;
    baseEnv = makeCliEnv({ PORTAL_MFA_KEY: generateKeyBase64() }).env;
    for (const args of [['db', 'migrate'], ['demo']]) {
      const r = await runCli(['--db', url, ...args], { env: baseEnv });
      expect(r.code, describeRun(r)).toBe(0);
    }
    db = await openDatabase(parseDatabaseUrl(url));
    knex = db.knex;
    await cheapDemoPasswords(knex);
    smtp = await startSmtpServer();
  });

  afterAll(async () => {
    await smtp?.close();
    await db?.close();
  });

  beforeEach(async () => {
    now = Date.now();
    await smtp.acceptAll();
    smtp.clear();
    smtp.parseMessages(true);
    await knex('mfa_notifications').delete();
    // support's relay (no credentials); the operator's URL names the same relay
    await setDeliveryPolicy(db.store, { relay: `smtp://127.0.0.1:${smtp.port}`, from: FROM });
    env = { ...baseEnv, PORTAL_MFA_SMTP_URL: smtp.url, PORTAL_MFA_MAIL_FROM: OPERATOR_FROM };
  });

  afterEach(async () => {
    await smtp.acceptAll();
  });

  it("queue → notify send: exactly one mail to the user, from the policy's sender, with the facts; the row is marked sent", async () => {
    const [id] = await queue([[ERIN, { kind: 'mfa-reset-support', by: SAM.email, ticket: 'SUP-4711' }]]);
    const r = ok(await send(['--json']));
    expect(JSON.parse(r.stdout)).toMatchObject({ sent: 1, failed: 0, stillPending: 0, errors: [] });

    const [mail] = await smtp.waitFor(1);
    expect(smtp.messages).toHaveLength(1);
    expect(mail!.envelopeTo).toEqual([ERIN.email]);
    expect(mail!.to).toBe(ERIN.email);
    expect(mail!.from).toBe('no-reply@portal.example');
    expect(mail!.envelopeFrom).toBe('no-reply@portal.example');
    expect(mail!.raw).not.toContain('operator.example');
    expect(mail!.subject).toBe('[Acme Developer Portal] Two-factor authentication reset by support');
    expect(mail!.text).toContain(`for your account ${ERIN.email}`);
    expect(mail!.text).toContain(`By:    ${SAM.email}, support representative (ticket SUP-4711)`);
    expect(mail!.text).toContain(`From:  ${HOST}`);
    expect(mail!.text).toMatch(/When: {2}\w+day \d{1,2} \w+ \d{4}, \d\d:\d\d UTC/);
    expect(mail!.text).toContain('contact support at once and quote ticket SUP-4711');
    expect(mail!.headers.get('auto-submitted')).toBe('auto-generated');
    expect(noticeIdOf(mail!)).toBe(id);
    expect(mail!.messageId).toMatch(/@portal\.example>$/);

    const [row] = await rows([id!]);
    expect(row).toMatchObject({
      status: 'sent',
      attempts: 1,
      last_error: null,
      sent_at: now,
      user_id: (await userOf(ERIN)).id,
      email: ERIN.email,
      event: 'mfa-reset-support',
    });

    // a second run finds nothing to do
    const again = ok(await send());
    expect(again.stdout).toMatch(/nothing to send/);
    expect(smtp.messages).toHaveLength(1);
  });

  it('a change that rolls back leaves no notice, and delivering its id sends nothing', async () => {
    const ids: number[] = [];
    const dave = await userOf(DAVE);
    await expect(
      knex.transaction(async (trx) => {
        await queueNotification(within(db.store, trx), notifyDeps(ids), dave, { kind: 'mfa-enabled' });
        throw new Error('the change failed after queueing its notice');
      }),
    ).rejects.toThrow(/change failed/);
    expect(ids).toHaveLength(1);
    expect(await rows()).toEqual([]);
    const connectionsBefore = smtp.connections;
    const relay = resolveRelay((await readPolicy(db.store)).delivery, resolveSmtpConfig(env));
    expect(relay.ignored).toBeUndefined();
    const mailer = await createSmtpMailer(relay.smtp!, { concurrency: 2 });
    const result = await deliverNotifications(db.store, mailer, { ids, concurrency: 2, now: clock }).finally(() => mailer.close());
    expect(result).toMatchObject({ sent: 0, failed: 0, stillPending: 0 });
    expect(smtp.connections - connectionsBefore).toBe(0);
  });

  it('SMTP refusing connections: notify send exits 10 naming the server, rows stay pending with the error; a later run delivers each exactly once', async () => {
    const ids = await queue([
      [ALICE, { kind: 'mfa-enabled' }],
      [DAVE, { kind: 'recovery-code-used', left: 2 }],
      [ERIN, { kind: 'locked', until: now + 15 * 60_000 }],
    ]);
    await smtp.refuseConnections();
    const r = await send();
    expect(r.code, describeRun(r)).toBe(10);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: the SMTP server could not be reached \(smtp:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*\); 3 notice\(s\) stay pending/);

    const after = await rows(ids);
    expect(after.map((x) => x.status)).toEqual(['pending', 'pending', 'pending']);
    const tried = after.filter((x) => x.attempts === 1);
    expect(tried.length).toBeGreaterThanOrEqual(1);
    for (const x of tried) {
      expect(x.last_error).toMatch(/ECONNREFUSED/);
      expect(x.next_attempt_at).toBe(now + retryDelay(1));
    }
    // the ones never tried were handed back untouched: due now, no attempt counted
    for (const x of after.filter((y) => y.attempts === 0)) expect(x.next_attempt_at).toBeLessThanOrEqual(now);
    expect(smtp.messages).toHaveLength(0);

    await smtp.acceptAll();
    now += retryDelay(1) + 1;
    ok(await send());
    await smtp.waitFor(3);
    now += 24 * 60 * 60_000;
    ok(await send());
    expect(smtp.messages.map(noticeIdOf).sort((a, b) => a - b)).toEqual(ids);
    expect((await rows(ids)).map((x) => x.status)).toEqual(['sent', 'sent', 'sent']);
  });

  it("5xx on RCPT: the attempt is counted with the server's answer and retried after the backoff, then delivered once", async () => {
    const ids = await queue([
      [ALICE, { kind: 'device-trusted', label: 'work laptop', expiresAt: now + 30 * 86_400_000 }],
      [DAVE, { kind: 'recovery-codes-regenerated' }],
    ]);
    await smtp.rejectRecipients(550);
    const r = await send(['--json']);
    expect(r.code, describeRun(r)).toBe(0); // the server is up: per-notice failures are retried later
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ sent: 0, failed: 0, stillPending: 2 });
    expect(doc.errors).toHaveLength(2);
    for (const x of await rows(ids)) {
      expect(x).toMatchObject({ status: 'pending', attempts: 1, next_attempt_at: now + retryDelay(1) });
      expect(x.last_error).toMatch(/550/);
    }

    await smtp.acceptAll();
    now += retryDelay(1) - 1_000; // not due yet
    expect(ok(await send()).stdout).toMatch(/nothing to send: 2 notice\(s\) pending, none due yet/);
    expect(smtp.messages).toHaveLength(0);
    now += 2_000;
    ok(await send());
    now += retryDelay(5);
    ok(await send());
    expect(smtp.messages.map(noticeIdOf).sort((a, b) => a - b)).toEqual(ids);
    expect(await rows(ids)).toMatchObject([
      { status: 'sent', attempts: 2, last_error: null },
      { status: 'sent', attempts: 2, last_error: null },
    ]);
  });

  it('an SMTP server that never answers: the timeout leaves the row pending with the error; delivered once later', async () => {
    const [id] = await queue([[ALICE, { kind: 'hard-locked' }]]);
    await smtp.stall();
    // the operator's URL lends the relay a short timeout: the run gives up after 0.3 s, not 3
    const r = await send([], { ...env, PORTAL_MFA_SMTP_URL: `smtp://127.0.0.1:${smtp.port}/?timeout=0.3` });
    expect(r.code, describeRun(r)).toBe(10);
    expect(r.stderr).toMatch(/could not be reached \(smtp:\/\/127\.0\.0\.1:\d+: .*ETIMEDOUT/);
    const [row] = await rows([id!]);
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row!.last_error).toMatch(/ETIMEDOUT/);

    await smtp.acceptAll();
    now += retryDelay(1);
    ok(await send());
    now += retryDelay(9);
    ok(await send());
    expect(smtp.messages.map(noticeIdOf)).toEqual([id]);
  });

  it(`after ${MAX_ATTEMPTS} failed attempts a notice is failed and never tried again; notify list shows it`, async () => {
    const [id] = await queue([[DAVE, { kind: 'unlocked', by: SAM.email, ticket: 'SUP-1' }]]);
    await smtp.rejectRecipients(554);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const r = ok(await send(['--json']));
      expect(JSON.parse(r.stdout).errors, `attempt ${attempt}`).toHaveLength(1);
      const [row] = await rows([id!]);
      expect(row, `after attempt ${attempt}`).toMatchObject({ attempts: attempt, status: attempt < MAX_ATTEMPTS ? 'pending' : 'failed' });
      now += retryDelay(attempt);
    }
    expect(JSON.parse(ok(await send(['--json'])).stdout)).toMatchObject({ sent: 0, failed: 0, stillPending: 0, errors: [] });
    await smtp.acceptAll();
    now += 7 * 86_400_000;
    ok(await send());
    expect(smtp.messages).toHaveLength(0);

    const list = ok(
      await runInProcess(['--db', url, '--as', SAM.email, '--password-stdin', 'notify', 'list', '--status', 'failed', '--json'], {
        env,
        clock,
        stdin: `${SAM.password}\n`,
      }),
    );
    const listed = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id, email: DAVE.email, event: 'unlocked', status: 'failed', attempts: MAX_ATTEMPTS, nextAttemptAt: null, sentAt: null });
    expect(listed[0].lastError).toMatch(/554/);
  });

  it('two notify send processes at once: every notice is sent exactly once', async () => {
    // 60 notices, three claims of 20 (claimBatch): both runs read the same due ids and claim them at once
    const items: [Account, NotificationEvent][] = Array.from({ length: 60 }, (_, i) => [
      [ALICE, DAVE, ERIN][i % 3]!,
      { kind: 'org-reminder', organisation: 'acme', deadline: now + 86_400_000 },
    ]);
    const ids = await queue(items);
    await smtp.slow(20);
    smtp.parseMessages(false); // only their ids are counted
    // On SQLite, separate processes, as in production: in-process runs would take turns (better-sqlite3
    // is synchronous, see runCli), and the second would only find the notices claimed, never race for
    // them (a claim that ignored status and lease passed that way). On MariaDB the in-process runs
    // overlap on their own connections and race for the rows.
    const runner = url.startsWith('sqlite:') ? runCliProcess : runCli;
    const [a, b] = await Promise.all([runner(['--db', url, 'notify', 'send', '--json'], { env }), runner(['--db', url, 'notify', 'send', '--json'], { env })]);
    const sent = [a, b].map((r) => JSON.parse(ok(r).stdout).sent as number);
    expect(sent[0]! + sent[1]!).toBe(60);
    // (how the 60 split between the two depends on how fast each process starts; each is sent once either way)
    expect(smtp.messages.map(noticeIdOf).sort((x, y) => x - y)).toEqual(ids);
  });

  it('notify list: support sees the outbox (filtered by status and user); anyone else is refused with exit 5', async () => {
    const ids = await queue([
      [ALICE, { kind: 'mfa-enabled' }],
      [DAVE, { kind: 'mfa-disabled-admin', by: ALICE.email, organisation: 'acme' }],
    ]);
    ok(await send(['--limit', '1']));
    const as = (who: Account, args: string[]) =>
      runInProcess(['--db', url, '--as', who.email, '--password-stdin', 'notify', 'list', ...args], { env, clock, stdin: `${who.password}\n` });
    const lines = (r: CliResult) =>
      ok(r)
        .stdout.trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));

    const all = lines(await as(SAM, ['--json']));
    expect(all.map((n) => n.id)).toEqual([...ids].reverse()); // newest first
    expect(all.find((n) => n.id === ids[0])).toMatchObject({ status: 'sent', email: ALICE.email, event: 'mfa-enabled' });
    expect(lines(await as(SAM, ['--status', 'pending', '--json'])).map((n) => n.email)).toEqual([DAVE.email]);
    expect(lines(await as(SAM, ['--user', DAVE.email, '--json'])).map((n) => n.event)).toEqual(['mfa-disabled-admin']);

    const table = ok(await as(SAM, []));
    expect(table.stdout).toContain(`${DAVE.email}\tmfa-disabled-admin\tpending\t0`);

    // a developer (not support; devon is in no organisation, so rule 4 does not stop him first)
    const refused = await as(DEVON, ['--json']);
    expect(refused.code, describeRun(refused)).toBe(5);
    expect(await knex('mfa_audit_events').where({ actor_email: DEVON.email, action: 'notify.list', outcome: 'refused' }).count({ n: '*' }).first()).not.toEqual(
      {
        n: 0,
      },
    );
    expect(refused.stdout).toBe('');
    expect((await as(SAM, ['--status', 'bogus'])).code).toBe(2);
  });

  it("after a command: its queued notices go to the policy's relay; SMTP down is one warning line in the user's words (the operator's with --verbose); another relay is ignored; no relay is said only with --verbose", async () => {
    // delivered
    const a = ctxWith(env);
    a.ctx.queuedNotifications.push(...(await queue([[ALICE, { kind: 'device-replaced' }]])));
    await deliverQueuedNotifications(a.ctx);
    await a.ctx.close();
    expect(a.stderr()).toBe('');
    expect((await smtp.waitFor(1)).map((m) => [m.to, m.from])).toEqual([[ALICE.email, 'no-reply@portal.example']]);

    // SMTP down: one warning line, the notices stay pending for notify send
    await smtp.refuseConnections();
    const b = ctxWith(env);
    const down = await queue([
      [DAVE, { kind: 'mfa-enabled' }],
      [ERIN, { kind: 'mfa-enabled' }],
    ]);
    b.ctx.queuedNotifications.push(...down);
    await deliverQueuedNotifications(b.ctx);
    await b.ctx.close();
    // the person who ran the command: one line, no SMTP, outbox or command they cannot act on
    expect(b.stderr()).toBe('warning: 2 emails about this change could not be sent yet; they stay queued to be sent later\n');
    // an operator asks with --verbose: the relay's answer and what retries it
    const bv = ctxWith(env, false, false, url, true);
    const downToo = await queue([[DAVE, { kind: 'mfa-enabled' }]]);
    bv.ctx.queuedNotifications.push(...downToo);
    await deliverQueuedNotifications(bv.ctx);
    await bv.ctx.close();
    expect(bv.stderr()).toMatch(
      /^warning: 1 of 1 notice not sent \(smtp:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*\); kept in the outbox: portal-mfa --db \S+ notify send retries them\n$/,
    );
    expect((await rows([...down, ...downToo])).map((x) => x.status)).toEqual(['pending', 'pending', 'pending']);
    await smtp.acceptAll();

    // the person running the command names another relay (issue 20, finding 6): ignored with one note, the notice goes to the policy's relay
    const sink = await startSmtpServer();
    try {
      const r = ctxWith({ ...env, PORTAL_MFA_SMTP_URL: sink.url, PORTAL_MFA_MAIL_FROM: 'x@evil.example' });
      const [redirected] = await queue([[ERIN, { kind: 'devices-revoked', count: 1, by: null, ticket: null }]]);
      r.ctx.queuedNotifications.push(redirected!);
      await deliverQueuedNotifications(r.ctx);
      await r.ctx.close();
      expect(r.stderr()).toBe(`note: smtp://127.0.0.1:${sink.port} ignored: notices go to the portal's relay smtp://127.0.0.1:${smtp.port}\n`);
      const mails = await smtp.waitFor(2);
      expect(mails.map((m) => [m.to, m.from])).toEqual([
        [ALICE.email, 'no-reply@portal.example'],
        [ERIN.email, 'no-reply@portal.example'],
      ]);
      expect(noticeIdOf(mails[1]!)).toBe(redirected);
      expect(sink.messages).toHaveLength(0);
      expect(sink.connections).toBe(0);
    } finally {
      await sink.close();
    }

    // no relay in the portal's policy: nothing to the user (the portal's own mailer may read the
    // outbox); with --verbose one note for the operator; the operator's own SMTP does not stand in for it
    await setDeliveryPolicy(db.store, null);
    const { PORTAL_MFA_SMTP_URL: _u, PORTAL_MFA_MAIL_FROM: _f, ...noSmtp } = env;
    const pendingNote = `verbose: 1 notice to users stays pending in the outbox (the portal's delivery policy names no SMTP relay; portal-mfa --db ${shellWord(maskDatabaseUrl(url))} notify send delivers them once it does)\n`;
    const quietly = ctxWith(noSmtp);
    const [unsentQuietly] = await queue([[DAVE, { kind: 'recovery-codes-regenerated' }]]);
    quietly.ctx.queuedNotifications.push(unsentQuietly!);
    await deliverQueuedNotifications(quietly.ctx);
    await quietly.ctx.close();
    expect(quietly.stderr()).toBe('');
    const c = ctxWith(noSmtp, false, false, url, true);
    const [unsent] = await queue([[DAVE, { kind: 'recovery-codes-regenerated' }]]);
    c.ctx.queuedNotifications.push(unsent!);
    await deliverQueuedNotifications(c.ctx);
    await c.ctx.close();
    expect(c.stderr()).toBe(pendingNote);
    const own = ctxWith(env, false, false, url, true);
    const [notRedirected] = await queue([[DAVE, { kind: 'recovery-codes-regenerated' }]]);
    own.ctx.queuedNotifications.push(notRedirected!);
    await deliverQueuedNotifications(own.ctx);
    await own.ctx.close();
    expect(own.stderr()).toBe(
      `note: smtp://127.0.0.1:${smtp.port} ignored: the portal's delivery policy names no relay (support sets one with portal-mfa policy set --smtp-relay)\n${pendingNote}`,
    );
    expect((await rows([unsentQuietly!, unsent!, notRedirected!])).map((x) => [x.status, x.attempts])).toEqual([
      ['pending', 0],
      ['pending', 0],
      ['pending', 0],
    ]);
    // … no note, even with --verbose, with --quiet, nor with --json, nor after a command that failed (its error is the one line)
    const q = ctxWith(env, true, false, url, true);
    q.ctx.queuedNotifications.push(...(await queue([[DAVE, { kind: 'recovery-codes-regenerated' }]])));
    await deliverQueuedNotifications(q.ctx);
    await q.ctx.close();
    expect(q.stderr()).toBe('');
    const j = ctxWith(env, false, true, url, true);
    j.ctx.queuedNotifications.push(...(await queue([[DAVE, { kind: 'recovery-codes-regenerated' }]])));
    await deliverQueuedNotifications(j.ctx);
    await j.ctx.close();
    const f = ctxWith(env, false, false, url, true);
    f.ctx.queuedNotifications.push(...(await queue([[DAVE, { kind: 'locked', until: now + 60_000 }]])));
    await deliverQueuedNotifications(f.ctx, { commandFailed: true });
    await f.ctx.close();
    expect(j.stderr() + f.stderr()).toBe('');
    expect(smtp.messages).toHaveLength(2);
  });

  it("after a command, a database gone before delivery: one warning and the command's outcome stands; after a failed command, nothing (its error is the one line)", async () => {
    const ids = await queue([[ALICE, { kind: 'mfa-enabled' }]]);
    const connectionsBefore = smtp.connections;
    // the same kind of database, unreachable now: a port nobody listens on, or a directory that is gone
    const gone = url.startsWith('sqlite:') ? 'sqlite:/nonexistent-portal-mfa-dir/portal.db' : 'mysql://portal:gone-pw-123@127.0.0.1:1/portal';
    const succeeded = ctxWith(env, false, false, gone);
    succeeded.ctx.queuedNotifications.push(...ids);
    await deliverQueuedNotifications(succeeded.ctx); // resolves: delivery never changes the exit code (SPEC §7)
    await succeeded.ctx.close();
    expect(succeeded.stderr()).toBe('warning: the email about this change could not be sent yet; it stays queued to be sent later\n');
    // with --verbose, what an operator needs: why, and what delivers it
    const verbose = ctxWith(env, false, false, gone, true);
    verbose.ctx.queuedNotifications.push(...ids);
    await deliverQueuedNotifications(verbose.ctx);
    await verbose.ctx.close();
    const lines = verbose.stderr().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^warning: 1 notice not sent \(the portal's delivery policy could not be read: .+\); kept in the outbox: portal-mfa --db \S+ notify send delivers them$/,
    );
    expect(lines[0]).toMatch(url.startsWith('sqlite:') ? /nonexistent-portal-mfa-dir/ : /127\.0\.0\.1:1\b.*connection refused/);
    expect(lines[0]).not.toContain('gone-pw-123');
    const failed = ctxWith(env, false, false, gone);
    failed.ctx.queuedNotifications.push(...ids);
    await deliverQueuedNotifications(failed.ctx, { commandFailed: true });
    await failed.ctx.close();
    expect(failed.stderr()).toBe('');
    expect(smtp.connections - connectionsBefore).toBe(0);
    expect((await rows(ids)).map((x) => [x.status, x.attempts])).toEqual([['pending', 0]]);
  });

  it('SIGKILL in the middle of notify send loses nothing; the re-run after the lease sends the rest, and a further run sends no duplicate', async () => {
    // killed at 40 received: at most one claim (20) and the messages in flight (5) are leased, so
    // 100 leaves every kind of row (sent, leased, never claimed) and far more unclaimed than leased
    const total = 100;
    const ids = await queue(
      Array.from({ length: total }, (_, i): [Account, NotificationEvent] => [
        [ALICE, DAVE, ERIN][i % 3]!,
        { kind: 'org-mfa-required', organisation: 'acme', deadline: null },
      ]),
    );
    await smtp.slow(15);
    smtp.parseMessages(false); // only their ids are counted
    const child = spawn(process.execPath, [BIN, '--db', url, 'notify', 'send'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    await smtp.waitFor(40, 20_000);
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');

    const afterKill = await rows(ids);
    const sentInFirstRun = afterKill.filter((x) => x.status === 'sent').map((x) => x.id);
    const receivedInFirstRun = new Set(smtp.messages.map(noticeIdOf));
    expect(afterKill.filter((x) => x.status === 'failed')).toEqual([]);
    expect(sentInFirstRun.length).toBeGreaterThan(0);
    expect(sentInFirstRun.length).toBeLessThan(total); // killed before the end
    for (const id of sentInFirstRun) expect(receivedInFirstRun.has(id), `notice ${id} marked sent but never received`).toBe(true);
    // notices claimed by the killed process are held by their lease (at most one claim plus those in flight), the rest are due
    const leased = afterKill.filter((x) => x.status === 'pending' && x.next_attempt_at > Date.now());
    expect(leased.length).toBeLessThanOrEqual(claimBatch(DELIVERY_CONCURRENCY) + DELIVERY_CONCURRENCY);

    await smtp.acceptAll();
    now = Date.now() + LEASE_MS + 1_000;
    ok(await send());
    const received = smtp.messages.map(noticeIdOf);
    expect(new Set(received)).toEqual(new Set(ids)); // nothing lost
    expect((await rows(ids)).every((x) => x.status === 'sent')).toBe(true);
    // at-least-once: a duplicate only for a notice the server accepted just before the kill, before it was marked
    const counts = new Map<number, number>();
    for (const id of received) counts.set(id, (counts.get(id) ?? 0) + 1);
    const duplicates = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    for (const id of duplicates) {
      expect(receivedInFirstRun.has(id) && !sentInFirstRun.includes(id), `notice ${id} sent twice`).toBe(true);
      expect(counts.get(id)).toBe(2);
    }
    expect(duplicates.length).toBeLessThanOrEqual(5); // at most the messages in flight

    const before = smtp.messages.length;
    now += 7 * 86_400_000;
    ok(await send());
    expect(smtp.messages.length).toBe(before);
  });
});
