import type { Knex } from 'knex';
import type { DemoAccount, DemoOrganisation, RealData } from '../core/usecases/demoData.js';
import { DEMO_MAPPING } from './identity/presets.js';
import type { Db } from './store.js';
import { listTables } from './tableList.js';

/**
 * The demo portal (`portal-mfa demo`) is one more portal: its identity tables are its own, named
 * by DEMO_MAPPING, and portal-mfa reads them through the mapping like any other portal's. Only
 * this module writes them. Earlier versions of portal-mfa created the same three tables, so an
 * upgraded installation keeps its demo data.
 */
const DEMO_TABLES = [DEMO_MAPPING.users.table, DEMO_MAPPING.organisations!.table, DEMO_MAPPING.memberships!.table];

/** Create the demo portal's tables where none of them exists yet; false when some exist already. */
export async function createDemoTables(knex: Knex | Knex.Transaction): Promise<boolean> {
  const existing = new Set((await listTables(knex)).map((t) => t.toLowerCase()));
  if (DEMO_TABLES.some((t) => existing.has(t))) return false;
  await knex.schema.createTable('organisations', (t) => {
    t.increments('id').primary();
    t.string('slug', 64).notNullable().unique('organisations_slug_unique');
    t.string('name', 200).notNullable();
    t.bigInteger('created_at').notNullable();
  });
  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    // byte-for-byte on MySQL too (as installations before the mapping had it): the demo portal can
    // hold two addresses that differ only in case, which portal-mfa must refuse to merge
    const email = t.string('email', 254).notNullable().unique('users_email_unique');
    if (knex.client.config.client !== 'better-sqlite3') email.collate('utf8mb4_bin');
    t.string('name', 200).notNullable().defaultTo('');
    t.string('password_hash', 255).notNullable();
    t.string('role', 16).notNullable().defaultTo('developer');
    t.bigInteger('created_at').notNullable();
  });
  await knex.schema.createTable('organisation_members', (t) => {
    t.integer('organisation_id').unsigned().notNullable().references('id').inTable('organisations').onDelete('CASCADE');
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('role', 16).notNullable().defaultTo('member');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('joined_at').nullable();
    t.primary(['organisation_id', 'user_id']);
    t.index(['user_id'], 'organisation_members_user_idx');
  });
  return true;
}

/** Which of the demo portal's tables exist: all three, none, or some (then they are not the demo's). */
export async function demoTablesState(knex: Knex | Knex.Transaction): Promise<'all' | 'none' | 'some'> {
  const existing = new Set((await listTables(knex)).map((t) => t.toLowerCase()));
  const n = DEMO_TABLES.filter((t) => existing.has(t)).length;
  return n === DEMO_TABLES.length ? 'all' : n === 0 ? 'none' : 'some';
}

export interface SeedPlan {
  organisations: DemoOrganisation[];
  accounts: (DemoAccount & { passwordHash: string })[];
  now: number;
}

/**
 * Users and organisations that are not the demo's own. Named demo accounts and organisations are
 * excluded in SQL; the candidates for generated members (LIKE) are checked exactly in JS, so a
 * real `member-x@acme.example` is not taken for a demo account.
 */
export async function findRealData(
  knex: Knex | Knex.Transaction,
  demo: { emails: string[]; generatedLike: string; isDemoEmail: (e: string) => boolean; slugs: string[] },
): Promise<RealData> {
  const others = knex('users').whereNotIn('email', demo.emails).andWhere('email', 'not like', demo.generatedLike);
  const userCount = Number((await others.clone().count({ n: '*' }).first())?.n ?? 0);
  const userSample: string[] = (await others.clone().orderBy('id').limit(3).select('email')).map((r: { email: string }) => r.email);
  let lookAlikes = 0;
  for (const r of (await knex('users').where('email', 'like', demo.generatedLike).select('email')) as { email: string }[]) {
    if (demo.isDemoEmail(r.email)) continue;
    lookAlikes++;
    if (userSample.length < 3) userSample.push(r.email);
  }
  const organisations: string[] = (await knex('organisations').whereNotIn('slug', demo.slugs).orderBy('id').limit(6).select('slug')).map(
    (r: { slug: string }) => r.slug,
  );
  return { userCount: userCount + lookAlikes, userSample, organisations };
}

/** How much demo data there is (what `demo --reset` would delete). */
export async function countDemoData(
  knex: Knex,
  demo: { emails: string[]; generatedLike: string; slugs: string[] },
): Promise<{ users: number; organisations: number }> {
  const users = await knex('users').whereIn('email', demo.emails).orWhere('email', 'like', demo.generatedLike).count({ n: '*' }).first();
  const orgs = await knex('organisations').whereIn('slug', demo.slugs).count({ n: '*' }).first();
  return { users: Number(users?.n ?? 0), organisations: Number(orgs?.n ?? 0) };
}

/** Remove the demo organisations and accounts, and portal-mfa's state of them. */
export async function deleteDemoData(db: Db, plan: SeedPlan, generatedEmailPattern: string): Promise<void> {
  const trx = db.knex;
  const ids = (
    await trx('users')
      .whereIn(
        'email',
        plan.accounts.map((a) => a.email),
      )
      .orWhere('email', 'like', generatedEmailPattern)
      .select('id')
  ).map((r: { id: unknown }) => String(r.id));
  const orgIds = (
    await trx('organisations')
      .whereIn(
        'slug',
        plan.organisations.map((o) => o.slug),
      )
      .select('id')
  ).map((r: { id: unknown }) => String(r.id));
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    for (const table of [
      db.t.credentials,
      db.t.trusted_devices,
      db.t.recovery_codes,
      db.t.access_codes,
      db.t.sessions,
      db.t.challenges,
      db.t.notifications,
      db.t.email_index,
    ]) {
      await trx(table).whereIn('user_id', part).delete();
    }
  }
  if (orgIds.length > 0) await trx(db.t.org_policies).whereIn('organisation_id', orgIds).delete();
  await trx('users')
    .whereIn(
      'email',
      plan.accounts.map((a) => a.email),
    )
    .delete();
  await trx('users').where('email', 'like', generatedEmailPattern).delete();
  await trx('organisations')
    .whereIn(
      'slug',
      plan.organisations.map((o) => o.slug),
    )
    .delete();
}

/** Insert what is missing; existing rows are left as they are (so `demo` is idempotent). */
export async function insertMissingDemoData(db: Db, plan: SeedPlan): Promise<{ created: number }> {
  const trx = db.knex;
  let created = 0;
  for (const o of plan.organisations) {
    const existing = await trx('organisations').where('slug', o.slug).first('id');
    if (!existing) {
      await trx('organisations').insert({ slug: o.slug, name: o.name, created_at: plan.now });
      const id = String((await trx('organisations').where('slug', o.slug).first('id')).id);
      // the organisation's MFA policy is portal-mfa's, kept under the portal's id
      await trx(db.t.org_policies)
        .insert({
          organisation_id: id,
          mfa_required: o.mfaRequired,
          grace_days: o.graceDays,
          mfa_required_since: o.mfaRequired ? plan.now : null,
          device_trust_allowed: true,
          updated_at: plan.now,
        })
        .onConflict('organisation_id')
        .merge();
      created++;
    }
  }
  const orgIds = new Map<string, number>();
  for (const row of await trx('organisations')
    .whereIn(
      'slug',
      plan.organisations.map((o) => o.slug),
    )
    .select('id', 'slug')) {
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
        await trx('organisation_members').insert({
          organisation_id: organisationId,
          user_id: user!.id,
          role: m.role,
          created_at: plan.now,
          joined_at: plan.now,
        });
      }
    }
  }
  return { created };
}

/** Generated members per transaction, and rows per INSERT (5 columns: well under SQLite's 32,766 bound variables). */
const MEMBERS_PER_TRANSACTION = 10_000;
const ROWS_PER_INSERT = 1_000;

/**
 * Add `count` generated members to an organisation, numbering on from the existing ones: multi-row
 * INSERTs of users, each followed by one INSERT … SELECT of their memberships, 10,000 members per
 * transaction (a million members is 100 commits, not a million).
 */
export async function insertGeneratedMembers(
  knex: Knex,
  opts: { organisationSlug: string; count: number; passwordHash: string; now: number; emailFor: (n: number) => string; likePattern: string },
  onProgress?: (done: number) => void,
): Promise<number> {
  const org = await knex('organisations').where('slug', opts.organisationSlug).first('id');
  const countRow = await knex('users').where('email', 'like', opts.likePattern).count({ n: '*' }).first();
  let next = Number(countRow?.n ?? 0) + 1;
  let done = 0;
  while (done < opts.count) {
    const size = Math.min(MEMBERS_PER_TRANSACTION, opts.count - done);
    await knex.transaction(async (trx) => {
      for (let i = 0; i < size; i += ROWS_PER_INSERT) {
        const n = Math.min(ROWS_PER_INSERT, size - i);
        const emails = Array.from({ length: n }, (_, j) => opts.emailFor(next + i + j));
        // plain multi-row VALUES (knex writes SQLite's as a compound SELECT, limited to 500 terms)
        await trx.raw(
          `INSERT INTO users (email, name, password_hash, role, created_at) VALUES ${emails.map(() => "(?, ?, ?, 'developer', ?)").join(',')}`,
          emails.flatMap((email, j) => [email, `Member ${next + i + j}`, opts.passwordHash, opts.now]),
        );
        await trx.raw(
          `INSERT INTO organisation_members (organisation_id, user_id, role, created_at, joined_at) SELECT ?, id, 'member', ?, ? FROM users WHERE email IN (${emails.map(() => '?').join(',')})`,
          [Number(org!.id), opts.now, opts.now, ...emails],
        );
      }
    });
    next += size;
    done += size;
    onProgress?.(done);
  }
  return done;
}
