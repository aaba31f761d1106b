import { cancelled, usageError } from '../core/errors.js';
import type { CommandContext } from './context.js';

/** Without a terminal a destructive command needs --yes (checked before anything is read or changed). */
export function requireConfirmable(ctx: CommandContext): void {
  if (!ctx.globals.yes && !ctx.io.canPrompt) {
    throw usageError('this changes data and needs a confirmation, but stdin is not a terminal', {
      code: 'missing_input',
      hint: 'pass --yes (or --dry-run to see what would change)',
    });
  }
}

/**
 * Destructive commands ask first. --yes skips the question; without a terminal --yes is required
 * (the tool never hangs on a prompt); a declined confirmation is exit 130 and changes nothing.
 */
export async function confirmOrCancel(ctx: CommandContext, question: string): Promise<void> {
  if (ctx.globals.yes) return;
  requireConfirmable(ctx);
  if (!(await ctx.prompter.confirm(question, 'pass --yes'))) throw cancelled('cancelled; nothing was changed');
}
