import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import type { AuditView } from '../../core/usecases/auditTrail.js';
import type { Act } from '../act.js';
import type { CommandContext } from '../context.js';
import { csvRow } from '../csv.js';
import { humanTime, isoOrNull } from '../render.js';
import { withExamples } from './examples.js';
import { csvOption, type OptionsOf, orgOption, pagerOption, parseSince, wholeNumber } from './flags.js';

const define = (program: CommandUnknownOpts) =>
  program
    .command('audit')
    .description('the audit trail, newest first (support: everything; org admins: their organisations; users: their own)')
    .option('--user <email>', 'events by or about this user')
    .addOption(orgOption('events in this organisation'))
    .option('--action <action>', 'one action (e.g. mfa.reset), or a prefix with * (mfa.*)')
    .addOption(new Option('--since <when>', 'from this date (2026-11-01, ISO-8601) or age (30m, 24h, 7d)').argParser(parseSince))
    .addOption(new Option('--limit <n>', 'at most this many events').argParser(wholeNumber({ min: 1, max: 100_000 })).default(50))
    .addOption(csvOption())
    .addOption(pagerOption())
    .option('--follow', 'keep printing new events as they arrive, until Ctrl-C');
type AuditOptions = OptionsOf<typeof define>;

export function registerAudit(program: CommandUnknownOpts, act: Act): void {
  withExamples(define(program), [
    'portal-mfa audit                                         # the latest 50 events you may see',
    'portal-mfa audit --user devon@example.com --since 7d',
    'portal-mfa audit --org acme --action "mfa.*" --limit 200 --json',
  ]).action(act(audit));
}

function eventJson(r: AuditView) {
  return { ...r, time: isoOrNull(r.time) };
}

const CSV_COLUMNS = ['id', 'time', 'actor', 'target', 'organisation', 'action', 'outcome', 'ticket', 'reason', 'host', 'osUser', 'detail'] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function audit(ctx: CommandContext, opts: AuditOptions): Promise<void> {
  const { validateAction } = await import('../../core/usecases/auditTrail.js');
  const { portal, resolveActor } = await import('../actor.js');
  const limit = opts.limit;
  const since = opts.since === undefined ? undefined : 'at' in opts.since ? opts.since.at : ctx.clock() - opts.since.ageMs;
  const action = opts.action !== undefined ? validateAction(opts.action) : undefined;
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, {
    action: 'audit.read',
    precheck: {
      organisation: opts.org !== undefined ? { orgSlug: opts.org, action: 'audit.read', supportAllowed: true } : undefined,
      target: opts.user !== undefined ? { targetEmail: opts.user, permission: 'view', action: 'audit.read', canPick: true } : undefined,
    },
  });
  const filter = { userEmail: opts.user, orgSlug: opts.org, action, since, limit };
  const rows = await mfa.readAuditTrail(actor, filter);
  const print = (batch: AuditView[], header: boolean) => {
    if (ctx.out.json) for (const r of batch) ctx.out.printJsonLine(eventJson(r));
    else if (opts.csv) {
      let text = header ? csvRow([...CSV_COLUMNS]) : '';
      for (const r of batch) {
        const e = eventJson(r);
        text += csvRow(CSV_COLUMNS.map((c) => (c === 'detail' ? (e.detail ? JSON.stringify(e.detail) : '') : e[c])));
      }
      ctx.io.stdout.write(text);
    } else if (batch.length > 0) {
      ctx.out.table(
        [
          // at 80 columns: from, org and ticket give way first; emails and the reason are cut with …
          { header: 'time', value: (r: AuditView) => humanTime(r.time), whole: true },
          { header: 'actor', value: (r) => r.actor ?? `(${r.osUser}@${r.host})` },
          { header: 'target', value: (r) => r.target ?? '-' },
          { header: 'org', value: (r) => r.organisation ?? '-', drop: 2 },
          { header: 'action', value: (r) => r.action, whole: true },
          { header: 'outcome', value: (r) => r.outcome, color: (v, s) => (v === 'success' ? s.green(v) : s.red(v)), whole: true },
          { header: 'ticket', value: (r) => r.ticket ?? '-', drop: 1 },
          { header: 'reason', value: (r) => r.reason ?? '-' },
          { header: 'from', value: (r) => `${r.osUser}@${r.host}`, drop: 3 },
        ],
        batch,
      );
    }
  };
  if (!opts.follow) {
    if (rows.length === 0 && !ctx.out.json && !opts.csv) ctx.out.info('no audit events match');
    // the human table through the pager on a terminal (never --follow: it never ends)
    const { startPager } = await import('../io.js');
    const endPager = await startPager(ctx.io, ctx.env, { pager: opts.pager && !ctx.out.json && !opts.csv && rows.length > 0 });
    try {
      print(rows, true);
    } finally {
      await endPager();
    }
    return;
  }
  // --follow: the latest events oldest first, then poll for new ones until Ctrl-C (exit 0)
  print([...rows].reverse(), true);
  let last = rows.reduce((m, r) => Math.max(m, r.id), 0);
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    while (!stopped) {
      await sleep(1000);
      if (stopped) break;
      const fresh = await mfa.readAuditTrail(actor, { ...filter, since: undefined, limit: 1000, afterId: last });
      if (fresh.length > 0) {
        print([...fresh].reverse(), false);
        last = Math.max(last, ...fresh.map((r) => r.id));
      }
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
