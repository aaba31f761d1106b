import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import { usageError } from '../../../core/errors.js';
import type { Act } from '../../act.js';
import type { CommandContext } from '../../context.js';
import { streamRecords } from '../../records.js';
import { humanTime, isoOrNull } from '../../render.js';
import { withExamples } from '../examples.js';
import { csvOption, MFA_FILTERS, type OptionsOf, orgOption, pagerOption } from '../flags.js';

const define = (users: CommandUnknownOpts) =>
  users
    .command('list')
    .description('every portal user with MFA state, users in no organisation included (streams; --json NDJSON, --csv)')
    .addOption(new Option('--mfa <state>', 'only users whose MFA is on, off or pending').choices(MFA_FILTERS))
    .addOption(orgOption('only members of this organisation'))
    .addOption(new Option('--role <role>', 'only developers or support representatives').choices(['developer', 'support'] as const))
    .option('--locked', 'only users locked out now')
    .addOption(csvOption())
    .addOption(pagerOption());
type UsersListOptions = OptionsOf<typeof define>;

export function registerUsersList(users: CommandUnknownOpts, act: Act): void {
  withExamples(define(users), [
    'portal-mfa users list --mfa off',
    'portal-mfa users list --locked --json',
    'portal-mfa users list --org acme --csv > users.csv',
  ]).action(act(listUsers));
}

// `active`: false for an account the portal's active condition excludes (it can neither sign in nor act)
const USER_COLUMNS = ['email', 'name', 'role', 'mfa', 'enrolledAt', 'lastUsedAt', 'locked', 'organisations', 'active'] as const;

async function listUsers(ctx: CommandContext, opts: UsersListOptions): Promise<void> {
  const { portal, resolveActor } = await import('../../actor.js');
  // (--json is a global flag: commander's conflicts() sees only the command's own)
  if (opts.csv && ctx.out.json) throw usageError('choose --json or --csv, not both');
  const mfa = await portal(ctx);
  const actor = await resolveActor(ctx, mfa, { action: 'users.list' });
  const rows = await mfa.listUsers(actor, { mfa: opts.mfa, orgSlug: opts.org, role: opts.role, locked: opts.locked });
  const human = !ctx.out.json && !opts.csv && ctx.io.stdoutIsTTY;
  const n = human
    ? await printTable(ctx, rows, opts)
    : await streamRecords(ctx, rows, ctx.out.json ? 'json' : opts.csv ? 'csv' : 'tsv', USER_COLUMNS, (u) => ({
        email: u.email,
        name: u.name,
        role: u.role,
        mfa: u.mfa,
        enrolledAt: isoOrNull(u.enrolledAt),
        lastUsedAt: isoOrNull(u.lastUsedAt),
        locked: u.hardLocked ? 'hard' : u.lockedUntil !== null && u.lockedUntil > ctx.clock() ? isoOrNull(u.lockedUntil) : null,
        organisations: u.organisations,
        active: u.active,
      }));
  if (!ctx.out.json && !opts.csv) ctx.out.info(`${n} user(s)`);
  if (!ctx.out.json) {
    // the portal-wide requirement, which no row shows (SPEC §8)
    const policy = await mfa.showPortalPolicy(actor);
    if (policy.mfaRequired) ctx.out.info(`the portal requires MFA for every account${policy.graceDays ? ` (${policy.graceDays}-day grace)` : ''}`);
  }
}

type UserRows = Awaited<ReturnType<Awaited<ReturnType<typeof import('../../actor.js').portal>>['listUsers']>>;
type UserRow = UserRows extends AsyncIterable<infer R> ? R : never;

/** On a terminal: aligned tables a page of users at a time, fitted to the width, through the pager. */
async function printTable(ctx: CommandContext, rows: UserRows, opts: UsersListOptions): Promise<number> {
  const { startPager } = await import('../../io.js');
  const endPager = await startPager(ctx.io, ctx.env, opts);
  let n = 0;
  let page: UserRow[] = [];
  const flush = () => {
    ctx.out.table(
      [
        // at 80 columns: the times and the name give way, organisations are cut with …
        { header: 'email', value: (u: UserRow) => u.email },
        { header: 'name', value: (u) => u.name, drop: 1 },
        { header: 'role', value: (u) => (u.active ? u.role : `${u.role} (inactive)`), whole: true },
        { header: 'mfa', value: (u) => u.mfa, color: (v, s) => (v === 'active' ? s.green(v) : v === 'pending' ? s.yellow(v) : s.red(v)), whole: true },
        { header: 'enrolled', value: (u) => humanTime(u.enrolledAt), whole: true, drop: 3 },
        { header: 'last used', value: (u) => humanTime(u.lastUsedAt), whole: true, drop: 2 },
        {
          header: 'locked',
          value: (u) => (u.hardLocked ? 'hard' : u.lockedUntil !== null && u.lockedUntil > ctx.clock() ? `until ${humanTime(u.lockedUntil)}` : 'no'),
        },
        { header: 'organisations', value: (u) => u.organisations || '-' },
      ],
      page,
    );
    page = [];
  };
  try {
    for await (const u of rows) {
      page.push(u);
      n++;
      if (page.length >= 1000) flush();
    }
    if (page.length) flush();
  } finally {
    await endPager();
  }
  return n;
}
