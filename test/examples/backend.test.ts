/**
 * Issue 22's example portal backend (examples/backend), driven over HTTP as a browser would: the
 * two-page login, the trusted-device cookie, an enrolment spanning requests, a recovery-code login
 * and an org admin's disable — with the app started as an ES module (server.mjs) and as CommonJS
 * (server.cjs), on SQLite and MariaDB. The app imports 'portal-mfa' by name (the package's own
 * exports). No clock is injected: codes are taken at the real step, and a later login uses the
 * next step's code, which the window accepts and replay protection does not refuse.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.js';
import { totpAt } from '../support/independentTotp.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'portal-mfa.js');
const step = () => Math.floor(Date.now() / 30_000);
const secretOf = (uri: string) => new URL(uri).searchParams.get('secret')!;

// biome-ignore lint/suspicious/noExplicitAny: a response body, read by the assertions that check it
type Body = Record<string, any>;

/** A browser: a cookie jar and JSON requests. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(
    private readonly base: string,
    readonly userAgent: string,
  ) {}
  async call(method: string, url: string, body?: unknown): Promise<{ status: number; json: Body }> {
    const res = await fetch(this.base + url, {
      method,
      headers: {
        'content-type': 'application/json',
        'user-agent': this.userAgent,
        cookie: [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; '),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const [name, value] = [pair!.slice(0, pair!.indexOf('=')), decodeURIComponent(pair!.slice(pair!.indexOf('=') + 1))];
      if (attrs.some((a) => a.trim() === 'Max-Age=0')) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, json: (await res.json()) as Body };
  }
}

const password = (email: string) => `${email.split('@')[0]}-demo-pass`;

async function startApp(entry: string, env: NodeJS.ProcessEnv): Promise<{ base: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'examples', 'backend', entry)], { env: { ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const base = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      const m = /listening on (http:\/\/\S+)/.exec(c.toString());
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`${entry} exited ${code}: ${err}`)));
  });
  return { base, child };
}

describeEachDatabase('example portal backend (issue 22)', (getDb) => {
  const key = randomBytes(32).toString('base64');
  let env: NodeJS.ProcessEnv;
  const apps: ChildProcess[] = [];

  beforeAll(() => {
    env = { PATH: process.env.PATH, HOME: '/nonexistent', NO_COLOR: '1', PORTAL_DB: getDb().url, PORTAL_MFA_KEY: key };
    for (const argv of [['db', 'migrate'], ['demo']]) execFileSync(process.execPath, [BIN, '--db', getDb().url, ...argv], { env, stdio: 'pipe' });
  });
  afterAll(async () => {
    for (const child of apps) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });

  /** Sign in without MFA, confirm the password, enrol and confirm — four requests, no password kept by the app. */
  async function enrol(browser: Browser, email: string) {
    expect((await browser.call('POST', '/login', { email, password: password(email) })).json).toMatchObject({ status: 'signed-in' });
    // the enrolment needs the password confirmed: asked for, not remembered
    expect((await browser.call('POST', '/mfa/enrol')).json.error.code).toBe('missing_input');
    expect((await browser.call('POST', '/confirm-password', { password: password(email) })).status).toBe(200);
    const started = await browser.call('POST', '/mfa/enrol');
    expect(started.status).toBe(200);
    const secret = secretOf(started.json.otpauthUri);
    const at = step();
    const confirmed = await browser.call('POST', '/mfa/confirm', { code: totpAt(secret, at) });
    expect(confirmed.status, JSON.stringify(confirmed.json)).toBe(200);
    expect(confirmed.json.recoveryCodes).toHaveLength(10);
    expect((await browser.call('GET', '/me')).json).toMatchObject({ email });
    await browser.call('POST', '/logout');
    return { secret, at, recoveryCodes: confirmed.json.recoveryCodes as string[] };
  }

  for (const [entry, member, admin, target, org] of [
    ['server.mjs', 'devon@example.com', 'alice@acme.example', 'dave@acme.example', undefined],
    ['server.cjs', 'frank@globex.example', 'olivia@partners.example', 'erin@acme.example', 'acme'],
  ] as const) {
    it(`${entry}: enrolment across requests, two-page login, trusted-device cookie, recovery-code login, an admin's disable`, async () => {
      const { base, child } = await startApp(entry, env);
      apps.push(child);
      const browser = new Browser(base, `test-browser/${entry}`);

      const { secret, at, recoveryCodes } = await enrol(browser, member);

      // the password page answers an unknown email and a wrong password alike
      const unknown = await browser.call('POST', '/login', { email: `nobody-${entry}@example.com`, password: 'x' });
      const wrong = await browser.call('POST', '/login', { email: member, password: 'wrong' });
      expect([unknown.status, unknown.json]).toEqual([wrong.status, wrong.json]);
      expect(wrong.json.error.code).toBe('wrong_password');

      // two pages: the password sets only a challenge cookie; the code completes it and trusts this browser
      const first = await browser.call('POST', '/login', { email: member, password: password(member) });
      expect(first.json).toMatchObject({ status: 'code-needed' });
      expect(browser.cookies.has('login')).toBe(true);
      expect(browser.cookies.has('sid')).toBe(false);
      const challenge = browser.cookies.get('login')!;
      const second = await browser.call('POST', '/login/code', { code: totpAt(secret, at + 1), trustDevice: true });
      expect(second.json).toMatchObject({ status: 'signed-in', email: member });
      expect(browser.cookies.has('device')).toBe(true);
      expect((await browser.call('GET', '/me')).json).toMatchObject({ email: member });
      // the challenge was single use
      browser.cookies.set('login', challenge);
      expect((await browser.call('POST', '/login/code', { code: totpAt(secret, at + 1) })).json.error.code).toBe('challenge_invalid');
      await browser.call('POST', '/logout');

      // the trusted-device cookie stands in for the code
      expect((await browser.call('POST', '/login', { email: member, password: password(member) })).json).toMatchObject({ status: 'signed-in' });
      await browser.call('POST', '/logout');

      // another browser, phone lost: a recovery code
      const other = new Browser(base, 'other-browser');
      expect((await other.call('POST', '/login', { email: member, password: password(member) })).json).toMatchObject({ status: 'code-needed' });
      expect((await other.call('POST', '/login/code', { recoveryCode: recoveryCodes[0] })).json).toMatchObject({ status: 'signed-in' });
      expect((await other.call('GET', '/me')).json).toMatchObject({ recoveryCodesLeft: 9 });

      // an organisation admin (who must enrol first: acme requires MFA) removes a member's MFA
      const targetBrowser = new Browser(base, 'target-browser');
      await enrol(targetBrowser, target);
      const adminBrowser = new Browser(base, 'admin-browser');
      const adminMfa = await enrol(adminBrowser, admin);
      expect((await adminBrowser.call('POST', '/login', { email: admin, password: password(admin) })).json).toMatchObject({ status: 'code-needed' });
      expect((await adminBrowser.call('POST', '/login/code', { code: totpAt(adminMfa.secret, adminMfa.at + 1) })).json).toMatchObject({ status: 'signed-in' });
      // a sensitive change: refused until the password is confirmed, then done on a later request
      expect((await adminBrowser.call('POST', '/admin/disable', { email: target, org })).json.error.code).toBe('missing_input');
      expect((await adminBrowser.call('POST', '/confirm-password', { password: password(admin) })).status).toBe(200);
      const disabled = await adminBrowser.call('POST', '/admin/disable', { email: target, org });
      expect(disabled.status, JSON.stringify(disabled.json)).toBe(200);
      expect((await targetBrowser.call('POST', '/login', { email: target, password: password(target) })).json).toMatchObject({ status: 'signed-in' });
      expect((await targetBrowser.call('GET', '/me')).json).toMatchObject({ email: target, mfa: 'none' });
      // the audit row names the admin, the member, the portal that vouched and the browser's request
      const audit = await adminBrowser.call('GET', '/admin/audit');
      const row = (audit.json.events as Body[]).find((e) => /disable/.test(e.action) && e.outcome === 'success' && e.target === target);
      expect(row, JSON.stringify(audit.json)).toMatchObject({
        actor: admin,
        request: { vouchedBy: 'example-portal', ip: '127.0.0.1', userAgent: 'admin-browser' },
      });
    });
  }
});
