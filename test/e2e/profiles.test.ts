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

describe('profile list and profile show (issue 23)', () => {
  let env: NodeJS.ProcessEnv;
  let configFile: string;
  beforeAll(() => {
    env = makeCliEnv().env;
    configFile = path.join(env.XDG_CONFIG_HOME!, 'portal-mfa', 'config.toml');
  });
  const cli = (argv: string[], extraEnv: NodeJS.ProcessEnv = {}) => runInProcess(argv, { env: { ...env, ...extraEnv } });

  it('without a config file: no profiles, said on stderr; show names the defaults; no database is created', async () => {
    const list = await cli(['profile', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toBe('');
    expect(list.stderr).toMatch(/no config file \(.*config\.toml\): no profiles/);
    const show = JSON.parse((await cli(['profile', 'show', '--json'])).stdout);
    expect(show.profile).toBeNull();
    expect(show.settings[0]).toEqual({ setting: 'database', value: expect.stringMatching(/^sqlite:.*portal\.db$/), from: 'default (embedded SQLite)' });
    expect(existsSync(show.settings[0].value.slice('sqlite:'.length))).toBe(false);
  });

  it('list: every profile, the one in use and why; passwords in URLs masked', async () => {
    mkdirSync(path.dirname(configFile), { recursive: true });
    writeFileSync(
      configFile,
      'profile = "dev"\n[profiles.dev]\ndb = "sqlite:/tmp/dev.db"\nas = "sam@support.example"\n[profiles.prod]\ndb = "mysql://mfa_admin:s3cret-pw@db.internal:3306/portal"\nsmtp_url = "smtp://mailer:mail-pw@relay.internal:587"\nmail_from = "Portal <no-reply@portal.example>"\n',
      { mode: 0o600 },
    );
    const list = await cli(['profile', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({
      configFile,
      selectedBy: 'default',
      profiles: [
        { name: 'dev', current: true, default: true, db: 'sqlite:/tmp/dev.db', as: 'sam@support.example' },
        { name: 'prod', current: false, default: false, db: 'mysql://mfa_admin:***@db.internal:3306/portal', as: null },
      ],
    });
    const byEnv = JSON.parse((await cli(['profile', 'list', '--json'], { PORTAL_MFA_PROFILE: 'prod' })).stdout);
    expect(byEnv.selectedBy).toBe('PORTAL_MFA_PROFILE');
    expect(byEnv.profiles.map((p: { current: boolean }) => p.current)).toEqual([false, true]);
    const plain = await cli(['--profile', 'prod', 'profile', 'list']);
    expect(plain.stdout.split('\n')[1]).toBe('*\tprod\tmysql://mfa_admin:***@db.internal:3306/portal\t-');
    for (const r of [list, plain]) expect(r.stdout + r.stderr).not.toMatch(/s3cret-pw|mail-pw/);
  });

  it('show: the profile in use, why, and where each setting comes from — flag over environment over profile over default', async () => {
    let r = await cli(['--profile', 'prod', 'profile', 'show', '--json'], { PORTAL_MFA_AS: 'olivia@partners.example' });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.profile).toEqual({ name: 'prod', selectedBy: '--profile' });
    const by = Object.fromEntries(doc.settings.map((s: { setting: string; value: string; from: string }) => [s.setting, [s.value, s.from]]));
    expect(by.database).toEqual(['mysql://mfa_admin:***@db.internal:3306/portal', 'profile "prod"']);
    expect(by.as).toEqual(['olivia@partners.example', 'PORTAL_MFA_AS']);
    expect(by['smtp url']).toEqual(['smtp://mailer:***@relay.internal:587', 'profile "prod"']);
    expect(by.issuer).toEqual(['Gentrack Developer Portal', 'default']);
    expect(r.stdout).not.toMatch(/s3cret-pw|mail-pw/);

    r = await cli(['profile', 'show', '--db', 'sqlite:/tmp/other.db', '--as', 'devon@example.com']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^profile {6}dev \(profile = "…" in the config file\)$/m);
    expect(r.stdout).toMatch(/^database\tsqlite:\/tmp\/other\.db\t--db$/m);
    expect(r.stdout).toMatch(/^as\tdevon@example\.com\t--as$/m);
    expect(r.stdout).toMatch(/^secrets key\t\/tmp\/other\.db\.key\tdefault \(beside the SQLite file\)$/m);

    // a profile named on the line; an unknown one is exit 10 naming those there are
    expect(JSON.parse((await cli(['profile', 'show', 'prod', '--json'])).stdout).profile).toEqual({ name: 'prod', selectedBy: 'argument' });
    const unknown = await cli(['profile', 'show', 'prdo']);
    expect(unknown.code).toBe(10);
    expect(unknown.stderr).toMatch(/no profile "prdo".*profiles there: dev, prod/);
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
