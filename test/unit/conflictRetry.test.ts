/**
 * The retry policy and the messages for cluster trouble, with errors shaped exactly as mysql2 and
 * knex deliver them (code, errno, sqlMessage, and knex's "<sql> - <message>" prefix). The real
 * deadlocks are in test/integration/conflicts.test.ts and test/cluster/.
 */
import { describe, expect, it } from 'vitest';
import { classifyDbError, onConflict, retryCounters, retryOnConflict } from '../../src/db/conflictRetry.js';
import { EXIT_CODES } from '../../src/cli/exitCodes.js';
import { describeDatabaseError, driverMessage } from '../../src/db/databaseErrors.js';
import { NoServerAvailable } from '../../src/db/failover.js';
import { parseDatabaseUrl } from '../../src/db/url.js';

const SQL = "update `mfa_credentials` set `last_accepted_step` = 59000123 where `id` = 7 and `user_email` = 'carol@acme.example'";

function mysqlError(code: string, errno: number, sqlMessage: string): Error {
  return Object.assign(new Error(`${SQL} - ${sqlMessage}`), { code, errno, sqlMessage, sqlState: '40001' });
}
const deadlock = () => mysqlError('ER_LOCK_DEADLOCK', 1213, 'Deadlock found when trying to get lock; try restarting transaction');
const notReady = () => mysqlError('ER_UNKNOWN_COM_ERROR', 1047, 'WSREP has not yet prepared node for application use');
const target = parseDatabaseUrl('mysql://portal:Zq8Pw3@db1:3306,db2:3306/portal');
const shown = (e: { message: string; hint?: string }) => `${e.message} (${e.hint ?? ''})`;

describe('classifyDbError', () => {
  it('deadlock / certification failure (1213) and lock wait timeout (1205) are conflicts', () => {
    expect(classifyDbError(deadlock())).toBe('conflict');
    expect(classifyDbError(mysqlError('ER_LOCK_WAIT_TIMEOUT', 1205, 'Lock wait timeout exceeded; try restarting transaction'))).toBe('conflict');
  });
  it('WSREP not ready (1047) is an unavailable node, not a conflict', () => {
    expect(classifyDbError(notReady())).toBe('unavailable');
  });
  it('anything else is neither', () => {
    expect(classifyDbError(mysqlError('ER_DUP_ENTRY', 1062, "Duplicate entry 'x' for key 'PRIMARY'"))).toBeNull();
    expect(classifyDbError(new Error('boom'))).toBeNull();
    expect(classifyDbError(undefined)).toBeNull();
  });
});

describe('retryOnConflict', () => {
  it('runs the work again on a conflict and returns its result', async () => {
    let runs = 0;
    const events: string[] = [];
    const stop = onConflict((e) => events.push(`${e.attempt}/${e.attempts}:${e.willRetry}`));
    try {
      const v = await retryOnConflict(
        'transaction',
        async () => {
          if (++runs < 3) throw deadlock();
          return 'done';
        },
        { attempts: 5, baseMs: 1, capMs: 2 },
      );
      expect(v).toBe('done');
      expect(runs).toBe(3);
      expect(events).toEqual(['1/5:true', '2/5:true']);
    } finally {
      stop();
    }
  });

  it('gives up after the bounded attempts: one line, exit 10, no SQL, no value, no password', async () => {
    let runs = 0;
    const gaveUp = retryCounters.gaveUp;
    const e = await retryOnConflict(
      'statement',
      async () => {
        runs++;
        throw deadlock();
      },
      { attempts: 4, baseMs: 1, capMs: 2 },
    ).catch((x: unknown) => x);
    expect(runs).toBe(4);
    expect(retryCounters.gaveUp).toBe(gaveUp + 1);
    const err = describeDatabaseError(e, target);
    expect(EXIT_CODES[err.kind]).toBe(10);
    expect(shown(err)).toMatch(/conflicting concurrent changes \(tried 4 times\)/);
    expect(shown(err)).not.toMatch(/update|mfa_credentials|carol|Zq8Pw3|[\r\n]/);
  });

  it('other errors are not retried', async () => {
    let runs = 0;
    await expect(
      retryOnConflict('transaction', async () => {
        runs++;
        throw notReady();
      }),
    ).rejects.toThrow();
    expect(runs).toBe(1);
  });
});

describe('messages for cluster trouble', () => {
  it('a node outside the primary component: exit 10 naming the servers, no SQL', () => {
    const err = describeDatabaseError(notReady(), target);
    expect(EXIT_CODES[err.kind]).toBe(10);
    expect(shown(err)).toMatch(/db1:3306,db2:3306 is not ready: it is not part of the cluster's primary component/);
    expect(shown(err)).not.toMatch(/update|carol|Zq8Pw3/);
  });

  it('no server available: every host with its reason', () => {
    const err = describeDatabaseError(new NoServerAvailable(['db1:3306: connection refused', 'db2:3306: timed out']), target);
    expect(EXIT_CODES[err.kind]).toBe(10);
    expect(err.message).toBe('cannot connect to any of the database servers: db1:3306: connection refused; db2:3306: timed out');
  });

  it('driverMessage drops the knex SQL prefix also without sqlMessage (SQLite)', () => {
    const e = Object.assign(new Error(`insert into \`users\` (\`email\`) values ('carol@acme.example') - UNIQUE constraint failed: users.email`), {
      code: 'SQLITE_CONSTRAINT_UNIQUE',
    });
    expect(driverMessage(e)).toBe('UNIQUE constraint failed: users.email');
    expect(driverMessage(new Error('select 1 from x'))).toBe('the statement failed');
    expect(driverMessage(new Error('connect mysql://u:Zq8Pw3@h/db failed'))).toBe('connect mysql://u:***@h/db failed');
  });
});
