import { recordAudit } from '../../core/audit.js';
import { DEMO_ACCOUNTS, DEMO_ORGANISATIONS, GENERATED_MEMBER_PASSWORD, generatedMemberEmail } from '../../core/demo.js';
import { usageError } from '../../core/errors.js';
import { hashPasswordBcrypt } from '../../core/passwords.js';
import { deleteDemoData, insertGeneratedMembers, insertMissingDemoData, type SeedPlan } from '../../db/demoSeeder.js';
import { withWriteTransaction } from '../../db/transaction.js';
import { describeTarget } from '../../db/url.js';
import type { CommandContext } from '../context.js';
import { startProgress } from '../progress.js';

interface DemoOptions {
  reset?: boolean;
  members?: string;
}

const GENERATED_LIKE = 'member-%@acme.example';


function parseMembers(raw: string | undefined): number {
  if (raw === undefined) return 0;
  if (!/^\d{1,7}$/.test(raw.trim())) throw usageError(`--members takes a whole number from 0 to 1000000 (got ${JSON.stringify(raw.slice(0, 40))})`);
  const n = Number(raw.trim());
  if (n > 1_000_000) throw usageError('--members takes a whole number from 0 to 1000000');
  return n;
}

export async function demo(ctx: CommandContext, opts: DemoOptions): Promise<void> {
  const members = parseMembers(opts.members);
  const db = await ctx.database();
  const now = ctx.clock();
  // bcrypt (cost 10) for every named account: the same hashes the portal stores
  const accounts = await Promise.all(DEMO_ACCOUNTS.map(async (a) => ({ ...a, passwordHash: await hashPasswordBcrypt(a.password) })));
  const plan: SeedPlan = { organisations: DEMO_ORGANISATIONS, accounts, now };

  const { created } = await withWriteTransaction(db.knex, async (trx) => {
    if (opts.reset) await deleteDemoData(trx, plan, GENERATED_LIKE);
    const result = await insertMissingDemoData(trx, plan);
    await recordAudit(trx, ctx, {
      action: opts.reset ? 'demo.reset' : 'demo.create',
      outcome: 'success',
      detail: { created: result.created },
    });
    return result;
  });

  let generated = 0;
  if (members > 0) {
    const memberHash = await hashPasswordBcrypt(GENERATED_MEMBER_PASSWORD);
    const progress = await startProgress(ctx, { label: 'adding members', total: members });
    try {
      generated = await insertGeneratedMembers(
        db.knex,
        { organisationSlug: DEMO_ORGANISATIONS[0]!.slug, count: members, passwordHash: memberHash, now, emailFor: generatedMemberEmail, likePattern: GENERATED_LIKE },
        (done) => progress.update(done),
      );
    } finally {
      progress.done();
    }
  }

  if (ctx.out.json) {
    ctx.out.printJson(
      DEMO_ACCOUNTS.map((a) => ({ email: a.email, password: a.password, role: a.role, organisations: a.organisations })),
    );
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
      { header: 'email', value: (a: (typeof DEMO_ACCOUNTS)[number]) => a.email },
      { header: 'password', value: (a) => a.password },
      { header: 'role', value: (a) => (a.role === 'support' ? 'support' : a.organisations.map((o) => `${o.role}@${o.slug}`).join(',') || 'developer') },
      { header: 'story', value: (a) => a.story },
    ],
    DEMO_ACCOUNTS,
  );
  if (generated > 0) ctx.out.line(`\nAdded ${generated} generated members to acme (password ${GENERATED_MEMBER_PASSWORD}).`);
  ctx.out.line();
  ctx.out.line('Try this next');
  for (const tip of [
    'portal-mfa enroll --as devon@example.com          # QR code in the terminal, scan it, type the code',
    'portal-mfa verify --as devon@example.com          # check a code from the app (reports clock drift)',
    'portal-mfa login --as dave@acme.example           # acme requires MFA: login makes Dave enrol',
    'portal-mfa status --as devon@example.com',
    'portal-mfa org users --org acme --as alice@acme.example',
    'portal-mfa disable --user devon@example.com --ticket SUP-1 --as sam@support.example',
    'portal-mfa audit --as sam@support.example',
  ]) {
    ctx.out.line(`  ${tip}`);
  }
}
