import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import type { CommandContext } from '../context.js';
import { type Cell, humanTime, humanTimeUntil, isoOrNull, painted } from '../render.js';
import { withExamples } from './examples.js';
import { type OptionsOf, orgOption } from './flags.js';

const define = (program: CommandUnknownOpts) =>
  program
    .command('status')
    .description('MFA state (none / pending / active), times, failures, lock, devices and recovery codes left')
    .option('--user <email>', 'whose status (default: the actor)')
    .addOption(orgOption('the organisation you act in, for an admin of several'));
type StatusOptions = OptionsOf<typeof define>;

export function registerStatus(program: CommandUnknownOpts, act: Act): void {
  withExamples(define(program), [
    'portal-mfa status                                        # your own MFA state',
    "portal-mfa status --user devon@example.com               # support or org admin: someone else's",
    'portal-mfa status --user bob@globex.example --org globex --json',
  ]).action(act(status));
}

async function status(ctx: CommandContext, opts: StatusOptions): Promise<void> {
  const { portal, resolveActor } = await import('../actor.js');
  const { normaliseEmail } = await import('../../core/primitives/email.js');
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'mfa.status',
    // read-only: an ambiguous organisation does not matter (the first is recorded)
    precheck: {
      intent: opts.user === undefined || normaliseEmail(opts.user) === normaliseEmail(ctx.globals.as ?? '') ? 'status-self' : 'other',
      target: { targetEmail: opts.user, orgSlug: opts.org, permission: 'view', action: 'mfa.status', canPick: true },
    },
  });
  const s = await mfa.status(actor, { targetEmail: opts.user, orgSlug: opts.org });
  if (ctx.out.json) {
    ctx.out.printJson({
      email: s.email,
      name: s.name,
      mfa: s.state,
      enrolledAt: isoOrNull(s.enrolledAt),
      confirmedAt: isoOrNull(s.confirmedAt),
      lastUsedAt: isoOrNull(s.lastUsedAt),
      pendingSince: isoOrNull(s.pendingSince),
      consecutiveFailures: s.consecutiveFailures,
      locked: s.lockedUntil !== null || s.hardLocked,
      lockedUntil: isoOrNull(s.lockedUntil),
      hardLocked: s.hardLocked,
      trustedDevices: s.trustedDevices,
      recoveryCodesLeft: s.recoveryCodesLeft,
      accessCode: s.accessCode ? { expiresAt: isoOrNull(s.accessCode.expiresAt), usesLeft: s.accessCode.usesLeft } : null,
      enrolmentDeadlines: s.enrolmentDeadlines.map((d) => ({ organisation: d.organisation, deadline: isoOrNull(d.deadline) })),
    });
    return;
  }
  // coloured cells are painted by the renderer after it sanitises them (src/cli/render.ts)
  const state = painted(s.state, s.state === 'active' ? 'green' : s.state === 'pending' ? 'yellow' : 'red');
  const lock = s.hardLocked
    ? painted('hard-locked (until an unlock)', 'red')
    : s.lockedUntil !== null
      ? painted(`until ${humanTimeUntil(s.lockedUntil)}`, 'red')
      : 'no';
  const rows: [string, Cell][] = [
    ['user', `${s.email}${s.name ? ` (${s.name})` : ''}`],
    ['mfa', state],
    ['enrolled', humanTime(s.enrolledAt)],
    ['confirmed', humanTime(s.confirmedAt)],
    ['last used', humanTime(s.lastUsedAt)],
  ];
  if (s.pendingSince !== null) rows.push(['pending since', humanTime(s.pendingSince)]);
  rows.push(
    ['failures', String(s.consecutiveFailures)],
    ['locked', lock],
    ['trusted devices', String(s.trustedDevices)],
    ['recovery codes', `${s.recoveryCodesLeft} left`],
  );
  if (s.accessCode) rows.push(['access code', `live until ${humanTime(s.accessCode.expiresAt)}, ${s.accessCode.usesLeft} use(s) left`]);
  for (const d of s.enrolmentDeadlines)
    rows.push([`enrol for ${d.organisation}`, d.deadline === null ? painted('now (required)', 'red') : `by ${humanTime(d.deadline)}`]);
  ctx.out.fields(rows);
}
