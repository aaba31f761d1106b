import type { Handler } from '../main.js';

/** A command handler loaded on first use (start-up loads only commander and the definitions). */
export function lazy<M extends Record<string, unknown>>(load: () => Promise<M>, name: keyof M & string): Handler<never> {
  return async (ctx, opts, args) => {
    const handler = (await load())[name] as unknown as Handler<unknown>;
    return handler(ctx, opts, args);
  };
}
