import type { OrganisationPicker } from '../core/rules/authorise.js';
import type { CommandContext } from './context.js';

/** On a terminal, an admin of several of the target's organisations picks one. */
export function organisationPicker(ctx: CommandContext): OrganisationPicker | undefined {
  if (!ctx.io.canPrompt) return undefined;
  return (choices) =>
    ctx.prompter.select(
      'Act in which organisation?',
      choices.map((c) => ({ value: c.slug, name: `${c.slug} (${c.name})` })),
      'name one with --org SLUG',
    );
}
