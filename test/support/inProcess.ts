/**
 * Run portal-mfa in this process (`run(argv, deps)` of src/cli/main.ts) with in-memory streams and,
 * when given, an injected clock: no process start-up, and time can pass (retry backoff, delivery
 * leases) without sleeping. `tty` pretends stdout/stderr are terminals (colour stays off unless
 * `color`); `stderrIsTTY` pretends only stderr is one.
 */
import { PassThrough } from 'node:stream';
import { run } from '../../src/cli/main.js';
import type { IOStreams } from '../../src/cli/io.js';
import type { CliResult } from './cli.js';

export async function runInProcess(
  argv: string[],
  opts: { env: NodeJS.ProcessEnv; clock?: () => number; stdin?: string; tty?: boolean; stderrIsTTY?: boolean; color?: boolean },
): Promise<CliResult> {
  const stdin = new PassThrough();
  stdin.end(opts.stdin ?? '');
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const io: IOStreams = {
    stdin,
    stdout,
    stderr,
    stdinIsTTY: false,
    stdoutIsTTY: Boolean(opts.tty),
    stderrIsTTY: Boolean(opts.tty || opts.stderrIsTTY),
    color: Boolean(opts.color),
    colorErr: Boolean(opts.color),
    canPrompt: false,
  };
  const code = await run(argv, { env: opts.env, io, ...(opts.clock ? { clock: opts.clock } : {}) });
  return { code, stdout: out, stderr: err };
}
