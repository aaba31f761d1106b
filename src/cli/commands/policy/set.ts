import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import { usageError } from '../../../core/errors.js';
import { LIMITS } from '../../../core/rules/policy.js';
import type { Act } from '../../act.js';
import { requireConfirmable } from '../../confirm.js';
import type { CommandContext } from '../../context.js';
import { withExamples } from '../examples.js';
import { dryRunOption, type OptionsOf, reasonOption, ticketOption, wholeNumber } from '../flags.js';
import { policyJson, printPolicy } from './render.js';

/** The limits a flag sets, by flag (each checked against its range by the core). */
const LIMIT_FLAGS = {
  window: ['--window <steps>', 'accepted clock drift, steps either side (0–2)'],
  maxFailures: ['--max-failures <n>', 'failed codes before a lock'],
  lockMinutes: ['--lock-minutes <n>', 'the first lock, minutes (then doubling)'],
  maxLockMinutes: ['--max-lock-minutes <n>', 'the longest lock, minutes'],
  hardLockFailures: ['--hard-lock-failures <n>', 'failures before a hard lock (until unlock)'],
  trustDays: ['--trust-days <n>', 'trusted-device lifetime, days'],
  sessionHours: ['--session-hours <n>', 'CLI session lifetime, hours'],
  reauthSeconds: ['--reauth-seconds <n>', 'a password counts as re-entered for, seconds'],
  diagnosePerHour: ['--diagnose-per-hour <n>', 'clock diagnoses per user per hour'],
  passwordFailures: ['--password-failures <n>', 'wrong passwords per user per window'],
  passwordWindowMinutes: ['--password-window-minutes <n>', 'the wrong-password window, minutes'],
} as const;

const define = (policy: CommandUnknownOpts) => {
  const cmd = policy
    .command('set')
    .description('change the portal-wide policy (support, with a ticket and your password)')
    .option('--require', 'require MFA for every account')
    .option('--no-require', 'recommend MFA only (organisations may still require it)')
    .addOption(new Option('--grace-days <n>', 'days accounts have to enrol after --require (0 = none)').argParser(wholeNumber({ min: 0, max: 365 })))
    .option(
      '--smtp-relay <url>',
      "where notices are mailed: smtp://host:port or smtps://… without credentials (the operator's own config lends them); none: keep them in the outbox",
    )
    .option('--mail-from <address>', 'the sender of every notice, with --smtp-relay')
    .addOption(ticketOption('support ticket reference (required)'))
    .addOption(reasonOption())
    .addOption(dryRunOption('show the policy it would store, change nothing'));
  for (const [name, [flag, help]] of Object.entries(LIMIT_FLAGS)) {
    const { min, max } = LIMITS[name as keyof typeof LIMIT_FLAGS];
    cmd.addOption(new Option(flag, `${help} (${min}–${max})`).argParser(wholeNumber({ min, max })));
  }
  return cmd;
};
type SetOptions = OptionsOf<typeof define> & Record<string, unknown>;

export function registerPolicySet(policy: CommandUnknownOpts, act: Act): void {
  withExamples(define(policy), [
    'portal-mfa policy set --require --grace-days 14 --ticket SUP-77',
    'portal-mfa policy set --max-failures 3 --trust-days 7 --ticket SUP-78 --dry-run',
    'portal-mfa policy set --smtp-relay smtp://mail.internal:587 --mail-from "Portal <no-reply@portal.example>" --ticket SUP-79',
  ]).action(act(set));
}

async function set(ctx: CommandContext, opts: SetOptions): Promise<void> {
  const limits: Record<string, number> = {};
  for (const name of Object.keys(LIMIT_FLAGS)) if (typeof opts[name] === 'number') limits[name] = opts[name] as number;
  let delivery: { relay: string; from: string } | null | undefined;
  if (opts.smtpRelay === 'none') delivery = null;
  else if (opts.smtpRelay !== undefined) {
    if (opts.mailFrom === undefined) throw usageError('--smtp-relay needs --mail-from (the sender of every notice)');
    delivery = { relay: opts.smtpRelay, from: opts.mailFrom };
  } else if (opts.mailFrom !== undefined) throw usageError('--mail-from goes with --smtp-relay');
  const change = {
    mfaRequired: opts.require,
    graceDays: opts.graceDays === undefined ? undefined : opts.graceDays === 0 ? null : opts.graceDays,
    limits,
    delivery,
  };
  if (change.mfaRequired === undefined && change.graceDays === undefined && Object.keys(limits).length === 0 && delivery === undefined) {
    throw usageError('nothing to change', { hint: 'see portal-mfa help policy set' });
  }
  const { portal, reauthPassword, resolveActor } = await import('../../actor.js');
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, { action: 'policy.set' });
  if (!opts.dryRun) requireConfirmable(ctx);
  // refusals that need no password come first (support only, a ticket, a relay that cannot be used)
  const preview = await mfa.setPortalPolicy(actor, { change, ticket: opts.ticket, reason: opts.reason, dryRun: true });
  if (opts.dryRun || preview.kind === 'unchanged') {
    if (ctx.out.json) ctx.out.printJson({ dryRun: Boolean(opts.dryRun), changed: false, policy: policyJson(preview.after) });
    else {
      printPolicy(ctx, preview.after);
      ctx.out.info(preview.kind === 'unchanged' ? 'the policy already says this; nothing was changed' : 'dry run: nothing was changed');
    }
    return;
  }
  if (!opts.ticket) throw usageError('a change of the portal policy needs a ticket reference', { code: 'ticket_required', hint: 'pass --ticket SUP-1234' });
  const password = await reauthPassword(ctx, mfa, actor, 'policy.set');
  const result = await mfa.setPortalPolicy(actor, { change, ticket: opts.ticket, reason: opts.reason, password });
  if (ctx.out.json) {
    ctx.out.printJson({ dryRun: false, changed: result.kind === 'changed', policy: policyJson(result.after), noticesQueued: result.noticesQueued });
    return;
  }
  printPolicy(ctx, result.after);
  ctx.out.success(
    `portal policy changed (ticket ${opts.ticket})${result.noticesQueued ? `; ${result.noticesQueued} account(s) without MFA told they must enrol` : ''}`,
  );
}
