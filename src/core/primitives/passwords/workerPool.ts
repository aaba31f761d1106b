/**
 * A small worker-thread pool (piscina) for the hash formats that are a long loop of small hashes
 * in JavaScript (iterated.ts): they must never run on the main thread, where they would stall
 * every other request for as long as they take.
 *
 * The pool starts on the first such check, not at import, and its idle threads are unreferenced
 * (piscina), so a CLI command exits as soon as its work is done and a library consumer's close()
 * is not held up by it.
 */
import { availableParallelism } from 'node:os';
import type { IteratedTask } from './iterated.js';

type Pool = { run(task: IteratedTask): Promise<string> };
let pool: Promise<Pool> | undefined;

export function runIterated(task: IteratedTask): Promise<string> {
  pool ??= startPool();
  return pool.then((p) => p.run(task));
}

async function startPool(): Promise<Pool> {
  const { Piscina } = await import('piscina');
  // Compiled, the worker is the .js file beside this one. Run from the TypeScript sources (the unit
  // tests), Node 20 cannot load a .ts file in a worker by itself: tsx, a devDependency, compiles it.
  const fromSources = import.meta.url.endsWith('.ts');
  return new Piscina({
    filename: new URL(`./iteratedWorker.${fromSources ? 'ts' : 'js'}`, import.meta.url).href,
    execArgv: fromSources ? ['--import', 'tsx'] : [],
    minThreads: 0,
    maxThreads: Math.max(1, Math.min(4, availableParallelism())),
    idleTimeout: 30_000,
  });
}
