import { readFileSync } from 'node:fs';
import { cancelled, PortalMfaError, usageError } from '../../core/errors.js';
import type { MemberView, RowStream } from '../../core/organisations.js';
import { parseUserList } from '../../core/organisations.js';
import { portal, reauthPassword, resolveActor } from '../actor.js';
import type { DisableMfaOptions, PolicyOptions, RemindOptions, UsersOptions } from '../commands/org.js';
import { confirmOrCancel, requireConfirmable } from '../confirm.js';
import type { CommandContext } from '../context.js';
import { csvRow } from '../csv.js';
import { EXIT_CODES } from '../exitCodes.js';
import { startProgress } from '../progress.js';
import { humanTime, isoOrNull, sanitizeCell } from '../render.js';

export async function list(ctx: CommandContext): Promise<void> {
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, { action: 'org.list' });
  const rows = await mfa.listOrganisations(actor);
  if (ctx.out.json) {
    ctx.out.printJson(
      rows.map((r) => ({
        slug: r.slug,
        name: r.name,
        role: r.role,
        mfaRequired: r.mfaRequired,
        graceDays: r.graceDays,
        deviceTrust: r.deviceTrust,
        members: r.members,
        mfaActive: r.mfaActive,
      })),
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

const CSV_COLUMNS = ['email', 'name', 'role', 'mfa', 'enrolledAt', 'lastUsedAt', 'trustedDevices', 'deadline'] as const;

function memberRecord(r: MemberView) {
  return {
    email: r.email,
    name: r.name,
    role: r.role,
    mfa: r.mfa,
    enrolledAt: isoOrNull(r.enrolledAt),
    lastUsedAt: isoOrNull(r.lastUsedAt),
    trustedDevices: r.trustedDevices,
    deadline: isoOrNull(r.deadline),
  };
}

/** Write with back-pressure, so a slow reader (or `| head`) never makes us buffer the organisation. */
export async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}

/**
 * Stream records as NDJSON, CSV or TSV in batches: one write per page of a RowStream (the report's
 * own pages), or per 500 records of any other iterable.
 */
export async function streamRecords<R>(
  ctx: CommandContext,
  rows: AsyncIterable<R> | RowStream<R>,
  format: 'json' | 'csv' | 'tsv',
  columns: readonly string[],
  record: (r: R) => Record<string, unknown>,
): Promise<number> {
  const out = ctx.io.stdout;
  const line =
    format === 'json'
      ? (rec: Record<string, unknown>) => JSON.stringify(rec) + '\n'
      : format === 'csv'
        ? (rec: Record<string, unknown>) => csvRow(columns.map((c) => rec[c]))
        : (rec: Record<string, unknown>) => columns.map((c) => sanitizeCell(rec[c] === null || rec[c] === undefined ? '-' : String(rec[c]))).join('\t') + '\n';
  let n = 0;
  if (format === 'csv') await write(out, csvRow([...columns]));
  if ('pages' in rows) {
    for await (const page of rows.pages()) {
      let chunk = '';
      for (const r of page) chunk += line(record(r));
      n += page.length;
      if (chunk) await write(out, chunk);
    }
    return n;
  }
  let chunk = '';
  for await (const r of rows) {
    chunk += line(record(r));
    if (++n % 500 === 0) {
      await write(out, chunk);
      chunk = '';
    }
  }
  if (chunk) await write(out, chunk);
  return n;
}

export async function users(ctx: CommandContext, opts: UsersOptions): Promise<void> {
  // (--json is a global flag: commander's conflicts() sees only the command's own)
  if (opts.csv && ctx.out.json) throw usageError('choose --json or --csv, not both');
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'org.users',
    precheck: { organisation: { orgSlug: opts.org, action: 'org.users', supportAllowed: true } },
  });
  const { organisation, members } = await mfa.listMembers(actor, {
    orgSlug: opts.org,
    filter: { mfa: opts.mfa, role: opts.role },
  });
  if (ctx.out.json || opts.csv || !ctx.io.stdoutIsTTY) {
    await streamRecords(ctx, members, ctx.out.json ? 'json' : opts.csv ? 'csv' : 'tsv', CSV_COLUMNS, memberRecord);
    return;
  }
  // human: aligned on a terminal, one page at a time
  let count = 0;
  let page: MemberView[] = [];
  const flush = () => {
    ctx.out.table(
      [
        { header: 'email', value: (r: MemberView) => r.email },
        { header: 'name', value: (r) => r.name },
        { header: 'role', value: (r) => r.role },
        { header: 'mfa', value: (r) => r.mfa, color: (v, s) => (v === 'active' ? s.green(v) : v === 'pending' ? s.yellow(v) : s.red(v)) },
        { header: 'enrolled', value: (r) => humanTime(r.enrolledAt) },
        { header: 'last used', value: (r) => humanTime(r.lastUsedAt) },
        { header: 'devices', value: (r) => String(r.trustedDevices) },
        { header: 'enrol by', value: (r) => humanTime(r.deadline) },
      ],
      page,
    );
    page = [];
  };
  for await (const r of members) {
    page.push(r);
    count++;
    if (page.length >= 1000) flush();
  }
  if (page.length) flush();
  ctx.out.info(`${count} member(s) of ${organisation}`);
}

export async function policy(ctx: CommandContext, opts: PolicyOptions): Promise<void> {
  // --grace-days 0: no grace period
  const change = {
    require: opts.require,
    graceDays: opts.graceDays === undefined ? undefined : opts.graceDays === 0 ? null : opts.graceDays,
    deviceTrust: opts.deviceTrust === undefined ? undefined : opts.deviceTrust === 'on',
  };
  const show = change.require === undefined && change.graceDays === undefined && change.deviceTrust === undefined;
  // (input is checked before the sign-in: a usage error spends no code)
  if (show && opts.dryRun) throw usageError('--dry-run goes with a change (--require, --no-require, --grace-days, --device-trust)');
  if (change.require === false && change.graceDays !== undefined) throw usageError('--grace-days goes with --require');
  if (!show && !opts.dryRun) requireConfirmable(ctx);
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'org.policy',
    // showing is open to support, changing is not
    precheck: { organisation: { orgSlug: opts.org, action: 'org.policy', supportAllowed: show } },
  });
  if (show) {
    const p = await mfa.showPolicy(actor, { orgSlug: opts.org });
    if (ctx.out.json) {
      ctx.out.printJson({
        organisation: p.organisation,
        mfaRequired: p.mfaRequired,
        graceDays: p.graceDays,
        deviceTrust: p.deviceTrust,
        requiredSince: isoOrNull(p.requiredSince),
        membersWithoutMfa: p.membersWithoutMfa.total,
        adminsWithoutMfa: p.membersWithoutMfa.admins,
        lacking: p.lacking.map((l) => ({ email: l.email, deadline: isoOrNull(l.deadline) })),
      });
      return;
    }
    ctx.out.fields([
      ['organisation', p.organisation],
      ['mfa', p.mfaRequired ? `required${p.graceDays ? ` (${p.graceDays}-day grace from ${humanTime(p.requiredSince)})` : ''}` : 'optional'],
      ['trusted devices', p.deviceTrust ? 'allowed' : 'off'],
      ['without mfa', `${p.membersWithoutMfa.total} member(s), ${p.membersWithoutMfa.admins} admin(s) among them`],
    ]);
    if (p.lacking.length > 0) {
      ctx.out.line('');
      ctx.out.table(
        [
          { header: 'member without mfa', value: (l: (typeof p.lacking)[number]) => l.email },
          { header: 'enrol by', value: (l) => (p.mfaRequired ? (l.deadline === null ? 'now' : humanTime(l.deadline)) : '-') },
        ],
        p.lacking,
      );
    }
    return;
  }
  const password = opts.dryRun ? undefined : await reauthPassword(ctx, mfa, actor);
  const result = await mfa.setPolicy(actor, {
    orgSlug: opts.org,
    change,
    password,
    dryRun: opts.dryRun,
    confirm: async ({ lacking, requiring }) => {
      if (requiring) {
        // reported before the question only: a scripted run keeps stderr to one line
        if (ctx.globals.yes || ctx.io.canPrompt) {
          ctx.io.stderr.write(
            `${lacking.total} member(s) (${lacking.admins} admin(s) among them) have no MFA and will be made to enrol` +
              `${change.graceDays ? ` after a ${change.graceDays}-day grace period` : ' at their next login'}.\n`,
          );
        }
        await confirmOrCancel(ctx, 'Require MFA?');
      } else await confirmOrCancel(ctx, 'Change the MFA policy?');
      return true;
    },
  });
  if (result.kind === 'cancelled') throw cancelled('cancelled; nothing was changed');
  const a = result.after;
  if (ctx.out.json) {
    ctx.out.printJson({
      organisation: result.organisation,
      ...a,
      before: result.before,
      dryRun: result.kind === 'dry-run',
      membersWithoutMfa: result.membersWithoutMfa.total,
      adminsWithoutMfa: result.membersWithoutMfa.admins,
      noticesQueued: result.noticesQueued,
      devicesRevoked: result.devicesRevoked,
    });
    return;
  }
  const text = `${result.organisation}: MFA ${a.mfaRequired ? `required${a.graceDays ? ` (${a.graceDays}-day grace)` : ''}` : 'optional'}; trusted devices ${a.deviceTrust ? 'allowed' : 'off'}`;
  if (result.kind === 'dry-run') {
    ctx.out.line(`dry run: would set ${text}; ${result.membersWithoutMfa.total} member(s) lack MFA; nothing was changed`);
    return;
  }
  ctx.out.success(text);
  if (result.devicesRevoked > 0) ctx.out.line(`${result.devicesRevoked} trusted device(s) of members revoked.`);
}

export async function remind(ctx: CommandContext, opts: RemindOptions): Promise<void> {
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'org.remind',
    precheck: { organisation: { orgSlug: opts.org, action: 'org.remind', supportAllowed: false } },
  });
  const result = await mfa.remindMembers(actor, { orgSlug: opts.org, dryRun: opts.dryRun });
  if (ctx.out.json) {
    ctx.out.printJson({
      organisation: result.organisation,
      dryRun: result.kind === 'dry-run',
      reminded: result.members.map((m) => ({ email: m.email, deadline: isoOrNull(m.deadline) })),
    });
    return;
  }
  const verb = result.kind === 'dry-run' ? 'dry run: would remind' : 'reminded';
  if (result.kind === 'queued') ctx.out.success(`${verb} ${result.members.length} member(s) of ${result.organisation} without MFA`);
  else ctx.out.line(`${verb} ${result.members.length} member(s) of ${result.organisation} without MFA; nothing was queued`);
  for (const m of result.members) ctx.out.line(`  ${sanitizeCell(m.email)}  enrol by ${m.deadline === null ? 'now' : humanTime(m.deadline)}`);
}

export async function disableMfaCommand(ctx: CommandContext, opts: DisableMfaOptions): Promise<void> {
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
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'org.disable-mfa',
    precheck: { organisation: { orgSlug: opts.org, action: 'org.disable-mfa', supportAllowed: true } },
  });
  const password = opts.dryRun ? undefined : await reauthPassword(ctx, mfa, actor);
  const run = await mfa.disableMembers(actor, {
    orgSlug: opts.org,
    emails,
    ticket: opts.ticket,
    reason: opts.reason,
    password,
    dryRun: opts.dryRun,
    confirm: async (count, org) => {
      await confirmOrCancel(ctx, `Disable MFA for ${count} member(s) of ${org}?`);
      return true;
    },
  });
  if ('kind' in run) throw cancelled('cancelled; nothing was changed');
  const progress = await startProgress(ctx, { label: opts.dryRun ? 'checking' : 'disabling', total: run.total });
  const tally = new Map<string, number>();
  let failures = 0;
  let first: { email: string; message: string; exitCode: number } | undefined;
  try {
    for await (const r of run.results) {
      const exitCode = r.errorKind === null ? 0 : EXIT_CODES[r.errorKind];
      tally.set(r.outcome, (tally.get(r.outcome) ?? 0) + 1);
      if (exitCode !== 0) {
        failures++;
        first ??= { email: r.email, message: r.message, exitCode };
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
    progress.done();
  }
  const summary = [...tally.entries()].map(([k, v]) => `${v} ${k}`).join(', ');
  ctx.out.info(`${opts.dryRun ? 'dry run: ' : ''}${run.total} user(s) of ${run.organisation}: ${summary}`);
  if (first) {
    const kind = (Object.entries(EXIT_CODES).find(([, v]) => v === first!.exitCode)?.[0] ?? 'rejected') as PortalMfaError['kind'];
    throw new PortalMfaError(
      kind,
      `${failures} of ${run.total} user(s) not ${opts.dryRun ? 'disableable' : 'disabled'} (first: ${first.email}: ${first.message})`,
    );
  }
}
