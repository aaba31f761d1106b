import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import type { IOStreams } from './io.js';

/**
 * Page stdout through a pager on a terminal, as git and gh do (issue 23): `PORTAL_MFA_PAGER`, else
 * `PAGER`, else `less` (with `LESS=FRX` unless set: quit when the output fits one screen, keep
 * colours, leave the text on the screen). No pager when stdout is not a terminal, with `--no-pager`,
 * with an empty PAGER (or `cat`), or when the pager cannot be started. While paged, `io.stdout` is
 * the pager's input; a pager quit early (q) swallows the rest, so the command ends normally.
 * Returns the function that ends paging and waits for the pager (call it also on failure).
 */
export async function startPager(io: IOStreams, env: NodeJS.ProcessEnv): Promise<() => Promise<void>> {
  const none = async () => undefined;
  const command = (env.PORTAL_MFA_PAGER ?? env.PAGER ?? 'less').trim();
  if (command === '' || command === 'cat') return none;
  // a plain command line runs as is (a missing pager is then an error we see, not a shell's 127)
  const plain = /^[\w./+-]+( [\w./=+-]+)*$/.test(command);
  const child = plain
    ? spawn(command.split(' ')[0]!, command.split(' ').slice(1), { stdio: ['pipe', 'inherit', 'inherit'], env: pagerEnv(env) })
    : spawn(command, { shell: true, stdio: ['pipe', 'inherit', 'inherit'], env: pagerEnv(env) });
  const started = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!started) return none;
  const pipe = child.stdin!;
  let quit = false;
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let waiting: (() => void) | undefined;
  void exited.then(() => {
    quit = true;
    waiting?.();
  });
  pipe.on('error', () => {
    quit = true; // EPIPE: the pager is gone
  });
  const paged = new Writable({
    write(chunk, _encoding, done) {
      if (quit || pipe.write(chunk)) return done();
      waiting = () => {
        waiting = undefined;
        done();
      };
      pipe.once('drain', () => waiting?.());
    },
  });
  const terminal = io.stdout;
  io.stdout = paged;
  return async () => {
    await new Promise<void>((resolve) => paged.end(resolve));
    pipe.end();
    await exited;
    io.stdout = terminal;
  };
}

function pagerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, LESS: env.LESS ?? 'FRX', LV: env.LV ?? '-c' };
}
