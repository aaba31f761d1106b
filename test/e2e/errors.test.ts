/**
 * Black-box tests of how the built binary fails: exit codes (SPEC §4), one-line errors on stderr,
 * no secrets in messages, help and version output.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { describeRun, expectOneLineError, makeCliEnv, REPO_ROOT, runCli, runCliProcess, type CliEnv } from '../support/cli.js';
import type {} from '../support/globalSetup.js';

const PKG_VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('errors and help through the CLI', () => {
  let cli: CliEnv;
  const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}, timeoutMs?: number) => runCli(args, { env: { ...cli.env, ...extraEnv }, timeoutMs });
  /** `--help`, `--version` and no arguments take the launcher's fast paths (bin/portal-mfa.js): run the binary. */
  const launch = (args: string[]) => runCliProcess(args, { env: cli.env });
  const embeddedDb = () => path.join(cli.env.XDG_DATA_HOME!, 'portal-mfa', 'portal.db');

  beforeAll(() => {
    cli = makeCliEnv();
  });

  describe('usage errors (exit 2)', () => {
    it('unknown command', async () => {
      const r = await run(['frobnicate']);
      expectOneLineError(r, 2, /unknown command 'frobnicate'/);
      expect(r.stdout).toBe('');
    });

    it('a mistyped command is still a one-line error (with the suggestion on that line)', async () => {
      const r = await run(['stauts']);
      expectOneLineError(r, 2, /unknown command 'stauts'.*status/);
    });

    it('unknown flag, global and on a subcommand', async () => {
      expectOneLineError(await run(['--frobnicate', 'db', 'status']), 2, /unknown option '--frobnicate'/);
      expectOneLineError(await run(['db', 'status', '--frobnicate']), 2, /unknown option '--frobnicate'/);
      expect(existsSync(embeddedDb())).toBe(false);
    });

    it('an option missing its value', async () => {
      expectOneLineError(await run(['db', 'status', '--db']), 2, /--db/);
    });

    it('--db ftp://x: unsupported URL', async () => {
      expectOneLineError(await run(['--db', 'ftp://x', 'db', 'status']), 2, /unsupported database URL: ftp:\/\/x/);
    });

    it('--db sqlite: names no file', async () => {
      expectOneLineError(await run(['--db', 'sqlite:', 'db', 'status']), 2, /sqlite/);
    });

    it('--db with a password and no database name does not print the password', async () => {
      const r = await run(['--db', 'mysql://u:Sekr3tPw@127.0.0.1', 'db', 'status']);
      expectOneLineError(r, 2, /names no database/);
      expect(r.stderr).not.toContain('Sekr3tPw');
    });

    it('an invalid --db URL with an un-encoded "/" in the password does not print the password', async () => {
      const r = await run(['--db', 'mysql://u:Sekr/3tPw@127.0.0.1/x', 'db', 'status']);
      expectOneLineError(r, 2);
      expect(r.stderr).not.toContain('Sekr');
      expect(r.stderr).not.toContain('3tPw');
    });

    it('a malformed percent-escape in the --db password is a usage error, not an internal one', async () => {
      const r = await run(['--db', 'mysql://u:%zz@127.0.0.1/x', 'db', 'status']);
      expectOneLineError(r, 2);
      expect(r.stderr).not.toMatch(/unexpected error|bug/i);
    });

    it('PORTAL_MFA_DB is validated like --db, but is a configuration error naming the variable (exit 10, SPEC §8)', async () => {
      expectOneLineError(await run(['db', 'status'], { PORTAL_MFA_DB: 'ftp://x' }), 10, /^error: PORTAL_MFA_DB: unsupported database URL/);
      expectOneLineError(await run(['--db', 'ftp://x', 'db', 'status']), 2, /unsupported database URL/);
    });
  });

  describe('configuration and database errors (exit 10)', () => {
    it('connection refused: names the problem, never the password', async () => {
      const r = await run(['--db', 'mysql://u:secret@127.0.0.1:1/x', 'db', 'status']);
      expectOneLineError(r, 10, /connection refused/);
      expect(r.stderr).toContain('127.0.0.1:1');
      expect(r.stderr).not.toContain('secret');
      expect(r.stdout).toBe('');
    });

    it('PORTAL_MFA_WINDOW out of range is named, before any database is touched', async () => {
      const r = await run(['demo'], { PORTAL_MFA_WINDOW: '9' });
      expectOneLineError(r, 10, /PORTAL_MFA_WINDOW/);
      expect(r.stderr).toMatch(/\b9\b/);
      expect(existsSync(embeddedDb())).toBe(false);
    });

    it('PORTAL_MFA_WINDOW that is not a number', async () => {
      expectOneLineError(await run(['demo'], { PORTAL_MFA_WINDOW: 'wide' }), 10, /PORTAL_MFA_WINDOW/);
    });

    describe('unusable SQLite paths', () => {
      let dir: string;
      beforeAll(() => {
        dir = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-errors-'));
      });
      afterAll(() => {
        rmSync(dir, { recursive: true, force: true });
      });

      it('a path that is a directory', async () => {
        const r = await run(['--db', `sqlite:${dir}`, 'db', 'status']);
        expectOneLineError(r, 10, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      });

      it('a path below a regular file', async () => {
        const file = path.join(REPO_ROOT, 'package.json');
        expectOneLineError(await run(['--db', `sqlite:${file}/x.db`, 'db', 'status']), 10, /package\.json/);
      });

      it('a file that is not a SQLite database', async () => {
        const r = await run(['--db', `sqlite:${path.join(REPO_ROOT, 'package.json')}`, 'db', 'status']);
        expectOneLineError(r, 10, /not a valid SQLite database|SQLite/);
      });

      it('a directory that cannot be created (/proc) fails at once', async () => {
        // mkdir -p below /proc fails with ENOENT; it must not hang (even running as root).
        const r = await run(['--db', 'sqlite:/proc/nope/x.db', 'db', 'status'], {}, 8_000);
        expectOneLineError(r, 10, /\/proc\/nope/);
      });

      it('a file that cannot be created (/proc)', async () => {
        expectOneLineError(await run(['--db', 'sqlite:/proc/x.db', 'demo'], {}, 8_000), 10, /\/proc\/x\.db/);
      });
    });

    describe('MariaDB server errors', () => {
      const serverUrl = inject('mysqlServerUrl');
      const withServer = serverUrl ? it : it.skip;
      const serverWith = (change: (u: URL) => void) => {
        const u = new URL(serverUrl);
        change(u);
        return u.toString();
      };

      withServer('wrong password: names the user/password problem, prints no password', async () => {
        const realPassword = decodeURIComponent(new URL(serverUrl).password);
        const url = serverWith((u) => {
          u.password = 'Wr0ngPassw0rd';
          u.pathname = '/mysql';
        });
        const r = await run(['--db', url, 'db', 'status']);
        expectOneLineError(r, 10, /user.*password|password.*user|refused the login|access denied/i);
        expect(r.stderr).toMatch(/password/i);
        expect(r.stderr).not.toContain('Wr0ngPassw0rd');
        if (realPassword) expect(r.stderr).not.toContain(realPassword);
      });

      withServer('unknown database: names it, prints no password', async () => {
        const realPassword = decodeURIComponent(new URL(serverUrl).password);
        const url = serverWith((u) => {
          u.pathname = '/pmfa_no_such_db_4711';
        });
        const r = await run(['--db', url, 'db', 'status']);
        expectOneLineError(r, 10, /unknown database.*pmfa_no_such_db_4711/i);
        if (realPassword) expect(r.stderr).not.toContain(realPassword);
      });
    });
  });

  describe('help and version (exit 0)', () => {
    it('help exit-codes lists every exit code of SPEC §4', async () => {
      const r = await run(['help', 'exit-codes']);
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stderr).toBe('');
      for (const code of [0, 1, 2, 3, 4, 5, 6, 10, 130]) {
        expect(r.stdout, `exit code ${code}`).toMatch(new RegExp(`^\\s*${code}\\s+\\S`, 'm'));
      }
      expect(r.stdout).toMatch(/^\s*130\s+.*cancel/im);
      expect(r.stdout).toMatch(/^\s*10\s+.*(configuration|database)/im);
    });

    it('help on an unknown topic is a usage error', async () => {
      expectOneLineError(await run(['help', 'nonsense-topic']), 2, /nonsense-topic/);
    });

    it('--help prints usage with the commands', async () => {
      const r = await launch(['--help']);
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^Usage: portal-mfa/m);
      for (const cmd of ['demo', 'db']) expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
      expect(r.stdout).toContain('--db');
    });

    it('no arguments at all prints the same help on stdout and exits 0 (like --help)', async () => {
      const bare = await launch([]);
      const help = await launch(['--help']);
      expect(bare.code, describeRun(bare)).toBe(0);
      expect(bare.stderr).toBe('');
      expect(bare.stdout).toBe(help.stdout);
    });

    it('a command group without its subcommand is a usage error (exit 2) with its help on stderr', async () => {
      const r = await run(['db']);
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/migrate/);
    });

    it('db --help lists migrate, rollback and status', async () => {
      const r = await run(['db', '--help']);
      expect(r.code, describeRun(r)).toBe(0);
      for (const sub of ['migrate', 'rollback', 'status']) expect(r.stdout).toMatch(new RegExp(`^\\s+${sub}\\b`, 'm'));
    });

    it('--version prints the package.json version', async () => {
      const r = await launch(['--version']);
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stdout.trim()).toBe(PKG_VERSION);
      expect(r.stderr).toBe('');
    });
  });
});
