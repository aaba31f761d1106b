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

/**
 * The request of a change to one user as its flags give it — the same in every such command
 * (disable, unlock, access-code issue/revoke, devices revoke): `password` is the one re-entered.
 */
export function changeOnUserRequest<O extends { user?: string; org?: string; ticket?: string; reason?: string; dryRun?: boolean }>(
  ctx: CommandContext,
  opts: O,
  password: string | undefined,
) {
  return {
    targetEmail: opts.user as O['user'],
    orgSlug: opts.org,
    ticket: opts.ticket,
    reason: opts.reason,
    password,
    dryRun: opts.dryRun,
    pickOrganisation: organisationPicker(ctx),
  };
}
