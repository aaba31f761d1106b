/**
 * Throw-away MariaDB server for the integration tests.
 *
 * `startMariadb()` initialises a fresh datadir under os.tmpdir(), launches
 * `mariadbd` on a free 127.0.0.1 port plus a unix socket, waits until it
 * accepts connections and creates the test account:
 *
 *   user `pmfa`@`127.0.0.1` and `pmfa`@`localhost`, password `pmfa-test-pw`,
 *   GRANT ALL PRIVILEGES ON *.* WITH GRANT OPTION (tests create databases).
 *
 * URLs returned (no database path; append `/<db>` yourself):
 *   appUrl  = mysql://pmfa:pmfa-test-pw@127.0.0.1:PORT/
 *   rootUrl = mysql://root@127.0.0.1:PORT/   (password-less root over TCP;
 *             we create `root`@`127.0.0.1` explicitly, so this works even if
 *             root@localhost were unix_socket-authenticated)
 *
 * Environment:
 *   PORTAL_MFA_TEST_MYSQL_URL  Use an existing server instead, e.g.
 *       mysql://user:pw@host:3306/ — nothing is started, stop() is a no-op,
 *       and rootUrl === appUrl === that URL. The account must be able to
 *       CREATE/DROP DATABASE.
 *   PORTAL_MFA_MARIADBD / PORTAL_MFA_MARIADB_INSTALL_DB
 *       Override the binary paths (otherwise PATH, /usr/sbin, /usr/local/sbin…).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';

const execFileP = promisify(execFile);

export const TEST_USER = 'pmfa';
export const TEST_PASSWORD = 'pmfa-test-pw';
export const ENV_URL = 'PORTAL_MFA_TEST_MYSQL_URL';

export interface MariadbServer {
  /** Password-less root over TCP (for a server we started); equals appUrl for PORTAL_MFA_TEST_MYSQL_URL. */
  rootUrl: string;
  /** mysql://pmfa:pmfa-test-pw@127.0.0.1:PORT/ — no database path. */
  appUrl: string;
  /** Stops the server and deletes its temp dir (no-op for an external server). */
  stop(): Promise<void>;
  port: number;
  /** Unix socket path; '' for an external server. */
  socket: string;
}

export interface FoundMariadb extends MariadbServer {
  /** 'env' = PORTAL_MFA_TEST_MYSQL_URL, 'spawned' = throw-away server started here. */
  source: 'env' | 'spawned';
}

// ---------------------------------------------------------------------------
// binary discovery

const SEARCH_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/mysql/bin'];

function isExecutable(p: string): boolean {
  try {
    accessSync(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findBinary(envVar: string, names: string[]): string | null {
  const override = process.env[envVar];
  if (override) return isExecutable(override) ? override : null;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SEARCH_DIRS];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return null;
}

interface Binaries {
  mariadbd: string;
  installDb: string;
}

function findBinaries(): Binaries | { missing: string } {
  const mariadbd = findBinary('PORTAL_MFA_MARIADBD', ['mariadbd', 'mysqld']);
  const installDb = findBinary('PORTAL_MFA_MARIADB_INSTALL_DB', ['mariadb-install-db', 'mysql_install_db']);
  if (!mariadbd || !installDb) {
    const missing = [!mariadbd && 'mariadbd', !installDb && 'mariadb-install-db'].filter(Boolean).join(' and ');
    return { missing };
  }
  return { mariadbd, installDb };
}

/**
 * Why no MariaDB can be used, or null if one can (env URL set, or binaries installed).
 * findOrStartMariadb() returns null exactly when this returns a string.
 */
export function mariadbUnavailableReason(): string | null {
  if (process.env[ENV_URL]) return null;
  const bins = findBinaries();
  if ('missing' in bins) {
    return `${bins.missing} not installed and ${ENV_URL} not set`;
  }
  return null;
}

// ---------------------------------------------------------------------------
// helpers

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not determine free port'));
        return;
      }
      const { port } = addr;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function tail(text: string, lines = 25): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await waitForExit(child, 10_000))) {
    child.kill('SIGKILL');
    await waitForExit(child, 5_000);
  }
}

/**
 * Detached `sh` loop that polls our pid; when we are gone it SIGTERMs mariadbd (SIGKILL after 10 s)
 * and deletes the temp dir. Killed by stop(). Returns undefined if it can't be started.
 */
export function startWatchdog(serverPid: number | undefined, baseDir: string): ChildProcess | undefined {
  if (serverPid === undefined || !isExecutable('/bin/sh')) return undefined;
  const script = [
    'parent=$1; server=$2; dir=$3',
    'while kill -0 "$parent" 2>/dev/null; do sleep 1; done',
    'kill -TERM "$server" 2>/dev/null',
    'i=0; while kill -0 "$server" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done',
    'kill -KILL "$server" 2>/dev/null',
    'rm -rf "$dir"',
  ].join('\n');
  try {
    const wd = spawn('/bin/sh', ['-c', script, 'portal-mfa-mariadb-watchdog', String(process.pid), String(serverPid), baseDir], {
      detached: true,
      stdio: 'ignore',
    });
    wd.on('error', () => {});
    wd.unref();
    return wd;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// start / stop

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Start a throw-away MariaDB server. Throws (with the server's stderr tail) on failure. */
export async function startMariadb(): Promise<MariadbServer> {
  const bins = findBinaries();
  if ('missing' in bins) throw new Error(`cannot start MariaDB: ${bins.missing} not installed`);

  const baseDir = await mkdtemp(path.join(os.tmpdir(), 'portal-mfa-mariadb-'));
  const datadir = path.join(baseDir, 'data');
  const socket = path.join(baseDir, 'mysqld.sock');
  const pidFile = path.join(baseDir, 'mysqld.pid');
  const userArgs = isRoot ? ['--user=root'] : [];

  try {
    try {
      await execFileP(
        bins.installDb,
        [
          '--no-defaults',
          `--datadir=${datadir}`,
          // a private tmpdir: parallel install-db runs clean up each other's /tmp/#sql* files
          `--tmpdir=${baseDir}`,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          ...userArgs,
        ],
        { maxBuffer: 16 * 1024 * 1024 },
      );
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`mariadb-install-db failed: ${e.message}\n${tail(`${e.stdout ?? ''}\n${e.stderr ?? ''}`)}`);
    }

    // A free port found by bind-and-close can be stolen before mariadbd binds it; retry a few times.
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const port = await findFreePort();
      try {
        const server = await launch(bins.mariadbd, { baseDir, datadir, socket, pidFile, port, userArgs });
        return server;
      } catch (err) {
        lastError = err as Error;
        if (!/address already in use|bind on tcp\/ip port/i.test(lastError.message)) break;
      }
    }
    throw lastError ?? new Error('failed to start MariaDB');
  } catch (err) {
    await rm(baseDir, { recursive: true, force: true });
    throw err;
  }
}

interface LaunchOptions {
  baseDir: string;
  datadir: string;
  socket: string;
  pidFile: string;
  port: number;
  userArgs: string[];
}

async function launch(mariadbd: string, o: LaunchOptions): Promise<MariadbServer> {
  const child = spawn(
    mariadbd,
    [
      '--no-defaults',
      `--datadir=${o.datadir}`,
      `--tmpdir=${o.baseDir}`,
      `--socket=${o.socket}`,
      `--port=${o.port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=64M',
      '--skip-log-bin',
      '--innodb-flush-log-at-trx-commit=2',
      `--pid-file=${o.pidFile}`,
      ...o.userArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );

  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 64_000) output = output.slice(-32_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });

  // If the test process dies without calling stop() (crash, SIGTERM/SIGKILL of vitest), don't leave
  // mariadbd behind: a detached watchdog kills it and removes the temp dir once our pid is gone,
  // and an 'exit' hook does the same synchronously for ordinary exits.
  const watchdog = startWatchdog(child.pid, o.baseDir);
  const onExit = () => {
    watchdog?.kill('SIGKILL');
    try {
      child.kill('SIGKILL');
    } catch {
      /* ignore */
    }
    try {
      rmSync(o.baseDir, { recursive: true, force: true });
    } catch {
      /* ignore */
    }
  };
  process.once('exit', onExit);

  const fail = async (msg: string): Promise<never> => {
    await killChild(child);
    watchdog?.kill('SIGKILL');
    process.off('exit', onExit);
    throw new Error(`${msg}\n--- mariadbd output (tail) ---\n${tail(output)}`);
  };

  // Wait for readiness: root over the unix socket (root@localhost is password-less with method=normal).
  const deadline = Date.now() + 30_000;
  let root: mysql.Connection | undefined;
  let lastErr: unknown;
  while (!root) {
    if (spawnError) return fail(`could not spawn ${mariadbd}: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      return fail(`mariadbd exited early (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    if (Date.now() > deadline) {
      return fail(`mariadbd not ready after 30 s: ${(lastErr as Error | undefined)?.message ?? 'unknown'}`);
    }
    try {
      root = await mysql.createConnection({ socketPath: o.socket, user: 'root', connectTimeout: 2000 });
    } catch (err) {
      lastErr = err;
      await sleep(100);
    }
  }

  try {
    const pw = root.escape(TEST_PASSWORD);
    for (const host of ['127.0.0.1', 'localhost']) {
      await root.query(`CREATE USER IF NOT EXISTS '${TEST_USER}'@'${host}' IDENTIFIED BY ${pw}`);
      await root.query(`GRANT ALL PRIVILEGES ON *.* TO '${TEST_USER}'@'${host}' WITH GRANT OPTION`);
    }
    // Make password-less root usable over TCP regardless of how install-db set up root@localhost.
    await root.query(`CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'`);
    await root.query(`GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION`);
    await root.query('FLUSH PRIVILEGES');
  } catch (err) {
    await root.end().catch(() => {});
    return fail(`creating test users failed: ${(err as Error).message}`);
  }
  await root.end();

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await killChild(child);
      watchdog?.kill('SIGKILL');
      process.off('exit', onExit);
      await rm(o.baseDir, { recursive: true, force: true });
    })();
    return stopped;
  };

  return {
    rootUrl: `mysql://root@127.0.0.1:${o.port}/`,
    appUrl: `mysql://${TEST_USER}:${TEST_PASSWORD}@127.0.0.1:${o.port}/`,
    stop,
    port: o.port,
    socket: o.socket,
  };
}

/**
 * PORTAL_MFA_TEST_MYSQL_URL if set (nothing started, no-op stop), else a freshly started
 * throw-away server, else null when MariaDB isn't installed — see mariadbUnavailableReason().
 * Throws if MariaDB is installed but fails to start (that is a real error, not a skip).
 */
export async function findOrStartMariadb(): Promise<FoundMariadb | null> {
  const envUrl = process.env[ENV_URL];
  if (envUrl) {
    const parsed = new URL(envUrl);
    if (parsed.protocol !== 'mysql:') {
      throw new Error(`${ENV_URL} must be a mysql:// URL, got ${parsed.protocol}`);
    }
    return {
      source: 'env',
      rootUrl: envUrl,
      appUrl: envUrl,
      stop: async () => {},
      port: parsed.port ? Number(parsed.port) : 3306,
      socket: '',
    };
  }
  if (mariadbUnavailableReason() !== null) return null;
  return { source: 'spawned', ...(await startMariadb()) };
}
