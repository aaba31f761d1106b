import type { CommandContext } from './context.js';

/**
 * The contract between the program (src/cli/main.ts) and its commands (src/cli/commands/): a
 * command's run function, and `act`, which main.ts implements and every command's action goes through.
 */

/** A command's run function: its options as the definition declares them, its positional values. */
export type Handler<O, A = string> = (ctx: CommandContext, opts: O, args: A[]) => Promise<void>;

/**
 * Wraps a command body: builds its context from the global options, always closes it. The action
 * it returns takes commander's arguments (…positional, options, command): a handler whose options
 * differ from what the command declares does not compile.
 */
export type Act = <O, A>(handler: Handler<O, A>) => (...args: [...unknown[], O, unknown]) => Promise<void>;
