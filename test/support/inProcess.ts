/**
 * Run the CLI in-process (`run(argv, deps)` of src/cli/main.ts) with in-memory streams: no
 * process start-up, so option and configuration tests stay fast. `tty` pretends stdout/stderr
 * are terminals (colour stays off unless the env forces it).
 */
import { PassThrough } from 'node:stream';
import { run } from '../../src/cli/main.js';
import type { IOStreams } from '../../src/cli/io.js';

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runInProcess(
  argv: string[],
  opts: { env: NodeJS.ProcessEnv; stdin?: string; tty?: boolean; color?: boolean },
): Promise<InProcessResult> {
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
    stderrIsTTY: Boolean(opts.tty),
    color: Boolean(opts.color),
    colorErr: Boolean(opts.color),
    canPrompt: false,
  };
  const code = await run(argv, { env: opts.env, io });
  return { code, stdout: out, stderr: err };
}
