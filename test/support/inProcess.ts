/**
 * Run portal-mfa in this process (src/cli/main.ts `run`), with an injected clock: for tests that
 * need time to pass (retry backoff, delivery leases) without sleeping.
 */
import { PassThrough, Readable } from 'node:stream';
import { run } from '../../src/cli/main.js';
import type { IOStreams } from '../../src/cli/io.js';
import type { CliResult } from './cli.js';

export async function runInProcess(argv: string[], opts: { env: NodeJS.ProcessEnv; clock?: () => number; stdin?: string; stderrIsTTY?: boolean }): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const io: IOStreams = {
    stdin: Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]),
    stdout,
    stderr,
    stdinIsTTY: false,
    stdoutIsTTY: false,
    stderrIsTTY: opts.stderrIsTTY ?? false,
    color: false,
    colorErr: false,
    canPrompt: false,
  };
  const code = await run(argv, { env: opts.env, io, clock: opts.clock });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
