/**
 * Flag values commander checks itself (src/cli/commands/flags.ts): an invalid choice, a conflict, a
 * bad number or age, a bad positional value. Each is the product's usage error: exit 2, one line on
 * stderr (`error: …`, or the JSON error object under --json), nothing on stdout, no stack — and it
 * happens while parsing, before a database is even named (none is given here, and none is created).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, makeCliEnv } from '../support/cli.js';
import { runInProcess } from '../support/inProcess.js';

const cases: { name: string; args: string[]; re: RegExp }[] = [
  {
    name: 'choice',
    args: ['org', 'users', '--mfa', 'maybe'],
    re: /^error: option '--mfa <state>' argument 'maybe' is invalid\. Allowed choices are on, off, pending\.$/,
  },
  {
    name: 'choice of a positional argument',
    args: ['completion', 'tcsh'],
    re: /^error: command-argument value 'tcsh' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish\.$/,
  },
  {
    name: 'conflict',
    args: ['verify', '--diagnose', '--trust-device', '--code', '123456'],
    re: /^error: option '--diagnose' cannot be used with option '--trust-device'$/,
  },
  {
    name: 'integer out of range',
    args: ['audit', '--limit', '0'],
    re: /^error: option '--limit <n>' argument '0' is invalid\. Expected a whole number from 1 to 100000\.$/,
  },
  {
    name: 'not an integer',
    args: ['demo', '--members', '1e3'],
    re: /^error: option '--members <n>' argument '1e3' is invalid\. Expected a whole number from 0 to 1000000\.$/,
  },
  {
    name: 'not an age',
    args: ['audit', '--since', '3 days'],
    re: /^error: option '--since <when>' argument '3 days' is invalid\. Expected a date .* or an age \(30m, 24h, 7d\)\.$/,
  },
  {
    name: 'not a device id',
    args: ['devices', 'revoke', '12', 'x'],
    re: /^error: command-argument value 'x' is invalid for argument 'ids'\. Not a device id: ids are the numbers devices list shows\.$/,
  },
];

describe('commander checks flag values: one line, exit 2, nothing done', () => {
  const env = makeCliEnv().env;
  const embedded = path.join(env.XDG_DATA_HOME!, 'portal-mfa');

  it.each(cases)('$name', async ({ args, re }) => {
    const r = await runInProcess(args, { env });
    expectOneLineError(r, 2, re);
    expect(r.stdout).toBe('');
  });

  it.each(cases)('$name, under --json: the JSON error object', async ({ args, re }) => {
    const r = await runInProcess(['--json', ...args], { env });
    expectOneLineError(r, 2);
    expect(r.stdout).toBe('');
    const { error } = JSON.parse(r.stderr) as { error: { code: string; message: string; exitCode: number } };
    expect(error).toEqual({ code: 'invalid_input', message: expect.any(String), exitCode: 2 });
    expect(`error: ${error.message}`).toMatch(re);
  });

  it('a long or hostile value is echoed cut and escaped', async () => {
    const r = await runInProcess(['audit', '--limit', `${'9'.repeat(500)}\u001b[2J\u202e`], { env });
    expectOneLineError(r, 2, /argument '9{60}…' is invalid\. Expected a whole number/);
    const rlo = await runInProcess(['org', 'users', '--role', 'ad\u202emin'], { env });
    expectOneLineError(rlo, 2, /argument 'ad\\u202emin' is invalid\. Allowed choices are admin, member\./);
    // quotes inside the value dodge the per-value cut: the whole line is capped instead
    const quoted = await runInProcess(['org', 'users', '--mfa', "'a".repeat(50_000)], { env });
    expectOneLineError(quoted, 2, /^error: option '--mfa <state>' argument /);
    expect(quoted.stderr.length).toBeLessThanOrEqual(301);
  });

  it('nothing was created: the errors come before the database', () => {
    expect(existsSync(embedded)).toBe(false);
  });
});
