import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { changeOnUserRequest } from '../../targets.js';
import { withExamples } from '../examples.js';
import { dryRunOption, type OptionsOf, orgOption, reasonOption, ticketOption } from '../flags.js';

const define = (accessCode: CommandUnknownOpts) =>
  accessCode
    .command('revoke')
    .description("revoke the user's live access code")
    .requiredOption('--user <email>', 'whose code')
    .addOption(orgOption())
    .addOption(ticketOption())
    .addOption(reasonOption())
    .addOption(dryRunOption('say what would be revoked, change nothing'));
type RevokeOptions = OptionsOf<typeof define>;

export function registerAccessCodeRevoke(accessCode: CommandUnknownOpts, act: Act): void {
  withExamples(define(accessCode), [
    'portal-mfa access-code revoke --user devon@example.com --ticket SUP-1234',
    'portal-mfa access-code revoke --user dave@acme.example --org acme --dry-run',
  ]).action(act(revokeAccessCode));
}

async function revokeAccessCode(ctx: CommandContext, opts: RevokeOptions): Promise<void> {
  const { signInToChangeUser } = await import('../../actor.js');
  const { mfa, actor, password } = await signInToChangeUser(ctx, opts, {
    permission: 'access-code',
    action: 'access-code.revoke',
    question: `Revoke ${opts.user}'s access code?`,
  });
  const r = await mfa.revokeAccessCode(actor, {
    ...changeOnUserRequest(ctx, opts, password),
  });
  if (ctx.out.json) ctx.out.printJson({ email: r.email, revoked: r.kind === 'revoked', dryRun: r.kind === 'dry-run' });
  else if (r.kind === 'dry-run') ctx.out.line(`dry run: would revoke ${r.email}'s access code; nothing was changed`);
  else ctx.out.success(`revoked ${r.email}'s access code`);
}
