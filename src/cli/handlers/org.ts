import { readFileSync } from 'node:fs';
import { validateReason, validateTicket } from '../../core/disable.js';
import { usageError } from '../../core/errors.js';
import { disableMemberMfa, membersWithoutMfa, organisationForAdmin, parseUserList, setOrganisationPolicy, type BulkResult } from '../../core/organisations.js';
import { organisationSummaries, streamMembers, type MemberFilter, type MemberReportRow } from '../../db/organisationReports.js';
import { mfaDeps, resolveActor } from '../actor.js';
import { confirmOrCancel } from '../confirm.js';
import type { CommandContext } from '../context.js';
import { startProgress } from '../progress.js';
import { humanTime, isoOrNull, sanitizeCell } from '../render.js';


export async function list(ctx: CommandContext): Promise<void> {
  const deps = await mfaDeps(ctx);
  const actor = await resolveActor(ctx, deps, { action: 'org.list' });
  const rows = await organisationSummaries(deps.knex, actor.user.role === 'support' ? null : actor.user.id);
  if (ctx.out.json) {
    ctx.out.printJson(
      rows.map((r) => ({ slug: r.slug, name: r.name, role: r.role, mfaRequired: r.mfaRequired, graceDays: r.graceDays, deviceTrust: r.deviceTrust, members: r.members, mfaActive: r.mfaActive })),
    );
    return;
  }
  if (rows.length === 0) {
    ctx.out.info(`${actor.user.email} is in no organisation`);
    return;
  }
  ctx.out.table(
    [
      { header: 'org', value: (r: (typeof rows)[number]) => r.slug },
      { header: 'name', value: (r) => r.name },
      { header: 'role', value: (r) => r.role },
      { header: 'mfa required', value: (r) => (r.mfaRequired ? (r.graceDays ? `yes (${r.graceDays}d grace)` : 'yes') : 'no') },
      { header: 'device trust', value: (r) => (r.deviceTrust ? 'on' : 'off') },
      { header: 'members', value: (r) => String(r.members) },
      { header: 'mfa active', value: (r) => String(r.mfaActive) },
    ],
    rows,
  );
}

function parseMemberFilter(opts: { mfa?: string; role?: string }): MemberFilter {
  const filter: MemberFilter = {};
  if (opts.mfa !== undefined) {
    if (!['on', 'off', 'pending'].includes(opts.mfa)) throw usageError(`--mfa takes on, off or pending (got ${JSON.stringify(opts.mfa.slice(0, 20))})`);
    filter.mfa = opts.mfa as MemberFilter['mfa'];
  }
  if (opts.role !== undefined) {
    if (!['admin', 'member'].includes(opts.role)) throw usageError(`--role takes admin or member (got ${JSON.stringify(opts.role.slice(0, 20))})`);
    filter.role = opts.role as MemberFilter['role'];
  }
  return filter;
}

const CSV_COLUMNS = ['email', 'name', 'role', 'mfa', 'enrolledAt', 'lastUsedAt', 'trustedDevices'] as const;

function memberRecord(r: MemberReportRow) {
  return { email: r.email, name: r.name, role: r.role, mfa: r.mfa, enrolledAt: isoOrNull(r.enrolledAt), lastUsedAt: isoOrNull(r.lastUsedAt), trustedDevices: r.trustedDevices };
}

/** Write with back-pressure, so a slow reader (or `| head`) never makes us buffer the organisation. */
async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}

export async function users(ctx: CommandContext, opts: { org: string; mfa?: string; role?: string; csv?: boolean }): Promise<void> {
  const filter = parseMemberFilter(opts);
  if (opts.csv && ctx.out.json) throw usageError('choose --json or --csv, not both');
  const deps = await mfaDeps(ctx);
  const actor = await resolveActor(ctx, deps, { action: 'org.users' });
  const org = await organisationForAdmin(deps, actor.user, opts.org, 'org.users', { supportAllowed: true });
  const rows = streamMembers(deps.knex, org.id, filter, deps.clock());
  const out = ctx.io.stdout;
  if (ctx.out.json) {
    let chunk = '';
    let n = 0;
    for await (const r of rows) {
      chunk += JSON.stringify(memberRecord(r)) + '\n';
      if (++n % 500 === 0) {
        await write(out, chunk);
        chunk = '';
      }
    }
    if (chunk) await write(out, chunk);
    return;
  }
  if (opts.csv) {
    const { stringify } = await import('csv-stringify/sync');
    await write(out, stringify([CSV_COLUMNS as unknown as string[]], { record_delimiter: '\r\n' }));
    let batch: unknown[][] = [];
    for await (const r of rows) {
      const m = memberRecord(r);
      batch.push(CSV_COLUMNS.map((c) => m[c] ?? ''));
      if (batch.length >= 500) {
        await write(out, stringify(batch, { record_delimiter: '\r\n' }));
        batch = [];
      }
    }
    if (batch.length) await write(out, stringify(batch, { record_delimiter: '\r\n' }));
    return;
  }
  // human: aligned on a terminal (one page at a time), tab-separated otherwise
  let count = 0;
  if (!ctx.io.stdoutIsTTY) {
    for await (const r of rows) {
      await write(out, [r.email, r.name, r.role, r.mfa, humanTime(r.enrolledAt), humanTime(r.lastUsedAt), String(r.trustedDevices)].map(sanitizeCell).join('\t') + '\n');
      count++;
    }
    return;
  }
  let page: MemberReportRow[] = [];
  const flush = () => {
    ctx.out.table(
      [
        { header: 'email', value: (r: MemberReportRow) => r.email },
        { header: 'name', value: (r) => r.name },
        { header: 'role', value: (r) => r.role },
        { header: 'mfa', value: (r) => r.mfa, color: (v, s) => (v === 'active' ? s.green(v) : v === 'pending' ? s.yellow(v) : s.red(v)) },
        { header: 'enrolled', value: (r) => humanTime(r.enrolledAt) },
        { header: 'last used', value: (r) => humanTime(r.lastUsedAt) },
        { header: 'devices', value: (r) => String(r.trustedDevices) },
      ],
      page,
    );
    page = [];
  };
  for await (const r of rows) {
    page.push(r);
    count++;
    if (page.length >= 1000) flush();
  }
  if (page.length) flush();
  ctx.out.info(`${count} member(s) of ${org.slug}`);
}

export async function policy(ctx: CommandContext, opts: { org: string; require?: boolean; graceDays?: string; deviceTrust?: string }): Promise<void> {
  let graceDays: number | null | undefined;
  if (opts.graceDays !== undefined) {
    if (!/^\d{1,4}$/.test(opts.graceDays.trim()) || Number(opts.graceDays) > 3650) throw usageError('--grace-days takes a whole number of days from 0 to 3650');
    graceDays = Number(opts.graceDays) === 0 ? null : Number(opts.graceDays);
  }
  let deviceTrust: boolean | undefined;
  if (opts.deviceTrust !== undefined) {
    if (opts.deviceTrust !== 'on' && opts.deviceTrust !== 'off') throw usageError('--device-trust takes on or off');
    deviceTrust = opts.deviceTrust === 'on';
  }
  if (opts.require === undefined && graceDays === undefined && deviceTrust === undefined) {
    throw usageError('nothing to change', { hint: 'pass --require or --no-require, --grace-days N, --device-trust on|off' });
  }
  if (opts.require === false && graceDays !== undefined) throw usageError('--grace-days goes with --require');
  const deps = await mfaDeps(ctx);
  const actor = await resolveActor(ctx, deps, { action: 'org.policy', sensitive: true });
  const org = await organisationForAdmin(deps, actor.user, opts.org, 'org.policy', { supportAllowed: false });
  const requiresAfter = opts.require ?? org.mfa_required;
  if (requiresAfter && (!org.mfa_required || graceDays !== undefined)) {
    const lacking = await membersWithoutMfa(deps, org);
    // reported before the question only: a scripted run refused for want of --yes keeps stderr to one line
    if (ctx.globals.yes || ctx.io.canPrompt) ctx.io.stderr.write(
      `${lacking.total} member(s) of ${org.slug} (${lacking.admins} admin(s) among them) have no MFA and will be made to enrol` +
        `${graceDays ? ` after a ${graceDays}-day grace period` : ' at their next login'}.\n`,
    );
    await confirmOrCancel(ctx, `Require MFA for ${org.slug}?`);
  } else if (opts.require === false || deviceTrust !== undefined) {
    await confirmOrCancel(ctx, `Change the MFA policy of ${org.slug}?`);
  }
  const result = await setOrganisationPolicy(deps, actor.user, org, { require: opts.require, graceDays, deviceTrust });
  if (ctx.out.json) {
    ctx.out.printJson({ organisation: org.slug, ...result.after, before: result.before, membersWithoutMfa: result.membersWithoutMfa.total, adminsWithoutMfa: result.membersWithoutMfa.admins });
    return;
  }
  const a = result.after;
  ctx.out.success(
    `${org.slug}: MFA ${a.mfaRequired ? `required${a.graceDays ? ` (${a.graceDays}-day grace)` : ''}` : 'optional'}; trusted devices ${a.deviceTrust ? 'allowed' : 'off'}`,
  );
}

export async function disableMfaCommand(
  ctx: CommandContext,
  opts: { org: string; user?: string[]; usersFrom?: string; dryRun?: boolean; ticket?: string; reason?: string },
): Promise<void> {
  const ticket = validateTicket(opts.ticket);
  const reason = validateReason(opts.reason);
  if (!opts.user && opts.usersFrom === undefined) throw usageError('name the members with --user EMAIL… or --users-from FILE|-');
  let emails = [...(opts.user ?? [])];
  if (opts.usersFrom !== undefined) {
    let text: string;
    // with --password-stdin the first line of stdin is the password and the list follows it
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
  const deps = await mfaDeps(ctx);
  const actor = await resolveActor(ctx, deps, { action: 'org.disable-mfa', sensitive: true });
  const org = await organisationForAdmin(deps, actor.user, opts.org, 'org.disable-mfa', { supportAllowed: true });
  if (!opts.dryRun) await confirmOrCancel(ctx, `Disable MFA for ${emails.length} member(s) of ${org.slug}?`);

  const progress = await startProgress(ctx, { label: opts.dryRun ? 'checking' : 'disabling', total: emails.length });
  const tally = new Map<string, number>();
  let firstFailure: BulkResult | undefined;
  try {
    for (const email of emails) {
      const r = await disableMemberMfa(deps, actor.user, org, email, { dryRun: Boolean(opts.dryRun), ticket, reason });
      tally.set(r.outcome, (tally.get(r.outcome) ?? 0) + 1);
      if (r.exitCode !== 0 && !firstFailure) firstFailure = r;
      progress.increment();
      if (ctx.out.json) await progress.result(JSON.stringify(r));
      else if (ctx.io.stdoutIsTTY) {
        const mark = r.exitCode === 0 ? ctx.out.style.green('✓') : ctx.out.style.red('✗');
        await progress.result(`${mark} ${sanitizeCell(r.email)}  ${sanitizeCell(r.message)}`);
      } else await progress.result([r.email, r.outcome, String(r.exitCode), r.message].map(sanitizeCell).join('\t'));
    }
  } finally {
    progress.done();
  }
  const summary = [...tally.entries()].map(([k, v]) => `${v} ${k}`).join(', ');
  ctx.out.info(`${opts.dryRun ? 'dry run: ' : ''}${emails.length} user(s): ${summary}`);
  if (firstFailure) {
    const { PortalMfaError } = await import('../../core/errors.js');
    const kind = ({ 2: 'usage', 3: 'not_found', 6: 'wrong_state' } as const)[firstFailure.exitCode as 2 | 3 | 6] ?? 'rejected';
    throw new PortalMfaError(kind, `${emails.length - (tally.get('disabled') ?? 0) - (tally.get('would-disable') ?? 0)} of ${emails.length} user(s) not ${opts.dryRun ? 'disableable' : 'disabled'} (first: ${firstFailure.email}: ${firstFailure.message})`);
  }
}
