import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { confirmOrCancel } from '../confirm.js';
import type { CommandContext } from '../context.js';
import { commandLine } from '../invocation.js';
import { startProgress } from '../progress.js';
import { fitCommandLine, wrapWords } from '../render.js';
import { withExamples } from './examples.js';
import { dryRunOption, type OptionsOf, wholeNumber } from './flags.js';

const define = (program: CommandUnknownOpts) =>
  program
    .command('demo')
    .description('create (or --reset) sample portal data and print what to try next')
    .option('--reset', 'delete the demo accounts and organisations (with their MFA state) and create them again; needs --yes without a terminal')
    .addOption(dryRunOption('say what would be deleted and created, change nothing'))
    .addOption(new Option('--members <n>', 'also add N generated members to the first organisation (acme)').argParser(wholeNumber({ min: 0, max: 1_000_000 })));
type DemoOptions = OptionsOf<typeof define>;

export function registerDemo(program: CommandUnknownOpts, act: Act): void {
  withExamples(define(program), [
    'portal-mfa demo                                          # sample organisations and accounts',
    'portal-mfa demo --reset                                  # start the demo over',
    'portal-mfa demo --members 10000 --json                   # and 10,000 generated members in acme',
  ]).action(act(demo));
}

async function demo(ctx: CommandContext, opts: DemoOptions): Promise<void> {
  const { DEMO_ACCOUNTS, DEMO_ORGANISATIONS, GENERATED_MEMBER_PASSWORD } = await import('../../core/usecases/demoData.js');
  const { addGeneratedMembers, inspectDemo, seedDemo } = await import('../../core/usecases/demoPortal.js');
  const { describeTarget } = await import('../../db/url.js');
  const members = opts.members ?? 0;
  const db = await ctx.database({ create: true });
  const deps = { db: db.store, clock: ctx.clock, origin: ctx.origin };
  const existing = await inspectDemo(deps, opts);
  if (opts.dryRun) return reportDryRun(ctx, existing, opts, members);
  if (opts.reset) {
    await confirmOrCancel(
      ctx,
      `Delete the demo data (${existing.users} user(s), ${existing.organisations} organisation(s), with their MFA state) and create it again?`,
    );
  }
  const { created } = await seedDemo(deps, opts);
  let generated = 0;
  if (members > 0) {
    const progress = await startProgress(ctx, { label: 'adding members', total: members });
    try {
      generated = await addGeneratedMembers(deps, members, (done) => progress.update(done));
    } finally {
      progress.done();
    }
  }

  if (ctx.out.json) {
    ctx.out.printJson(DEMO_ACCOUNTS.map((a) => ({ email: a.email, password: a.password, role: a.role, organisations: a.organisations })));
    if (generated > 0) ctx.out.info(`added ${generated} generated members to ${DEMO_ORGANISATIONS[0]!.slug} (password ${GENERATED_MEMBER_PASSWORD})`);
    return;
  }
  const s = ctx.out.style;
  const state = opts.reset ? 'reset' : created > 0 ? 'created' : 'already present';
  ctx.out.line(`${s.bold('Demo portal')} ${state} in ${describeTarget(db.target)}`);
  ctx.out.line();
  ctx.out.line('Organisations');
  for (const o of DEMO_ORGANISATIONS) ctx.out.line(`  ${o.slug.padEnd(8)} ${o.name}${o.mfaRequired ? s.yellow('  (requires MFA)') : ''}`);
  ctx.out.line();
  ctx.out.line('Accounts (demo passwords — never use these anywhere real)');
  ctx.out.table(
    [
      // at 80 columns the story is cut with …; what to type is never cut
      { header: 'email', value: (a: (typeof DEMO_ACCOUNTS)[number]) => a.email, whole: true },
      { header: 'password', value: (a) => a.password, whole: true },
      { header: 'role', value: (a) => (a.role === 'support' ? 'support' : a.organisations.map((o) => `${o.role}@${o.slug}`).join(',') || 'developer') },
      { header: 'story', value: (a) => a.story },
    ],
    DEMO_ACCOUNTS,
  );
  if (generated > 0) ctx.out.line(`\nAdded ${generated} generated members to acme (password ${GENERATED_MEMBER_PASSWORD}).`);
  ctx.out.line();
  ctx.out.line('Try this next (each command runs as printed, in this order)');
  for (const [what, command] of TRY_NEXT) {
    for (const line of wrapWords(what, ctx.io.columns === undefined ? undefined : ctx.io.columns - 2)) ctx.out.line(`  ${line}`);
    // with this run's --profile/--db/--key-file: pasted, each reaches this demo database
    // (too wide for the terminal: broken with \, which the shell reads as one line)
    ctx.out.line(fitCommandLine(`    ${commandLine(ctx, command, { as: false })}`, ctx.io.columns));
  }
}

/**
 * What to try after `demo`: a story in order (Devon enrols, then checks a code and his status with it;
 * Alice must enrol at her first login, then her session shows acme; Sam resets Devon and reads the
 * trail). The explanation is a line of its own, not a `# comment`, which zsh would pass on as arguments.
 * test/e2e/flows-pty.test.ts runs each command as printed, on a terminal.
 */
const TRY_NEXT: [string, string][] = [
  ['Devon enrols: a QR code in the terminal; scan it, then type the code the app shows', 'enroll --as devon@example.com'],
  ["Check a code from the app (and the phone's clock)", 'verify --as devon@example.com'],
  ['His status, with a code from the app', 'status --as devon@example.com'],
  ['acme requires MFA: logging in makes Alice enrol first, then opens a CLI session', 'login --as alice@acme.example'],
  ["Alice's session needs no --as: acme's members and their MFA", 'org users --org acme'],
  ['Support resets Devon on a ticket', 'disable --user devon@example.com --ticket SUP-1 --as sam@support.example'],
  ['What happened', 'audit --as sam@support.example'],
];

async function reportDryRun(ctx: CommandContext, existing: { users: number; organisations: number }, opts: DemoOptions, members: number): Promise<void> {
  const { DEMO_ACCOUNTS, DEMO_ORGANISATIONS } = await import('../../core/usecases/demoData.js');
  const wouldDelete = opts.reset ? existing : { users: 0, organisations: 0 };
  if (ctx.out.json) {
    ctx.out.printJson({
      dryRun: true,
      reset: Boolean(opts.reset),
      wouldDelete,
      wouldCreate: { accounts: DEMO_ACCOUNTS.length, organisations: DEMO_ORGANISATIONS.length, generatedMembers: members },
    });
    return;
  }
  if (opts.reset) ctx.out.line(`would delete ${existing.users} demo user(s) and ${existing.organisations} demo organisation(s), with their MFA state`);
  ctx.out.line(
    `would create what is missing of ${DEMO_ACCOUNTS.length} demo accounts and ${DEMO_ORGANISATIONS.length} organisations${members > 0 ? `, and add ${members} generated members` : ''}`,
  );
  ctx.out.line('dry run: nothing was changed');
}
