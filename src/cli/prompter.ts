import { cancelled, usageError } from '../core/errors.js';
import type { IOStreams } from './io.js';

/**
 * The one seam for interactive input. Commands ask through a Prompter; tests pass a scripted one.
 * `hint` says which flag supplies the answer when there is no terminal to prompt on.
 */
export interface Prompter {
  password(message: string, hint: string): Promise<string>;
  input(message: string, hint: string, opts?: InputOptions): Promise<string>;
  confirm(message: string, hint: string): Promise<boolean>;
  select<T extends string>(message: string, choices: { value: T; name: string }[], hint: string): Promise<T>;
}

/**
 * `prefix` stands in for the "?" before the question (enrolment's QR code ends on the prompt's
 * line, qr.ts); `signal` puts the prompt away (a resized window is drawn again, enrolFlow.ts).
 */
export interface InputOptions {
  prefix?: string;
  signal?: AbortSignal;
}

/** Without a terminal the tool never prompts: missing input is a usage error (exit 2). */
export function nonInteractivePrompter(): Prompter {
  const refuse = (what: string, hint: string): never => {
    throw usageError(`${what} is needed but stdin is not a terminal`, { hint });
  };
  return {
    password: async (_m, hint) => refuse('a password', hint),
    input: async (m, hint) => refuse(m.replace(/[:?]\s*$/, '').toLowerCase(), hint),
    confirm: async (_m, hint) => refuse('a confirmation', hint),
    select: async (m, _c, hint) => refuse(m.replace(/[:?]\s*$/, '').toLowerCase(), hint),
  };
}

/** @inquirer/prompts on the terminal, writing to stderr so stdout stays for data. Loaded lazily. */
export function terminalPrompter(io: IOStreams): Prompter {
  const context = { input: io.stdin as NodeJS.ReadableStream, output: io.stderr as NodeJS.WritableStream, clearPromptOnDone: false };
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      const name = (e as Error)?.name;
      if (name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError') throw cancelled();
      throw e;
    }
  };
  return {
    async password(message) {
      const { password } = await import('@inquirer/prompts');
      return guard(() => password({ message, mask: false }, context));
    },
    async input(message, _hint, opts = {}) {
      const { input } = await import('@inquirer/prompts');
      const theme = opts.prefix === undefined ? undefined : { prefix: opts.prefix };
      return guard(() => input({ message, theme }, { ...context, signal: opts.signal }));
    },
    async confirm(message) {
      const { confirm } = await import('@inquirer/prompts');
      return guard(() => confirm({ message, default: false }, context));
    },
    async select<T extends string>(message: string, choices: { value: T; name: string }[]) {
      const { select } = await import('@inquirer/prompts');
      return guard(() => select<T>({ message, choices }, context));
    },
  };
}
