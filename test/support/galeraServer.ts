/**
 * Throw-away 3-node MariaDB Galera cluster on loopback, for test/cluster/*.test.ts.
 *
 * Started lazily by the cluster test files (never by the global setup, which every run pays for):
 *
 *   const cluster = await startGaleraCluster();        // ~15 s on a small machine
 *   cluster.nodes[1].appUrl                            // mysql://pmfa:pmfa-test-pw@127.0.0.1:PORT/
 *   await cluster.stop();
 *
 * How: node 1 is initialised with mariadb-install-db and bootstraps a new cluster
 * (--wsrep-new-cluster); the test account is created there; nodes 2 and 3 start with an empty
 * datadir and join, receiving the data by rsync state transfer (SST). Every node gets its own
 * free ports for mysql, the group channel (gmcast, normally 4567), IST and SST. When this runs as
 * root, the rsync daemon that receives the SST drops to `nobody`, so a joiner's datadir (and the
 * directories above it) must be writable/traversable by that user.
 *
 * Environment:
 *   PORTAL_MFA_GALERA_LIB  the wsrep provider (default /usr/lib/galera/libgalera_smm.so)
 *   PORTAL_MFA_MARIADBD / PORTAL_MFA_MARIADB_INSTALL_DB  as for the single server
 */
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { findBinary, findFreePort, killChild, startWatchdog, tail, TEST_PASSWORD, TEST_USER } from './mariadbServer.js';

const execFileP = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const GALERA_LIB_ENV = 'PORTAL_MFA_GALERA_LIB';
const galeraLib = () => process.env[GALERA_LIB_ENV] ?? '/usr/lib/galera/libgalera_smm.so';

interface GaleraNode {
  name: string;
  /** mysql://pmfa:pmfa-test-pw@127.0.0.1:PORT/ — no database path. */
  appUrl: string;
  port: number;
  socket: string;
  /** SIGKILL this node (a crash); the others keep the cluster. */
  kill(): Promise<void>;
}

export interface GaleraCluster {
  nodes: GaleraNode[];
  /** Seconds from the first install-db to the last node synced. */
  startSeconds: number;
  /** Milestones of the start, for the report. */
  timings: string[];
  /** Stops every node and deletes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

function isCi(): boolean {
  const ci = process.env.CI;
  return !!ci && ci !== 'false' && ci !== '0';
}

/** Why no Galera cluster can be started here, or null when it can. */
function galeraUnavailableReason(): string | null {
  const missing: string[] = [];
  if (!findBinary('PORTAL_MFA_MARIADBD', ['mariadbd', 'mysqld'])) missing.push('mariadbd (mariadb-server)');
  if (!findBinary('PORTAL_MFA_MARIADB_INSTALL_DB', ['mariadb-install-db', 'mysql_install_db'])) missing.push('mariadb-install-db (mariadb-server)');
  if (!existsSync(galeraLib())) missing.push(`${galeraLib()} (galera-4)`);
  if (!findBinary('', ['rsync'])) missing.push('rsync');
  if (!findBinary('', ['wsrep_sst_rsync'])) missing.push('wsrep_sst_rsync (mariadb-server)');
  return missing.length ? `${missing.join(', ')} not installed` : null;
}

/** The reason to skip the cluster suite, or null to run it; throws when CI is set and Galera is missing. */
export function galeraSkipReason(): string | null {
  const reason = galeraUnavailableReason();
  if (reason && isCi()) {
    throw new Error(`[portal-mfa tests] CI is set but the Galera cluster cannot start: ${reason}. Install mariadb-server galera-4 rsync.`);
  }
  return reason;
}

interface Ports {
  mysql: number;
  gmcast: number;
  ist: number;
  sst: number;
}

interface RunningNode {
  name: string;
  child: ChildProcess;
  output: () => string;
  ports: Ports;
  socket: string;
  watchdog?: ChildProcess;
}

function killPidFile(file: string): void {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (pid > 1) process.kill(pid, 'SIGTERM');
  } catch {
    /* no such file or process */
  }
}

/** uid/gid of `nobody`, which the rsync daemon drops to when started as root. */
function nobodyIds(): { uid: number; gid: number } {
  const id = (flag: string) => {
    try {
      return Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim());
    } catch {
      return 65534;
    }
  };
  return { uid: id('-u'), gid: id('-g') };
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await findFreePort());
  return [...ports];
}

/** Start a 3-node (or `size`-node) cluster. Throws with the failing node's log tail. */
export async function startGaleraCluster(size = 3): Promise<GaleraCluster> {
  const reason = galeraUnavailableReason();
  if (reason) throw new Error(`cannot start a Galera cluster: ${reason}`);
  const mariadbd = findBinary('PORTAL_MFA_MARIADBD', ['mariadbd', 'mysqld'])!;
  const installDb = findBinary('PORTAL_MFA_MARIADB_INSTALL_DB', ['mariadb-install-db', 'mysql_install_db'])!;
  const started = Date.now();
  const baseDir = await mkdtemp(path.join(os.tmpdir(), 'portal-mfa-galera-'));
  // the SST rsync daemon runs as `nobody` under root: it must reach the joiners' datadirs
  chmodSync(baseDir, 0o755);
  const running: RunningNode[] = [];
  const timings: string[] = [];
  const onExit = () => {
    for (const n of running) {
      n.watchdog?.kill('SIGKILL');
      try {
        n.child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    try {
      rmSync(baseDir, { recursive: true, force: true });
    } catch {
      /* ignore */
    }
  };
  process.once('exit', onExit);

  const stopAll = async () => {
    await Promise.all(running.map((n) => killChild(n.child)));
    for (const n of running) n.watchdog?.kill('SIGKILL');
    // a joiner that died during its state transfer can leave the SST's rsync daemon behind
    for (const n of running) killPidFile(path.join(baseDir, n.name, 'data', 'rsync_sst.pid'));
    process.off('exit', onExit);
    await rm(baseDir, { recursive: true, force: true });
  };

  try {
    const all = await distinctFreePorts(size * 4);
    const ports: Ports[] = Array.from({ length: size }, (_, i) => ({
      mysql: all[i * 4]!,
      gmcast: all[i * 4 + 1]!,
      ist: all[i * 4 + 2]!,
      sst: all[i * 4 + 3]!,
    }));
    const clusterAddress = `gcomm://${ports.map((p) => `127.0.0.1:${p.gmcast}`).join(',')}`;
    const clusterName = `pmfa-test-${process.pid}`;
    const userArgs = isRoot ? ['--user=root'] : [];

    for (let i = 0; i < size; i++) {
      const name = `node${i + 1}`;
      const dir = path.join(baseDir, name);
      const datadir = path.join(dir, 'data');
      // a private tmpdir: install-db runs of other test processes clean up /tmp/#sql* files
      const tmpdir = path.join(dir, 'tmp');
      mkdirSync(datadir, { recursive: true });
      mkdirSync(tmpdir, { recursive: true });
      chmodSync(dir, 0o755);
      if (i === 0) {
        try {
          await execFileP(
            installDb,
            ['--no-defaults', `--datadir=${datadir}`, `--tmpdir=${tmpdir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...userArgs],
            {
              maxBuffer: 16 * 1024 * 1024,
            },
          );
        } catch (err) {
          const e = err as Error & { stdout?: string; stderr?: string };
          throw new Error(`mariadb-install-db failed: ${e.message}\n${tail(`${e.stdout ?? ''}\n${e.stderr ?? ''}`)}`);
        }
      } else if (isRoot) {
        // rsync (receiving the SST) sets the mode of the datadir itself: it must own it
        const nobody = nobodyIds();
        chownSync(datadir, nobody.uid, nobody.gid);
      } else {
        chmodSync(datadir, 0o700);
      }
      const p = ports[i]!;
      const socket = path.join(dir, 'mysqld.sock');
      const args = [
        '--no-defaults',
        `--datadir=${datadir}`,
        `--tmpdir=${tmpdir}`,
        `--socket=${socket}`,
        `--port=${p.mysql}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        `--pid-file=${path.join(dir, 'mysqld.pid')}`,
        '--innodb-buffer-pool-size=32M',
        '--innodb-log-file-size=16M',
        '--innodb-flush-log-at-trx-commit=2',
        '--innodb-autoinc-lock-mode=2',
        '--binlog-format=ROW',
        '--default-storage-engine=InnoDB',
        '--wsrep-on=ON',
        `--wsrep-provider=${galeraLib()}`,
        `--wsrep-cluster-name=${clusterName}`,
        `--wsrep-cluster-address=${clusterAddress}`,
        `--wsrep-node-name=${name}`,
        `--wsrep-node-address=127.0.0.1:${p.gmcast}`,
        `--wsrep-node-incoming-address=127.0.0.1:${p.mysql}`,
        `--wsrep-sst-receive-address=127.0.0.1:${p.sst}`,
        '--wsrep-sst-method=rsync',
        // short failure detection so a killed node leaves the cluster quickly
        `--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:${p.gmcast};ist.recv_addr=127.0.0.1:${p.ist};gcache.size=32M;pc.recovery=false;evs.inactive_timeout=PT6S;evs.suspect_timeout=PT3S;evs.keepalive_period=PT1S`,
        ...(i === 0 ? ['--wsrep-new-cluster'] : []),
        ...userArgs,
      ];
      const node = spawnNode(mariadbd, name, args, socket, p, baseDir);
      running.push(node);
      if (i === 0) {
        await waitSynced(node, 60_000);
        await createAccounts(socket);
        timings.push(`bootstrap ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
    }
    // the joiners start together: the donor serves their state transfers one after the other
    await Promise.all(running.slice(1).map((n) => waitSynced(n, 120_000)));
    timings.push(`all synced ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    const logs = running.map((n) => `--- ${n.name} (tail) ---\n${tail(n.output(), 30)}`).join('\n');
    await stopAll();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }

  let stopped: Promise<void> | undefined;
  return {
    startSeconds: (Date.now() - started) / 1000,
    timings,
    nodes: running.map((n) => ({
      name: n.name,
      appUrl: `mysql://${TEST_USER}:${TEST_PASSWORD}@127.0.0.1:${n.ports.mysql}/`,
      port: n.ports.mysql,
      socket: n.socket,
      kill: async () => {
        n.child.kill('SIGKILL');
        await new Promise<void>((r) => (n.child.exitCode !== null || n.child.signalCode !== null ? r() : n.child.once('exit', () => r())));
      },
    })),
    stop: () => (stopped ??= stopAll()),
  };
}

function spawnNode(mariadbd: string, name: string, args: string[], socket: string, ports: Ports, baseDir: string): RunningNode {
  // mariadbd runs the SST script (wsrep_sst_rsync) from PATH
  const env = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/usr/bin:/sbin:/bin` };
  const child = spawn(mariadbd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 128_000) output = output.slice(-64_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.on('error', (e) => (output += `\nspawn error: ${e.message}`));
  // a crashed test run must not leave mariadbd behind (the last watchdog removes the temp dir)
  const watchdog = startWatchdog(child.pid, baseDir);
  return { name, child, output: () => output, ports, socket, watchdog };
}

/** Wait until the node answers on its socket and reports wsrep_local_state_comment = Synced. */
async function waitSynced(node: RunningNode, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last = 'no connection yet';
  for (;;) {
    if (node.child.exitCode !== null || node.child.signalCode !== null) {
      throw new Error(`${node.name} exited during start (code ${node.child.exitCode}, signal ${node.child.signalCode})`);
    }
    if (Date.now() > deadline) throw new Error(`${node.name} not synced after ${ms / 1000} s: ${last}`);
    try {
      const conn = await mysql.createConnection({ socketPath: node.socket, user: 'root', connectTimeout: 2000 });
      try {
        const [rows] = await conn.query<mysql.RowDataPacket[]>("SHOW STATUS LIKE 'wsrep_local_state_comment'");
        const state = String(rows[0]?.Value ?? '');
        if (state === 'Synced') return;
        last = `state ${state}`;
      } finally {
        await conn.end().catch(() => {});
      }
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(250);
  }
}

/** The test account, created once on the bootstrap node; the joiners receive it by SST. */
async function createAccounts(socket: string): Promise<void> {
  const root = await mysql.createConnection({ socketPath: socket, user: 'root', connectTimeout: 5000 });
  try {
    const pw = root.escape(TEST_PASSWORD);
    for (const host of ['127.0.0.1', 'localhost']) {
      await root.query(`CREATE USER IF NOT EXISTS '${TEST_USER}'@'${host}' IDENTIFIED BY ${pw}`);
      await root.query(`GRANT ALL PRIVILEGES ON *.* TO '${TEST_USER}'@'${host}' WITH GRANT OPTION`);
    }
    await root.query('FLUSH PRIVILEGES');
  } finally {
    await root.end().catch(() => {});
  }
}
