/**
 * The package as a backend team installs it (issue 22): `npm pack`, then a fresh MySQL-only project
 * that installs the tarball and mysql2 — never better-sqlite3 (no native SQLite build), nor the
 * terminal-only packages the CLI bundles — and uses the library from CommonJS and from an ES module,
 * and the CLI, against the test MariaDB. Needs the npm registry (or its cache); part of test:ci.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });

describe('npm pack into a MySQL-only project', () => {
  let dir: string;
  let tarball: string;
  let db: TestDatabase;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-pack-'));
    // dist/ is built by npm test before this project runs; packing must not build again
    const packed = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT)) as {
      filename: string;
      files: { path: string }[];
    }[];
    tarball = path.join(dir, packed[0]!.filename);
    const app = path.join(dir, 'app');
    execFileSync('mkdir', [app]);
    const mysql2 = (JSON.parse(npm(['pkg', 'get', 'devDependencies.mysql2'], ROOT)) as string) || '*';
    writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({
        name: 'mysql-only-backend',
        private: true,
        type: 'commonjs',
        dependencies: { 'portal-mfa': `file:${tarball}`, mysql2, knex: '^3.1.0' },
      }),
    );
    npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app);
    db = await createTestDatabase('mysql');
  }, 300_000);

  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships the build, not the build scripts or the sources', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    expect(files).toContain('package/dist/src/index.js');
    expect(files).toContain('package/dist/cjs/index.cjs');
    expect(files).toContain('package/dist/src/cli/portal-mfa.cjs');
    expect(files).toContain('package/LICENSE');
    expect(files).toContain('package/man/man1/portal-mfa.1');
    expect(files).toContain('package/docs/cli-reference.md');
    expect(files.filter((f) => f.startsWith('package/scripts/') || f.startsWith('package/src/') || f.startsWith('package/test/'))).toEqual([]);
  });

  it('installs without SQLite and without the terminal-only packages', () => {
    const modules = path.join(dir, 'app', 'node_modules');
    // (commander is there: knex depends on it for its own CLI; string-width too: qrcode, which `serve` uses, depends on yargs)
    for (const absent of ['better-sqlite3', '@inquirer', 'qrcode-terminal', 'cli-progress', 'nodemailer', 'chalk'])
      expect(existsSync(path.join(modules, absent)), absent).toBe(false);
    expect(readdirSync(modules)).toContain('mysql2');
  });

  it('the CLI of the installed package migrates the MariaDB database', () => {
    const r = spawnSync(path.join(dir, 'app', 'node_modules', '.bin', 'portal-mfa'), ['--db', db.url, 'db', 'migrate', '--json'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: '1' },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ current: true });
  });

  it('require() from CommonJS: schema status over the app’s own knex instance, typed errors, a clear missing-driver error', () => {
    const script = `
      const { openPortalMfa, schemaStatus, isPortalMfaError, PortalMfaError } = require('portal-mfa');
      const knex = require('knex')({ client: 'mysql2', connection: ${JSON.stringify(db.url)} });
      (async () => {
        const out = {};
        out.status = await schemaStatus({ knex });
        try { await openPortalMfa({ databaseUrl: 'sqlite:' + ${JSON.stringify(path.join(dir, 'x.db'))}, keys: ['${Buffer.alloc(32, 1).toString('base64')}'] }); }
        catch (e) { out.sqlite = { code: e.code, message: e.message, branded: isPortalMfaError(e) && e instanceof PortalMfaError }; }
        try { await openPortalMfa({ keys: [] }); } catch (e) { out.noUrl = e.code; }
        // the app's pool is still usable: portal-mfa never closed or patched it
        out.appQuery = (await knex.raw('select 1 + 1 as two'))[0][0].two;
        await knex.destroy();
        console.log(JSON.stringify(out));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: path.join(dir, 'app'), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.status).toMatchObject({ current: true, pending: [] });
    expect(out.sqlite).toMatchObject({ code: 'driver_missing', branded: true });
    expect(out.sqlite.message).toContain('better-sqlite3');
    expect(out.noUrl).toBe('invalid_input');
    expect(out.appQuery).toBe(2);
  });

  it('import from an ES module: the same API', () => {
    const file = path.join(dir, 'app', 'consumer.mjs');
    writeFileSync(
      file,
      `import { schemaStatus } from 'portal-mfa';
       const s = await schemaStatus({ databaseUrl: ${JSON.stringify(db.url)} });
       console.log(JSON.stringify(s));`,
    );
    const r = spawnSync(process.execPath, [file], { cwd: path.join(dir, 'app'), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ current: true });
  });

  it('the types resolve for import and require alike (attw --pack)', () => {
    const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'attw'), [tarball, '--format', 'json'], { encoding: 'utf8' });
    const report = JSON.parse(r.stdout) as { problems?: unknown[] } & { analysis?: { problems?: unknown[] } };
    expect(report.analysis?.problems ?? report.problems ?? []).toEqual([]);
    expect(r.status).toBe(0);
  });
});
