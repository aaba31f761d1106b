import type { Handler } from '../act.js';

/**
 * A command handler loaded on first use (start-up loads only commander and the definitions). Typed
 * as the handler itself, so `act` checks its options against the command's definition.
 */
export function lazy<M extends Record<K, Handler<never, never>>, K extends keyof M & string>(load: () => Promise<M>, name: K): M[K] {
  const handler: Handler<never, never> = async (ctx, opts, args) => (await load())[name](ctx, opts, args);
  return handler as M[K];
}
