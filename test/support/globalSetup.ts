/**
 * Vitest globalSetup: provides a MariaDB server to every test worker.
 *
 * - PORTAL_MFA_TEST_MYSQL_URL set  → use that server (nothing started).
 * - else mariadbd installed        → start a throw-away server, stop it in teardown.
 * - else                           → MySQL suites are skipped with a reason,
 *                                     unless CI is set, in which case setup throws.
 *
 * Test files read the result through inject('mysqlServerUrl') / inject('mysqlSkipReason')
 * (see test/support/databases.ts).
 */
import type { TestProject } from 'vitest/node';
import mysql from 'mysql2/promise';
import { ENV_URL, findOrStartMariadb, mariadbUnavailableReason } from './mariadbServer.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server URL without database, e.g. mysql://pmfa:pmfa-test-pw@127.0.0.1:PORT/ ; '' when unavailable. */
    mysqlServerUrl: string;
    /** Why MySQL suites are skipped; '' when a server is available. */
    mysqlSkipReason: string;
  }
}

function isCi(): boolean {
  const ci = process.env.CI;
  return !!ci && ci !== 'false' && ci !== '0';
}

export default async function setup(project: TestProject) {
  const started = Date.now();
  const server = await findOrStartMariadb();

  if (!server) {
    const reason = mariadbUnavailableReason() ?? 'MariaDB unavailable';
    if (isCi()) {
      throw new Error(
        `[portal-mfa tests] CI is set but MariaDB is unavailable (${reason}). ` + `Install mariadb-server or set ${ENV_URL}; CI must run the MariaDB tests.`,
      );
    }
    process.stderr.write(`[portal-mfa tests] MySQL tests SKIPPED: ${reason}\n`);
    project.provide('mysqlServerUrl', '');
    project.provide('mysqlSkipReason', reason);
    return async () => {};
  }

  let version: string;
  try {
    const conn = await mysql.createConnection({ uri: server.appUrl, connectTimeout: 10_000 });
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
      version = String(rows[0]?.v);
    } finally {
      await conn.end();
    }
  } catch (err) {
    await server.stop();
    const where = server.source === 'env' ? `${ENV_URL}` : 'the throw-away MariaDB';
    throw new Error(`[portal-mfa tests] cannot connect to ${where}: ${(err as Error).message}`);
  }

  const origin =
    server.source === 'env'
      ? `${ENV_URL} (port ${server.port})`
      : `throw-away server on 127.0.0.1:${server.port}, started in ${((Date.now() - started) / 1000).toFixed(1)} s`;
  process.stderr.write(`[portal-mfa tests] MySQL tests use ${version} via ${origin}\n`);

  project.provide('mysqlServerUrl', server.appUrl);
  project.provide('mysqlSkipReason', '');

  return async () => {
    await server.stop();
  };
}
