/**
 * Host failover and URL masking through the built binary (issue 15 "Host failover", issue 9 "the
 * database password appears in the error for a malformed URL").
 *
 *   --db mysql://user:pass@h1:p1,h2:p2/db   hosts tried in order; --verbose and `db status` say which
 *   all dead                                exit 10, one line naming every host, password masked
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findFreePort } from '../support/mariadbServer.js';
import { describeRun, expectOneLineError, makeCliEnv, runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

const PASSWORD_TEXT = 'Zq8Pw3-secret';

describe('URL masking: a malformed URL never shows its password (exit 2)', { timeout: 90_000 }, () => {
  const env = makeCliEnv().env;
  const typos = [
    `mysql:/alice:${PASSWORD_TEXT}@db.internal/portal`,
    `mysql//alice:${PASSWORD_TEXT}@db.internal/portal`,
    `mysql:alice:${PASSWORD_TEXT}@db.internal/portal`,
    `alice:${PASSWORD_TEXT}@db.internal/portal`,
    `mysql://alice:${PASSWORD_TEXT}@h1:3306,,h3/portal`,
  ];
  for (const url of typos) {
    it(`--db ${url.replace(PASSWORD_TEXT, '***')}`, async () => {
      const r = await runCli(['--db', url, 'db', 'status'], { env, timeoutMs: 60_000 });
      expectOneLineError(r, 2);
      expect(r.stderr).not.toMatch(/Zq8|Pw3|secret/);
    });
  }

  it('the same through PORTAL_MFA_DB (exit 10, naming the variable)', async () => {
    const r = await runCli(['db', 'status'], { env: { ...env, PORTAL_MFA_DB: typos[0] } });
    expectOneLineError(r, 10, /PORTAL_MFA_DB/);
    expect(r.stderr).not.toMatch(/Zq8|Pw3|secret/);
  });
});

const serverUrl = inject('mysqlServerUrl');
const describeMysql = serverUrl ? describe : describe.skip;

// each test runs two or three CLI processes: generous on a loaded machine
describeMysql(`host failover [mysql]${serverUrl ? '' : ` (skipped: ${inject('mysqlSkipReason')})`}`, { timeout: 150_000 }, () => {
  let db: TestDatabase;
  let live = ''; // 127.0.0.1:PORT of the running server
  let dead1 = '';
  let dead2 = '';
  let user = '';
  let password = '';
  let dbName = '';
  const env = makeCliEnv().env;
  const urlFor = (hosts: string[]) => `mysql://${user}:${encodeURIComponent(password)}@${hosts.join(',')}/${dbName}`;

  beforeAll(async () => {
    db = await createTestDatabase('mysql');
    const u = new URL(db.url);
    live = `127.0.0.1:${u.port}`;
    user = decodeURIComponent(u.username);
    password = decodeURIComponent(u.password);
    dbName = u.pathname.slice(1);
    // ports nobody listens on: a connection is refused at once
    dead1 = `127.0.0.1:${await findFreePort()}`;
    dead2 = `127.0.0.1:${await findFreePort()}`;
    const r = await runCli(['--db', urlFor([live]), 'db', 'migrate'], { env, timeoutMs: 60_000 });
    expect(r.code, describeRun(r)).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
  });

  it('first host dead → the second is used; --verbose and db status say which, and why the first was passed over', async () => {
    const url = urlFor([dead1, live]);
    const r = await runCli(['--verbose', '--db', url, 'db', 'status'], { env, timeoutMs: 60_000 });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stderr).toContain(`verbose: using the database server at ${live} (passed over ${dead1}: connection refused)`);
    expect(r.stdout).toMatch(new RegExp(`^server\\s+${live.replace(/\./g, '\\.')} \\(passed over ${dead1.replace(/\./g, '\\.')}: connection refused\\)$`, 'm'));
    expect(r.stdout).toContain(`mysql://${user}:***@${dead1},${live}/${dbName}`);
    expect(r.stdout + r.stderr).not.toContain(password);

    const j = await runCli(['--db', url, 'db', 'status', '--json'], { env, timeoutMs: 60_000 });
    expect(j.code, describeRun(j)).toBe(0);
    const doc = JSON.parse(j.stdout) as { host: string; database: string };
    expect(doc.host).toBe(live);
    expect(doc.database).toBe(`mysql://${user}:***@${dead1},${live}/${dbName}`);
  });

  it('the host list also comes from PORTAL_MFA_DB; a command runs on the live server', async () => {
    const r = await runCli(['--verbose', 'db', 'status', '--json'], { env: { ...env, PORTAL_MFA_DB: urlFor([dead1, dead2, live]) }, timeoutMs: 60_000 });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stderr).toContain(`using the database server at ${live} (passed over ${dead1}: connection refused; ${dead2}: connection refused)`);
  });

  it('without --verbose nothing is said on stderr', async () => {
    const r = await runCli(['--db', urlFor([dead1, live]), 'db', 'status'], { env, timeoutMs: 60_000 });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('the first host alive is used, the rest are not tried', async () => {
    const r = await runCli(['--verbose', '--db', urlFor([live, dead1]), 'db', 'status', '--json'], { env, timeoutMs: 60_000 });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stderr).toBe(`verbose: using the database server at ${live}\n`);
  });

  it('all hosts dead → exit 10, one line naming every host, password masked', async () => {
    const r = await runCli(['--db', urlFor([dead1, dead2]), 'db', 'status'], { env, timeoutMs: 60_000 });
    expectOneLineError(r, 10, new RegExp(`cannot connect to any of the database servers: ${dead1}: connection refused; ${dead2}: connection refused`));
    expect(r.stderr).not.toContain(password);
  });

  it('a wrong password is not failed over (every node would refuse it): exit 10 at once, no password shown', async () => {
    const url = `mysql://${user}:Wr0ngPassw0rd@${live},${dead1}/${dbName}`;
    const r = await runCli(['--db', url, 'db', 'status'], { env, timeoutMs: 60_000 });
    expectOneLineError(r, 10, /refused the login/);
    expect(r.stderr).not.toContain('Wr0ngPassw0rd');
    expect(r.stderr).not.toContain(password);
  });
});
