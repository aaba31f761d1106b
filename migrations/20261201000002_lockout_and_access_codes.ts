import type { Knex } from 'knex';

/**
 * Round 2 security state (SPEC §1 rules 11–12, §3 unlock and access codes):
 * - the hard lock of a credential (rule 11: 100 consecutive failures, cleared only by `unlock`);
 *   consecutive_failures now keeps counting across lockouts until a success;
 * - atomic per-user rate-limit windows (diagnoses per hour, wrong passwords per 15 minutes);
 * - temporary access codes, stored only as hashes;
 * - a restriction on a CLI session opened with an access code (enrol or replace first).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('mfa_credentials', (t) => {
    t.bigInteger('hard_locked_at').nullable();
  });
  await knex.schema.alterTable('cli_sessions', (t) => {
    t.string('restriction', 32).nullable();
  });
  // keyed by a subject (a normalised email, or "user:ID") rather than a user id, so a budget for an
  // email that names no account behaves exactly like one that does (no enumeration)
  await knex.schema.createTable('rate_limits', (t) => {
    t.string('subject', 270).notNullable();
    t.string('bucket', 32).notNullable();
    t.bigInteger('window_start').notNullable();
    t.integer('used').notNullable().defaultTo(0);
    t.primary(['subject', 'bucket']);
  });
  await knex.schema.createTable('access_codes', (t) => {
    t.increments('id').primary();
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('code_hash', 255).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.integer('uses_left').notNullable();
    t.integer('failed_attempts').notNullable().defaultTo(0);
    t.integer('issued_by_user_id').unsigned().nullable();
    t.string('issued_by_email', 254).nullable();
    t.string('ticket', 200).nullable();
    t.bigInteger('revoked_at').nullable();
    // one live code per user: a new one replaces (deletes) the previous row in its transaction
    t.unique(['user_id'], { indexName: 'access_codes_user_unique' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('access_codes');
  await knex.schema.dropTableIfExists('rate_limits');
  await knex.schema.alterTable('cli_sessions', (t) => {
    t.dropColumn('restriction');
  });
  await knex.schema.alterTable('mfa_credentials', (t) => {
    t.dropColumn('hard_locked_at');
  });
}
