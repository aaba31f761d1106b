import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { humanTime, isoOrNull } from '../../render.js';
import { changeOnUserRequest } from '../../targets.js';
import { withExamples } from '../examples.js';
import { dryRunOption, type OptionsOf, orgOption, reasonOption, ticketOption, wholeNumber } from '../flags.js';

const define = (accessCode: CommandUnknownOpts) =>
  accessCode
    .command('issue')
    .description('issue a temporary access code (shown once; replaces any live one)')
    .requiredOption('--user <email>', 'who gets the code')
    .addOption(orgOption())
    .addOption(ticketOption())
    .addOption(reasonOption())
    // (their limits are the core's: src/core/usecases/support.ts)
    .addOption(new Option('--minutes <m>', 'valid for this long (default 60, at most 10080 = 7 days)').argParser(wholeNumber()))
    .addOption(new Option('--uses <n>', 'how many logins it allows (default 1, at most 10)').argParser(wholeNumber()))
    .addOption(dryRunOption('say what would be issued, issue nothing'));
type IssueOptions = OptionsOf<typeof define>;

export function registerAccessCodeIssue(accessCode: CommandUnknownOpts, act: Act): void {
  withExamples(define(accessCode), [
    'portal-mfa access-code issue --user devon@example.com --ticket SUP-1234',
    'portal-mfa access-code issue --user devon@example.com --ticket SUP-1234 --minutes 30 --uses 1',
  ]).action(act(issueAccessCode));
}

async function issueAccessCode(ctx: CommandContext, opts: IssueOptions): Promise<void> {
  const { signInToChangeUser } = await import('../../actor.js');
  const { minutes, uses } = opts;
  const { mfa, actor, password } = await signInToChangeUser(ctx, opts, {
    permission: 'access-code',
    action: 'access-code.issue',
    question: `Issue a temporary access code for ${opts.user}?`,
  });
  const r = await mfa.issueAccessCode(actor, {
    ...changeOnUserRequest(ctx, opts, password),
    minutes,
    uses,
  });
  if (r.kind === 'dry-run') {
    if (ctx.out.json) ctx.out.printJson({ email: r.email, dryRun: true, expiresAt: isoOrNull(r.expiresAt), uses: r.uses });
    else ctx.out.line(`dry run: would issue ${r.email} an access code for ${r.uses} use(s) until ${humanTime(r.expiresAt)}; nothing was changed`);
    return;
  }
  if (ctx.out.json) {
    ctx.out.printJson({ email: r.email, accessCode: r.code, expiresAt: isoOrNull(r.expiresAt), uses: r.uses });
    return;
  }
  ctx.out.success(`temporary access code for ${r.email} (shown once; ${r.uses} use(s), until ${humanTime(r.expiresAt)}):`);
  ctx.out.line(`  ${r.code}`);
  ctx.out.line(`Give it to the user over a verified channel. They type it at \`portal-mfa login\` in place of a code, then set up their authenticator.`);
}
