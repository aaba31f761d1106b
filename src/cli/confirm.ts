import { cancelled, usageError } from '../core/errors.js';
import type { CommandContext } from './context.js';

/**
 * Destructive commands ask first. --yes skips the question; without a terminal --yes is required
 * (the tool never hangs on a prompt); a declined confirmation is exit 130 and changes nothing.
 */
export async function confirmOrCancel(ctx: CommandContext, question: string): Promise<void> {
  if (ctx.globals.yes) return;
  if (!ctx.io.canPrompt) throw usageError('this changes data and needs a confirmation, but stdin is not a terminal', { hint: 'pass --yes' });
  if (!(await ctx.prompter.confirm(question, 'pass --yes'))) throw cancelled('cancelled; nothing was changed');
}
