import type { Knex } from 'knex';
import type { DemoAccount, DemoOrganisation } from '../core/demo.js';

export interface SeedPlan {
  organisations: DemoOrganisation[];
  accounts: (DemoAccount & { passwordHash: string })[];
  now: number;
}

/** Remove the demo organisations and accounts (and, by cascade, their MFA state). */
export async function deleteDemoData(trx: Knex.Transaction, plan: SeedPlan, generatedEmailPattern: string): Promise<void> {
  await trx('users').whereIn('email', plan.accounts.map((a) => a.email)).delete();
  await trx('users').where('email', 'like', generatedEmailPattern).delete();
  await trx('organisations').whereIn('slug', plan.organisations.map((o) => o.slug)).delete();
}

/** Insert what is missing; existing rows are left as they are (so `demo` is idempotent). */
export async function insertMissingDemoData(trx: Knex.Transaction, plan: SeedPlan): Promise<{ created: number }> {
  let created = 0;
  for (const o of plan.organisations) {
    const existing = await trx('organisations').where('slug', o.slug).first('id');
    if (!existing) {
      await trx('organisations').insert({
        slug: o.slug,
        name: o.name,
        mfa_required: o.mfaRequired,
        grace_days: o.graceDays,
        mfa_required_since: o.mfaRequired ? plan.now : null,
        device_trust_allowed: true,
        created_at: plan.now,
      });
      created++;
    }
  }
  const orgIds = new Map<string, number>();
  for (const row of await trx('organisations').whereIn('slug', plan.organisations.map((o) => o.slug)).select('id', 'slug')) {
    orgIds.set(row.slug, Number(row.id));
  }
  for (const a of plan.accounts) {
    let user = await trx('users').where('email', a.email).first('id');
    if (!user) {
      await trx('users').insert({ email: a.email, name: a.name, password_hash: a.passwordHash, role: a.role, created_at: plan.now });
      user = await trx('users').where('email', a.email).first('id');
      created++;
    }
    for (const m of a.organisations) {
      const organisationId = orgIds.get(m.slug)!;
      const member = await trx('organisation_members').where({ organisation_id: organisationId, user_id: user!.id }).first('user_id');
      if (!member) {
        await trx('organisation_members').insert({ organisation_id: organisationId, user_id: user!.id, role: m.role, created_at: plan.now });
      }
    }
  }
  return { created };
}

/** Add `count` generated members to an organisation, numbering on from the existing ones. */
export async function insertGeneratedMembers(
  knex: Knex,
  opts: { organisationSlug: string; count: number; passwordHash: string; now: number; emailFor: (n: number) => string; likePattern: string },
  onProgress?: (done: number) => void,
): Promise<number> {
  const org = await knex('organisations').where('slug', opts.organisationSlug).first('id');
  const countRow = await knex('users').where('email', 'like', opts.likePattern).count({ n: '*' }).first();
  let next = Number(countRow?.n ?? 0) + 1;
  const batch = 500;
  let done = 0;
  while (done < opts.count) {
    const size = Math.min(batch, opts.count - done);
    await knex.transaction(async (trx) => {
      const users = Array.from({ length: size }, (_, i) => ({
        email: opts.emailFor(next + i),
        name: `Member ${next + i}`,
        password_hash: opts.passwordHash,
        role: 'developer',
        created_at: opts.now,
      }));
      await trx('users').insert(users);
      const ids = await trx('users').whereIn('email', users.map((u) => u.email)).select('id');
      await trx('organisation_members').insert(ids.map((r) => ({ organisation_id: org!.id, user_id: r.id, role: 'member', created_at: opts.now })));
    });
    next += size;
    done += size;
    onProgress?.(done);
  }
  return done;
}
