// A throw-away mariadbd on 127.0.0.1 for the benchmarks (as test/support/mariadbServer.ts starts one
// for the tests): its own datadir under `dir`, a free port, a `bench` account and one empty database.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import mysql from 'mysql2/promise';

function which(name) {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', ...(process.env.PATH ?? '').split(':')]) {
    const p = path.join(dir, name);
    try {
      closeSync(openSync(p, 'r'));
      return p;
    } catch {
      /* next */
    }
  }
  throw new Error(`${name} not found (apt-get install mariadb-server), or pass --mysql URL`);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Start it; `stop()` ends it (and it is killed when the process exits). `database` is created for
 * `url`; `createDatabase(name)` and `urlFor(name)` give more; `socket` serves the `mariadb` client as root.
 */
export async function startMariadb({ dir, database, maxConnections, bufferPool }) {
  const base = path.join(dir, 'mariadb');
  const datadir = path.join(base, 'data');
  const socket = path.join(base, 'mysqld.sock');
  const userArgs = process.getuid?.() === 0 ? ['--user=root'] : [];
  const inst = spawnSync(
    which('mariadb-install-db'),
    ['--no-defaults', `--datadir=${datadir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...userArgs],
    { encoding: 'utf8' },
  );
  if (inst.status !== 0) throw new Error(`mariadb-install-db failed:\n${inst.stderr}`);
  const port = await freePort();
  const child = spawn(
    which('mariadbd'),
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${socket}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      '--skip-log-bin',
      ...(maxConnections ? [`--max-connections=${maxConnections}`] : []),
      ...(bufferPool ? [`--innodb-buffer-pool-size=${bufferPool}`] : []),
      '--innodb-flush-log-at-trx-commit=2',
      `--pid-file=${path.join(base, 'mysqld.pid')}`,
      ...userArgs,
    ],
    { stdio: 'ignore' },
  );
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const deadline = Date.now() + 30_000;
  let root;
  while (!root) {
    if (Date.now() > deadline) throw new Error('mariadbd not ready after 30 s');
    root = await mysql.createConnection({ socketPath: socket, user: 'root' }).catch(() => new Promise((r) => setTimeout(() => r(undefined), 100)));
  }
  for (const host of ['127.0.0.1', 'localhost']) {
    await root.query(`CREATE USER IF NOT EXISTS 'bench'@'${host}' IDENTIFIED BY 'bench-pw'`);
    await root.query(`GRANT ALL PRIVILEGES ON *.* TO 'bench'@'${host}'`);
  }
  const createDatabase = (name) => root.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  if (database) await createDatabase(database);
  const [[{ v }]] = await root.query('SELECT VERSION() AS v');
  const urlFor = (name) => `mysql://bench:bench-pw@127.0.0.1:${port}/${name}`;
  return {
    url: database ? urlFor(database) : undefined,
    urlFor,
    createDatabase,
    socket,
    version: v,
    stop: async () => {
      await root.end().catch(() => {});
      process.off('exit', kill);
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
