import type { MfaDeps } from '../core/deps.js';
import { notFound } from '../core/errors.js';
import { findUserByEmail, type UserRow } from '../db/userRepository.js';
import { parseEmail } from './config.js';
import type { CommandContext } from './context.js';

/** The user named by --user EMAIL (exit 2 if malformed, 3 if unknown). */
export async function findTargetUser(deps: MfaDeps, rawEmail: string): Promise<UserRow> {
  const email = parseEmail(rawEmail, 'user email');
  const user = await findUserByEmail(deps.knex, email);
  if (!user) throw notFound(`no user ${email}`);
  return user;
}

/** On a terminal, an admin of several of the target's organisations picks one. */
export function organisationPicker(ctx: CommandContext): ((choices: { slug: string; name: string }[]) => Promise<string>) | undefined {
  if (!ctx.io.canPrompt) return undefined;
  return (choices) =>
    ctx.prompter.select(
      'Act in which organisation?',
      choices.map((c) => ({ value: c.slug, name: `${c.slug} (${c.name})` })),
      'name one with --org SLUG',
    );
}
