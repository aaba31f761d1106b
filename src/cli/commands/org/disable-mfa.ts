import { readFileSync } from 'node:fs';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { cancelled, type ErrorKind, PortalMfaError, usageError } from '../../../core/errors.js';
import type { Act } from '../../act.js';
import { confirmOrCancel, requireConfirmable } from '../../confirm.js';
import type { CommandContext } from '../../context.js';
import { exitCodeOf } from '../../exitCodes.js';
import { startProgress } from '../../progress.js';
import { sanitizeCell } from '../../render.js';
import { withExamples } from '../examples.js';
import { ADMINISTERED_ORG, dryRunOption, type OptionsOf, orgOption, reasonOption, ticketOption } from '../flags.js';

const define = (org: CommandUnknownOpts) =>
  org
    .command('disable-mfa')
    .description('disable MFA for members (one password re-entry for the batch; one result per user)')
    .addOption(orgOption(ADMINISTERED_ORG))
    .option('--user <email...>', 'the members')
    .option('--users-from <file>', 'emails, one a line, or CSV with an email column; - for stdin')
    .option('--include-self', 'disable your own MFA too when the list names you (otherwise you are skipped: skipped-self)')
    .addOption(dryRunOption('show what would change, change nothing'))
    .addOption(ticketOption('ticket reference for the audit trail (required for support)'))
    .addOption(reasonOption());
type DisableMfaOptions = OptionsOf<typeof define>;

export function registerOrgDisableMfa(org: CommandUnknownOpts, act: Act): void {
  withExamples(define(org), [
    'portal-mfa org disable-mfa --org acme --user dave@acme.example erin@acme.example',
    'portal-mfa org disable-mfa --org acme --users-from leavers.csv --dry-run',
    '(echo "$PASSWORD"; cat emails.txt) | portal-mfa org disable-mfa --org acme --users-from - --password-stdin --ticket SUP-77 --yes',
  ]).action(act(disableMfaCommand));
}

async function disableMfaCommand(ctx: CommandContext, opts: DisableMfaOptions): Promise<void> {
  const { parseUserList } = await import('../../../core/usecases/organisations.js');
  const { validateReason, validateTicket } = await import('../../../core/usecases/changeOnUser.js');
  const { validateSlug } = await import('../../../core/rules/authorise.js');
  const { portal, reauthPassword, resolveActor } = await import('../../actor.js');
  if (!opts.user && opts.usersFrom === undefined) throw usageError('name the members with --user EMAIL… or --users-from FILE|-');
  if (!opts.dryRun) requireConfirmable(ctx);
  let emails = [...(opts.user ?? [])];
  // the list is read and checked before anything else (a bad list changes nothing and asks nothing)
  if (opts.usersFrom !== undefined) {
    let text: string;
    // with --password-stdin line 1 is the password; the list follows it
    if (opts.usersFrom === '-') text = await ctx.readStdinAfter(ctx.globals.passwordStdin ? 1 : 0);
    else {
      try {
        text = readFileSync(opts.usersFrom, 'utf8');
      } catch (e) {
        throw usageError(`cannot read ${opts.usersFrom}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }
    emails = emails.concat(await parseUserList(text));
  }
  if (emails.length === 0) throw usageError('the user list is empty');
  // flags before any password: a malformed one asks nothing
  const ticket = validateTicket(opts.ticket);
  validateReason(opts.reason);
  if (opts.org !== undefined) validateSlug(opts.org);
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'org.disable-mfa',
    // the organisation, and support's ticket, before the actor's code is used or the password asked again
    precheck: { organisation: { orgSlug: opts.org, action: 'org.disable-mfa', supportAllowed: true, ticket } },
  });
  const password = opts.dryRun ? undefined : await reauthPassword(ctx, mfa, actor, 'org.disable-mfa');
  const selfNote = (self: 'skipped' | 'included' | null) => {
    if (self === 'skipped')
      ctx.out.warn(`the list names you (${actor.user.email}): your own MFA stays on (skipped-self); add --include-self to disable it too`);
    if (self === 'included') ctx.out.warn(`the list names you (${actor.user.email}) and --include-self is given: your own MFA is disabled too`);
  };
  // Ctrl-C (or SIGTERM) during the run: the chunk in flight commits or rolls back whole; its results
  // are printed, no new chunk starts, and the summary says what was done and how to finish
  const stop = new AbortController();
  const run = await mfa.disableMembers(actor, {
    orgSlug: opts.org,
    emails,
    ticket: opts.ticket,
    reason: opts.reason,
    password,
    dryRun: opts.dryRun,
    includeSelf: opts.includeSelf,
    signal: stop.signal,
    confirm: async (count, org, self) => {
      selfNote(self);
      await confirmOrCancel(ctx, `Disable MFA for ${count} member(s) of ${org}?`);
      return true;
    },
  });
  if ('kind' in run) throw cancelled('cancelled; nothing was changed');
  if (opts.dryRun) selfNote(run.self);
  const interrupt = () => stop.abort();
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const progress = await startProgress(ctx, { label: opts.dryRun ? 'checking' : 'disabling', total: run.total });
  const tally = new Map<string, number>();
  let failures = 0;
  // the first failure's kind becomes the command's error (its exit code: main.ts); each line shows its own
  let first: { email: string; message: string; kind: ErrorKind } | undefined;
  let seen = 0;
  try {
    for await (const r of run.results) {
      seen++;
      const exitCode = exitCodeOf(r.errorKind);
      tally.set(r.outcome, (tally.get(r.outcome) ?? 0) + 1);
      if (r.errorKind !== null) {
        failures++;
        first ??= { email: r.email, message: r.message, kind: r.errorKind };
      }
      progress.increment();
      // one result line, kept apart from the bar (src/cli/progress.ts); the bar is gone before the summary
      await progress.result(
        ctx.out.json
          ? JSON.stringify({ email: r.email, outcome: r.outcome, exitCode, message: r.message })
          : ctx.io.stdoutIsTTY
            ? `${exitCode === 0 ? ctx.out.style.green('✓') : ctx.out.style.red('✗')} ${sanitizeCell(r.email)}  ${sanitizeCell(r.message)}`
            : [r.email, r.outcome, String(exitCode), r.message].map(sanitizeCell).join('\t'),
      );
    }
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    progress.done();
  }
  const summary = [...tally.entries()].map(([k, v]) => `${v} ${k}`).join(', ');
  if (seen < run.total) {
    // stopped: every committed result is on stdout; what is left is a run of the same command away
    const disabled = tally.get(opts.dryRun ? 'would-disable' : 'disabled') ?? 0;
    ctx.out.info(
      `${opts.dryRun ? 'dry run ' : ''}stopped after ${seen} of ${run.total} user(s) of ${run.organisation}` +
        `${seen > 0 ? ` (${summary})` : ''}; ${run.total - seen} not looked at`,
    );
    throw cancelled(`cancelled: ${disabled} of ${run.total} ${opts.dryRun ? 'would be disabled' : 'disabled'} so far`, {
      hint: opts.dryRun ? 'run the same command again for the whole list' : 'run the same command again to finish; the users done now report already-off',
    });
  }
  ctx.out.info(`${opts.dryRun ? 'dry run: ' : ''}${run.total} user(s) of ${run.organisation}: ${summary}`);
  if (first) {
    throw new PortalMfaError(
      first.kind,
      `${failures} of ${run.total} user(s) not ${opts.dryRun ? 'disableable' : 'disabled'} (first: ${first.email}: ${first.message})`,
    );
  }
}
