import { humanTime, humanTimeUntil, isoOrNull } from '../render.js';
import { portal, reauthPassword, resolveActor } from '../actor.js';
import { requireConfirmable, confirmOrCancel } from '../confirm.js';
import type { IssueOptions, RevokeOptions, UnlockOptions, UsersListOptions } from '../commands/support.js';
import type { CommandContext } from '../context.js';
import { organisationPicker } from '../targets.js';
import { validateTicket } from '../../core/disable.js';
import { usageError } from '../../core/errors.js';
import { streamRecords } from './org.js';

export async function unlock(ctx: CommandContext, opts: UnlockOptions): Promise<void> {
  if (!opts.dryRun) requireConfirmable(ctx);
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'mfa.unlock',
    precheck: {
      target: {
        targetEmail: opts.user,
        orgSlug: opts.org,
        permission: 'unlock',
        action: 'mfa.unlock',
        ticket: validateTicket(opts.ticket),
        canPick: ctx.io.canPrompt,
      },
    },
  });
  const password = opts.dryRun ? undefined : await reauthPassword(ctx, mfa, actor);
  if (!opts.dryRun) await confirmOrCancel(ctx, `Unlock ${opts.user}?`);
  const r = await mfa.unlock(actor, {
    password,
    targetEmail: opts.user,
    orgSlug: opts.org,
    ticket: opts.ticket,
    reason: opts.reason,
    dryRun: opts.dryRun,
    pickOrganisation: organisationPicker(ctx),
  });
  if (ctx.out.json) {
    ctx.out.printJson({
      email: r.email,
      unlocked: r.kind === 'unlocked',
      dryRun: r.kind === 'dry-run',
      wasHardLocked: r.wasHardLocked,
      lockedUntil: isoOrNull(r.lockedUntil),
      consecutiveFailures: r.consecutiveFailures,
      passwordLocked: r.passwordLocked,
    });
    return;
  }
  const what = r.wasHardLocked ? 'hard lock' : r.lockedUntil !== null ? `lock until ${humanTimeUntil(r.lockedUntil)}` : `${r.consecutiveFailures} failure(s)`;
  if (r.kind === 'dry-run')
    ctx.out.line(`dry run: would clear ${r.email}'s ${what}${r.passwordLocked ? ' and wrong-password limit' : ''}; nothing was changed`);
  else ctx.out.success(`unlocked ${r.email} (cleared ${what}${r.passwordLocked ? ' and the wrong-password limit' : ''})`);
}

export async function issueAccessCode(ctx: CommandContext, opts: IssueOptions): Promise<void> {
  const { minutes, uses } = opts;
  if (!opts.dryRun) requireConfirmable(ctx);
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'access-code.issue',
    precheck: {
      target: {
        targetEmail: opts.user,
        orgSlug: opts.org,
        permission: 'access-code',
        action: 'access-code.issue',
        ticket: validateTicket(opts.ticket),
        canPick: ctx.io.canPrompt,
      },
    },
  });
  const password = opts.dryRun ? undefined : await reauthPassword(ctx, mfa, actor);
  if (!opts.dryRun) await confirmOrCancel(ctx, `Issue a temporary access code for ${opts.user}?`);
  const r = await mfa.issueAccessCode(actor, {
    password,
    targetEmail: opts.user,
    orgSlug: opts.org,
    ticket: opts.ticket,
    reason: opts.reason,
    minutes,
    uses,
    dryRun: opts.dryRun,
    pickOrganisation: organisationPicker(ctx),
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

export async function revokeAccessCode(ctx: CommandContext, opts: RevokeOptions): Promise<void> {
  if (!opts.dryRun) requireConfirmable(ctx);
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'access-code.revoke',
    precheck: {
      target: {
        targetEmail: opts.user,
        orgSlug: opts.org,
        permission: 'access-code',
        action: 'access-code.revoke',
        ticket: validateTicket(opts.ticket),
        canPick: ctx.io.canPrompt,
      },
    },
  });
  const password = opts.dryRun ? undefined : await reauthPassword(ctx, mfa, actor);
  if (!opts.dryRun) await confirmOrCancel(ctx, `Revoke ${opts.user}'s access code?`);
  const r = await mfa.revokeAccessCode(actor, {
    password,
    targetEmail: opts.user,
    orgSlug: opts.org,
    ticket: opts.ticket,
    reason: opts.reason,
    dryRun: opts.dryRun,
    pickOrganisation: organisationPicker(ctx),
  });
  if (ctx.out.json) ctx.out.printJson({ email: r.email, revoked: r.kind === 'revoked', dryRun: r.kind === 'dry-run' });
  else if (r.kind === 'dry-run') ctx.out.line(`dry run: would revoke ${r.email}'s access code; nothing was changed`);
  else ctx.out.success(`revoked ${r.email}'s access code`);
}

const USER_COLUMNS = ['email', 'name', 'role', 'mfa', 'enrolledAt', 'lastUsedAt', 'locked', 'organisations'] as const;

export async function listUsers(ctx: CommandContext, opts: UsersListOptions): Promise<void> {
  // (--json is a global flag: commander's conflicts() sees only the command's own)
  if (opts.csv && ctx.out.json) throw usageError('choose --json or --csv, not both');
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, { action: 'users.list' });
  const rows = await mfa.listUsers(actor, { mfa: opts.mfa, orgSlug: opts.org, role: opts.role, locked: opts.locked });
  const n = await streamRecords(ctx, rows, ctx.out.json ? 'json' : opts.csv ? 'csv' : 'tsv', USER_COLUMNS, (u) => ({
    email: u.email,
    name: u.name,
    role: u.role,
    mfa: u.mfa,
    enrolledAt: isoOrNull(u.enrolledAt),
    lastUsedAt: isoOrNull(u.lastUsedAt),
    locked: u.hardLocked ? 'hard' : u.lockedUntil !== null && u.lockedUntil > ctx.clock() ? isoOrNull(u.lockedUntil) : null,
    organisations: u.organisations,
  }));
  if (!ctx.out.json && !opts.csv) ctx.out.info(`${n} user(s)`);
}
