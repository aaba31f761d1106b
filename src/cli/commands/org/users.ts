import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import { usageError } from '../../../core/errors.js';
import type { MemberView } from '../../../core/usecases/organisations.js';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { streamRecords } from '../../records.js';
import { humanTime, isoOrNull } from '../../render.js';
import { withExamples } from '../examples.js';
import { ADMINISTERED_ORG, csvOption, MFA_FILTERS, type OptionsOf, orgOption, pagerOption } from '../flags.js';

const define = (org: CommandUnknownOpts) =>
  org
    .command('users')
    .description('every member with MFA state, enrolled / last-used times and trusted devices (streams)')
    .addOption(orgOption(ADMINISTERED_ORG))
    .addOption(new Option('--mfa <state>', 'only members whose MFA is on (active), off (none) or pending').choices(MFA_FILTERS))
    .addOption(new Option('--role <role>', 'only admins or members').choices(['admin', 'member'] as const))
    .addOption(csvOption('RFC 4180 CSV with a header row'))
    .addOption(pagerOption());
type UsersOptions = OptionsOf<typeof define>;

export function registerOrgUsers(org: CommandUnknownOpts, act: Act): void {
  withExamples(define(org), [
    'portal-mfa org users --org acme',
    'portal-mfa org users --org acme --mfa off                # who still lacks MFA',
    'portal-mfa org users --org acme --csv > acme-mfa.csv',
    'portal-mfa org users --org acme --json | jq -r .email    # NDJSON, one member a line',
  ]).action(act(users));
}

// `active`: false for a member the portal's active condition excludes (they can neither sign in nor act)
const CSV_COLUMNS = ['email', 'name', 'role', 'mfa', 'enrolledAt', 'lastUsedAt', 'trustedDevices', 'deadline', 'active'] as const;

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
    active: r.active,
  };
}

async function users(ctx: CommandContext, opts: UsersOptions): Promise<void> {
  const { portal, resolveActor } = await import('../../actor.js');
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
  // human: aligned on a terminal, one page at a time, through the pager
  const { startPager } = await import('../../io.js');
  const endPager = await startPager(ctx.io, ctx.env, opts);
  let count = 0;
  let page: MemberView[] = [];
  const flush = () => {
    ctx.out.table(
      [
        // at 80 columns: the times give way (enrolled first), then the name is cut with …
        { header: 'email', value: (r: MemberView) => r.email },
        { header: 'name', value: (r) => r.name, drop: 1 },
        { header: 'role', value: (r) => (r.active ? r.role : `${r.role} (inactive)`), whole: true },
        { header: 'mfa', value: (r) => r.mfa, color: (v, s) => (v === 'active' ? s.green(v) : v === 'pending' ? s.yellow(v) : s.red(v)), whole: true },
        { header: 'enrolled', value: (r) => humanTime(r.enrolledAt), whole: true, drop: 4 },
        { header: 'last used', value: (r) => humanTime(r.lastUsedAt), whole: true, drop: 3 },
        { header: 'devices', value: (r) => String(r.trustedDevices), whole: true },
        { header: 'enrol by', value: (r) => humanTime(r.deadline), whole: true, drop: 2 },
      ],
      page,
    );
    page = [];
  };
  try {
    for await (const r of members) {
      page.push(r);
      count++;
      if (page.length >= 1000) flush();
    }
    if (page.length) flush();
  } finally {
    await endPager();
  }
  ctx.out.info(`${count} member(s) of ${organisation}`);
}
