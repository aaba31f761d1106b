/**
 * `portal-mfa serve` as a process (the built binary) on SQLite and MariaDB: it listens, answers over
 * real HTTP on 127.0.0.1, finishes the requests in flight on SIGTERM and exits 0, and its JSON log
 * holds no secret. `service-key create|list|revoke` as the operator. The Python client example
 * performs the two-step login against it when python3 is installed.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, describeRun, makeCliEnv, REPO_ROOT, runCli } from '../support/cli.js';
import { describeEachDatabase } from '../support/databases.js';
import { currentStep, totpAt } from '../support/independentTotp.js';

const DEVON = { email: 'devon@example.com', password: 'devon-demo-pass' };
const FRANK = { email: 'frank@globex.example', password: 'frank-demo-pass' };

function startServe(dbUrl: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; base: string; stdout: () => string; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, '--db', dbUrl, 'serve', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 30_000);
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, base: m[1]!, stdout: () => out, stderr: () => err });
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

/** One POST on its own connection (node:http), resolving to the status. */
function rawPost(base: string, url: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(base + url, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const post = (base: string, url: string, body: unknown, token?: string) =>
  fetch(base + url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

describeEachDatabase('portal-mfa serve (process)', (getDb) => {
  const env = makeCliEnv({ PORTAL_MFA_KEY: randomBytes(32).toString('base64') }).env;
  const cli = (args: string[], stdin?: string) => runCli(['--db', getDb().url, ...args], { env, stdin, timeoutMs: 60_000 });
  let server: Awaited<ReturnType<typeof startServe>> | undefined;

  beforeAll(async () => {
    for (const args of [['db', 'migrate'], ['demo']]) {
      const r = await cli(args);
      expect(r.code, describeRun(r)).toBe(0);
    }
    server = await startServe(getDb().url, env);
  });
  afterAll(() => {
    if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  it('a careless operator: --trusted-proxy 0.0.0.0/0 (every client names its own address) is refused before anything listens (exit 2)', async () => {
    for (const everyone of ['0.0.0.0/0', '::/0']) {
      const r = await cli(['serve', '--listen', '127.0.0.1:0', '--trusted-proxy', everyone]);
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr).toContain('trusts every client');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('service-key create | list | revoke as the operator (the key shown once, audited with the OS user)', async () => {
    const made = await cli(['service-key', 'create', '--name', 'laravel-portal', '--scope', 'vouch', '--scope', 'reports', '--json']);
    expect(made.code, describeRun(made)).toBe(0);
    const key = JSON.parse(made.stdout);
    expect(key).toMatchObject({ name: 'laravel-portal', scopes: ['vouch', 'reports'], key: expect.stringMatching(/^pmfa_sk_/) });
    const dup = await cli(['service-key', 'create', '--name', 'laravel-portal', '--scope', 'vouch']);
    expect(dup.code).toBe(6);
    const badScope = await cli(['service-key', 'create', '--name', 'x', '--scope', 'root']);
    expect(badScope.code).toBe(2);
    const list = await cli(['service-key', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'laravel-portal', revokedAt: null })]);
    expect(list.stdout).not.toContain(key.key);
    const unconfirmed = await cli(['service-key', 'revoke', 'laravel-portal']);
    expect(unconfirmed.code).toBe(2);
    const revoked = await cli(['service-key', 'revoke', 'laravel-portal', '--yes']);
    expect(revoked.code, describeRun(revoked)).toBe(0);
    const gone = await fetch(`${server!.base}/v1/status`, { headers: { authorization: `Bearer ${key.key}`, 'x-portal-mfa-act-for': '1' } });
    expect(gone.status).toBe(401);
    const audit = await cli(['--as', 'sam@support.example', '--password-stdin', 'audit', '--action', 'service-key.*', '--json'], 'sam-demo-pass\n');
    const actions = audit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(actions.map((a: { action: string }) => a.action).sort()).toEqual(['service-key.create', 'service-key.revoke']);
  });

  it('serves the two-step login over HTTP; the Python example does it with urllib', async () => {
    const base = server!.base;
    const frank = await post(base, '/v1/sign-in', { email: FRANK.email, password: FRANK.password });
    expect(frank.status).toBe(201);
    const token = ((await frank.json()) as { token: string }).token;
    // devon enrols through the API, then signs in in two steps
    const devon = (await (await post(base, '/v1/sign-in', { email: DEVON.email, password: DEVON.password })).json()) as { token: string };
    const pending = (await (await post(base, '/v1/enrolment', { password: DEVON.password }, devon.token)).json()) as { secret: string };
    const confirmed = await post(base, '/v1/enrolment/confirm', { code: totpAt(pending.secret, currentStep()), password: DEVON.password }, devon.token);
    expect(confirmed.status).toBe(200);
    expect((await fetch(`${base}/v1/status`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    if (spawnSync('python3', ['--version']).status !== 0) return; // no python3 here: the example is not run
    // the next step's code (the confirming step is used up)
    await new Promise((r) => setTimeout(r, 0));
    const code = totpAt(pending.secret, currentStep() + 1);
    const py = spawnSync('python3', [path.join(REPO_ROOT, 'examples', 'python', 'two_step_login.py')], {
      env: { PATH: env.PATH, PORTAL_MFA_URL: base, PORTAL_MFA_EMAIL: DEVON.email, PORTAL_MFA_PASSWORD: DEVON.password, PORTAL_MFA_CODE: code },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(py.status, py.stderr).toBe(0);
    expect(py.stdout).toContain(`signed in as ${DEVON.email} (second factor: code)`);
    expect(py.stdout).toContain('MFA: active');
    expect(py.stdout).toContain('signed out');
  });

  it('on SIGTERM answers the requests in flight, then exits 0; its JSON log holds no secret', async () => {
    const s = server!;
    const incoming = () =>
      s
        .stdout()
        .split('\n')
        .filter((l) => l.includes('incoming request') && l.includes('"url":"/v1/sign-in"')).length;
    const before = incoming();
    const inFlight = Array.from({ length: 6 }, () => rawPost(s.base, '/v1/sign-in', { email: FRANK.email, password: FRANK.password }));
    // once the service has read all six (each then checks a password), it is told to stop
    for (let i = 0; i < 2000 && incoming() < before + 6; i++) await new Promise((r) => setTimeout(r, 5));
    s.child.kill('SIGTERM');
    const statuses = await Promise.all(inFlight);
    expect(statuses).toEqual([201, 201, 201, 201, 201, 201]);
    const code = await new Promise<number | null>((resolve) => (s.child.exitCode !== null ? resolve(s.child.exitCode) : s.child.once('exit', resolve)));
    expect(code).toBe(0);
    expect(s.stderr()).toContain('SIGTERM: answering the requests in flight, then stopping');
    await expect(fetch(`${s.base}/healthz`)).rejects.toThrow();
    const log = s.stdout().trim().split('\n');
    expect(log.length).toBeGreaterThan(10);
    for (const line of log) expect(() => JSON.parse(line)).not.toThrow();
    for (const secret of [DEVON.password, FRANK.password, 'Bearer', 'pmfa_sk_', '"challenge"', '"token"']) expect(s.stdout()).not.toContain(secret);
  });
});
