/**
 * Config profiles (SPEC §8): $XDG_CONFIG_HOME/portal-mfa/config.toml, `--profile` /
 * PORTAL_MFA_PROFILE / top-level `profile`; flags > environment > profile > defaults; credentials
 * only in a 0600 file; every bad file or value is exit 10 naming its source. In-process runs on
 * real databases (SQLite files; MariaDB for db_password_file).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveMailConfig } from '../../src/cli/config.js';
import { loadProfile } from '../../src/cli/profiles.js';
import { makeCliEnv } from '../support/cli.js';
import { describeEachDatabase } from '../support/databases.js';
import { runInProcess } from '../support/inProcess.js';

describe('config profiles', () => {
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let configFile: string;

  const writeConfig = (text: string, mode = 0o600) => {
    mkdirSync(path.dirname(configFile), { recursive: true });
    writeFileSync(configFile, text);
    chmodSync(configFile, mode);
  };
  const cli = (argv: string[], extraEnv: NodeJS.ProcessEnv = {}) => runInProcess(argv, { env: { ...env, ...extraEnv } });

  beforeAll(() => {
    env = makeCliEnv().env;
    dir = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-profiles-'));
    configFile = path.join(env.XDG_CONFIG_HOME!, 'portal-mfa', 'config.toml');
  });

  it('the selected profile supplies the database; --profile, PORTAL_MFA_PROFILE and the top-level default select it', async () => {
    const a = path.join(dir, 'a.db');
    const b = path.join(dir, 'b.db');
    writeConfig(`profile = "a"\n[profiles.a]\ndb = "sqlite:${a}"\n[profiles.b]\ndb = "sqlite:${b}"\n`);
    expect((await cli(['db', 'migrate'])).code).toBe(0);
    expect(existsSync(a)).toBe(true);
    expect(existsSync(b)).toBe(false);
    expect((await cli(['db', 'migrate'], { PORTAL_MFA_PROFILE: 'b' })).code).toBe(0);
    expect(existsSync(b)).toBe(true);
    // --profile beats the environment
    const r = await cli(['--profile', 'a', 'db', 'status', '--json'], { PORTAL_MFA_PROFILE: 'nope' });
    expect(r.code, r.stderr).toBe(0);
  });

  it('precedence: --db over PORTAL_MFA_DB over the profile', async () => {
    const p = path.join(dir, 'p.db');
    const e = path.join(dir, 'e.db');
    const f = path.join(dir, 'f.db');
    writeConfig(`[profiles.x]\ndb = "sqlite:${p}"\n`);
    expect((await cli(['--profile', 'x', 'db', 'migrate'], { PORTAL_MFA_DB: `sqlite:${e}` })).code).toBe(0);
    expect([existsSync(p), existsSync(e)]).toEqual([false, true]);
    expect((await cli(['--profile', 'x', '--db', `sqlite:${f}`, 'db', 'migrate'], { PORTAL_MFA_DB: `sqlite:${e}` })).code).toBe(0);
    expect([existsSync(p), existsSync(f)]).toEqual([false, true]);
  });

  it('an unknown profile is exit 10 naming the file and the profiles it has', async () => {
    writeConfig(`[profiles.prod]\ndb = "sqlite:${path.join(dir, 'x.db')}"\n`);
    const r = await cli(['--profile', 'prdo', 'status']);
    expect(r.code).toBe(10);
    expect(r.stderr).toContain(configFile);
    expect(r.stderr).toMatch(/no profile "prdo".*prod/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--profile without a config file is exit 10 naming the file', async () => {
    const bare = makeCliEnv().env;
    const r = await runInProcess(['--profile', 'prod', 'status'], { env: bare });
    expect(r.code).toBe(10);
    expect(r.stderr).toContain(path.join(bare.XDG_CONFIG_HOME!, 'portal-mfa', 'config.toml'));
  });

  it('a malformed file is exit 10 naming the file and the line; an unknown key too', async () => {
    writeConfig(`[profiles.prod]\ndb = "sqlite:/x\n`);
    let r = await cli(['status']);
    expect(r.code).toBe(10);
    expect(r.stderr).toMatch(new RegExp(`${configFile.replace(/[.]/g, '\\.')} is not valid TOML at line \\d`));
    writeConfig(`[profiles.prod]\ndatabase = "sqlite:/x"\n`);
    r = await cli(['--profile', 'prod', 'status']);
    expect(r.code).toBe(10);
    expect(r.stderr).toMatch(/unknown key "database" in \[profiles\.prod\]/);
  });

  it('credentials in a file others can read: exit 10 with the chmod to fix it; 0600 is accepted', async () => {
    const db = path.join(dir, 'c.db');
    const text = `[profiles.prod]\ndb = "sqlite:${db}"\n[profiles.mail]\nsmtp_url = "smtp://mailer:s3cret@mail.example:587"\n`;
    writeConfig(text, 0o644);
    const r = await cli(['--profile', 'prod', 'db', 'migrate']);
    expect(r.code).toBe(10);
    expect(r.stderr).toContain(`chmod 600 ${configFile}`);
    expect(r.stderr).not.toContain('s3cret');
    expect(existsSync(db)).toBe(false);
    writeConfig(text, 0o600);
    expect((await cli(['--profile', 'prod', 'db', 'migrate'])).code).toBe(0);
    // without credentials a readable file is fine
    writeConfig(`[profiles.prod]\ndb = "sqlite:${db}"\n`, 0o644);
    expect((await cli(['--profile', 'prod', 'db', 'status', '--json'])).code).toBe(0);
  });

  it('a bad db in the profile is exit 10 naming the profile and file; PORTAL_MFA_DB=foo names the variable; --db foo stays a usage error', async () => {
    writeConfig(`[profiles.bad]\ndb = "postgres://x/y"\n`);
    let r = await cli(['--profile', 'bad', 'db', 'status']);
    expect(r.code).toBe(10);
    expect(r.stderr).toContain(`db of profile "bad" in ${configFile}`);
    writeConfig('');
    r = await cli(['db', 'status'], { PORTAL_MFA_DB: 'foo' });
    expect(r.code).toBe(10);
    expect(r.stderr).toMatch(/^error: PORTAL_MFA_DB: /);
    r = await cli(['--db', 'foo', 'db', 'status']);
    expect(r.code).toBe(2);
  });

  it('profile `as`, `issuer`, `smtp_url` and `mail_from` sit under the environment', async () => {
    writeConfig(
      `profile = "p"\n[profiles.p]\nas = "alice@acme.example"\nissuer = "Acme Portal"\nsmtp_url = "smtp://u:pw@mail.example:25"\nmail_from = "mfa@acme.example"\n`,
    );
    const profile = loadProfile(undefined, env)!;
    expect(profile).toMatchObject({ name: 'p', as: 'alice@acme.example', issuer: 'Acme Portal' });
    expect(resolveMailConfig({}, env, profile)).toEqual({ smtpUrl: 'smtp://u:pw@mail.example:25', mailFrom: 'mfa@acme.example' });
    expect(resolveMailConfig({}, { ...env, PORTAL_MFA_SMTP_URL: 'smtp://other:25' }, profile)).toEqual({
      smtpUrl: 'smtp://other:25',
      mailFrom: 'mfa@acme.example',
    });
    expect(resolveMailConfig({}, env, undefined)).toEqual({});
  });
});

describeEachDatabase('db_password_file', (getDb) => {
  it('supplies the password of a mysql URL given without one; the password is never printed', async ({ skip }) => {
    const db = getDb();
    if (db.dialect !== 'mysql') return skip(); // a password is a MySQL matter
    const env = makeCliEnv().env;
    const url = new URL(db.url);
    const password = decodeURIComponent(url.password);
    expect(password).not.toBe('');
    url.password = '';
    const pwFile = path.join(env.HOME!, 'db-password');
    writeFileSync(pwFile, password + '\n', { mode: 0o600 });
    const configFile = path.join(env.XDG_CONFIG_HOME!, 'portal-mfa', 'config.toml');
    mkdirSync(path.dirname(configFile), { recursive: true });
    writeFileSync(configFile, `[profiles.prod]\ndb = "${url.toString()}"\ndb_password_file = "${pwFile}"\n`, { mode: 0o600 });
    const r = await runInProcess(['--profile', 'prod', 'db', 'migrate'], { env: { ...env, PORTAL_MFA_KEY: Buffer.alloc(32, 7).toString('base64') } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(password);
    // without the password file the same URL is refused by the server
    writeFileSync(configFile, `[profiles.prod]\ndb = "${url.toString()}"\n`, { mode: 0o600 });
    const denied = await runInProcess(['--profile', 'prod', 'db', 'status'], { env });
    expect(denied.code).toBe(10);
  });
});
