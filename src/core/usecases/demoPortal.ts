import {
  countDemoData,
  createDemoTables,
  deleteDemoData,
  demoTablesState,
  findRealData,
  insertGeneratedMembers,
  insertMissingDemoData,
  type SeedPlan,
} from '../../db/demoSeeder.js';
import { DEMO_MAPPING } from '../../db/identity/presets.js';
import { writeSetting } from '../../db/settingsRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import { recordAudit } from '../primitives/audit.js';
import {
  DEMO_ACCOUNTS,
  DEMO_ORGANISATIONS,
  GENERATED_MEMBER_LIKE,
  GENERATED_MEMBER_PASSWORD_HASH,
  generatedMemberEmail,
  isDemoEmail,
  refuseRealData,
} from './demoData.js';
import type { MfaDeps } from '../deps.js';
import { isPortalMfaError, wrongState } from '../errors.js';

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

type DemoDeps = Pick<MfaDeps, 'db' | 'clock' | 'origin'>;

/** Run fn; a refusal by the real-data guard is audited (outcome refused) and rethrown. */
async function guarded<T>(deps: DemoDeps, opts: { reset?: boolean; dryRun?: boolean }, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isPortalMfaError(e) && e.kind === 'wrong_state' && e.details?.nonDemoUsers !== undefined) {
      await recordAudit(deps.db, deps, {
        action: opts.reset ? 'demo.reset' : 'demo.create',
        outcome: 'refused',
        reason: 'database holds non-demo data',
        detail: { nonDemoUsers: e.details.nonDemoUsers, dryRun: Boolean(opts.dryRun) },
      }).catch(() => undefined);
    }
    throw e;
  }
}

/**
 * The demo writes only into the demo portal: never into a database attached to another portal (a
 * stored mapping of another shape), and never over tables of the demo's names that it did not make.
 */
function refuseAttachedPortal(deps: DemoDeps): void {
  const m = deps.db.mapping;
  if (m && m.preset !== 'demo') {
    throw wrongState(`this database is attached to a portal (identity mapping '${m.preset}'): the demo never writes into a real portal`, {
      code: 'not_demo_database',
      hint: 'run the demo on a database of its own, e.g. --db sqlite:/tmp/demo/portal.db',
    });
  }
}

async function refuseForeignTables(deps: DemoDeps): Promise<boolean> {
  const state = await demoTablesState(deps.db.knex);
  if (state === 'some') {
    throw wrongState("this database has tables named like the demo portal's (users, organisations, organisation_members) that are not the demo's", {
      code: 'not_demo_database',
      hint: 'run the demo on a database of its own, e.g. --db sqlite:/tmp/demo/portal.db',
    });
  }
  return state === 'all';
}

/** The guard alone, then what exists of the demo (for --dry-run and the --reset question). */
export async function inspectDemo(deps: DemoDeps, opts: { reset?: boolean; dryRun?: boolean }): Promise<{ users: number; organisations: number }> {
  refuseAttachedPortal(deps);
  if (!(await refuseForeignTables(deps))) return { users: 0, organisations: 0 };
  await guarded(deps, opts, async () => refuseRealData(await findRealData(deps.db.knex, DEMO_SCOPE)));
  return countDemoData(deps.db.knex, DEMO_SCOPE);
}

/** Create what is missing of the demo portal (after deleting the demo's own data with reset). */
export async function seedDemo(deps: DemoDeps, opts: { reset?: boolean }): Promise<{ created: number }> {
  const plan: SeedPlan = { organisations: DEMO_ORGANISATIONS, accounts: DEMO_ACCOUNTS, now: deps.clock() };
  refuseAttachedPortal(deps);
  await refuseForeignTables(deps);
  return guarded(deps, opts, () =>
    withWriteTransaction(deps.db, async (trx) => {
      await createDemoTables(trx.knex);
      refuseRealData(await findRealData(trx.knex, DEMO_SCOPE));
      if (!deps.db.mapping) await writeSetting(trx, 'identity', JSON.stringify(DEMO_MAPPING), deps.clock(), 'demo');
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
    deps.db.root,
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
