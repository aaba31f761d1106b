import { countDemoData, deleteDemoData, findRealData, insertGeneratedMembers, insertMissingDemoData, type SeedPlan } from '../db/demoSeeder.js';
import { withWriteTransaction } from '../db/transaction.js';
import { recordAudit } from './audit.js';
import {
  DEMO_ACCOUNTS,
  DEMO_ORGANISATIONS,
  GENERATED_MEMBER_LIKE,
  GENERATED_MEMBER_PASSWORD_HASH,
  generatedMemberEmail,
  isDemoEmail,
  refuseRealData,
} from './demo.js';
import type { MfaDeps } from './deps.js';
import { isPortalMfaError } from './errors.js';

/**
 * `demo`: an infrastructure operation (no actor, audited with the OS user and host). It never writes
 * known-password accounts into a database holding real users, and `--reset` deletes only what is the
 * demo's own (SPEC §3): the guard runs first, and again inside the write transaction.
 */
const DEMO_SCOPE = {
  emails: DEMO_ACCOUNTS.map((a) => a.email),
  generatedLike: GENERATED_MEMBER_LIKE,
  isDemoEmail,
  slugs: DEMO_ORGANISATIONS.map((o) => o.slug),
};

type DemoDeps = Pick<MfaDeps, 'knex' | 'clock' | 'origin'>;

/** Run fn; a refusal by the real-data guard is audited (outcome refused) and rethrown. */
async function guarded<T>(deps: DemoDeps, opts: { reset?: boolean; dryRun?: boolean }, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isPortalMfaError(e) && e.kind === 'wrong_state' && e.details?.nonDemoUsers !== undefined) {
      await recordAudit(deps.knex, deps, {
        action: opts.reset ? 'demo.reset' : 'demo.create',
        outcome: 'refused',
        reason: 'database holds non-demo data',
        detail: { nonDemoUsers: e.details.nonDemoUsers, dryRun: Boolean(opts.dryRun) },
      }).catch(() => undefined);
    }
    throw e;
  }
}

/** The guard alone, then what exists of the demo (for --dry-run and the --reset question). */
export async function inspectDemo(deps: DemoDeps, opts: { reset?: boolean; dryRun?: boolean }): Promise<{ users: number; organisations: number }> {
  await guarded(deps, opts, async () => refuseRealData(await findRealData(deps.knex, DEMO_SCOPE)));
  return countDemoData(deps.knex, DEMO_SCOPE);
}

/** Create what is missing of the demo portal (after deleting the demo's own data with reset). */
export async function seedDemo(deps: DemoDeps, opts: { reset?: boolean }): Promise<{ created: number }> {
  const plan: SeedPlan = { organisations: DEMO_ORGANISATIONS, accounts: DEMO_ACCOUNTS, now: deps.clock() };
  return guarded(deps, opts, () =>
    withWriteTransaction(deps.knex, async (trx) => {
      refuseRealData(await findRealData(trx, DEMO_SCOPE));
      if (opts.reset) await deleteDemoData(trx, plan, GENERATED_MEMBER_LIKE);
      const result = await insertMissingDemoData(trx, plan);
      await recordAudit(trx, deps, { action: opts.reset ? 'demo.reset' : 'demo.create', outcome: 'success', detail: { created: result.created } });
      return result;
    }),
  );
}

/**
 * `demo --members N`: generated members of the first demo organisation. They all share one bcrypt
 * hash of GENERATED_MEMBER_PASSWORD (cost 10, like any stored hash, computed once at development
 * time): a million members cost no bcrypt at all, not a million (~1 CPU-day). Any of them logs in
 * with that password.
 */
export async function addGeneratedMembers(deps: DemoDeps, count: number, onProgress: (done: number) => void): Promise<number> {
  return insertGeneratedMembers(
    deps.knex,
    {
      organisationSlug: DEMO_ORGANISATIONS[0]!.slug,
      count,
      passwordHash: GENERATED_MEMBER_PASSWORD_HASH,
      now: deps.clock(),
      emailFor: generatedMemberEmail,
      likePattern: GENERATED_MEMBER_LIKE,
    },
    onProgress,
  );
}
