import type { Knex } from 'knex';

/**
 * The portal's user database as portal-mfa sees it (SPEC §5).
 * Times are stored as BIGINT milliseconds since the Unix epoch (UTC): portable between
 * SQLite, MariaDB and MySQL 8, with no time-zone conversion anywhere.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('organisations', (t) => {
    t.increments('id').primary();
    t.string('slug', 64).notNullable().unique('organisations_slug_unique');
    t.string('name', 200).notNullable();
    t.boolean('mfa_required').notNullable().defaultTo(false);
    t.integer('grace_days').nullable();
    t.bigInteger('mfa_required_since').nullable();
    t.boolean('device_trust_allowed').notNullable().defaultTo(true);
    t.bigInteger('created_at').notNullable();
  });

  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    t.string('email', 254).notNullable().unique('users_email_unique');
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
    t.primary(['organisation_id', 'user_id']);
    // "which organisations is this user in" (authorisation, login enforcement)
    t.index(['user_id'], 'organisation_members_user_idx');
  });

  await knex.schema.createTable('mfa_credentials', (t) => {
    t.increments('id').primary();
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    // 'pending' (enrolment not yet confirmed) or 'active'; a user has at most one of each,
    // so a replacement device can be pending while the old one stays active (rule 7).
    t.string('status', 16).notNullable();
    t.text('secret_ciphertext').notNullable();
    t.string('key_id', 32).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('confirmed_at').nullable();
    t.bigInteger('last_used_at').nullable();
    t.bigInteger('last_accepted_step').nullable();
    t.integer('consecutive_failures').notNullable().defaultTo(0);
    t.bigInteger('locked_until').nullable();
    t.unique(['user_id', 'status'], { indexName: 'mfa_credentials_user_status_unique' });
    // key rotation walks the rows still under an old key
    t.index(['key_id', 'id'], 'mfa_credentials_key_idx');
  });

  await knex.schema.createTable('trusted_devices', (t) => {
    t.increments('id').primary();
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('token_hash', 64).notNullable().unique('trusted_devices_token_unique');
    t.string('label', 200).notNullable().defaultTo('');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_used_at').nullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('revoked_at').nullable();
    t.index(['user_id', 'expires_at'], 'trusted_devices_user_idx');
  });

  await knex.schema.createTable('recovery_codes', (t) => {
    t.increments('id').primary();
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('code_hash', 255).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('used_at').nullable();
    t.index(['user_id', 'used_at'], 'recovery_codes_user_idx');
  });

  await knex.schema.createTable('cli_sessions', (t) => {
    t.increments('id').primary();
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('token_hash', 64).notNullable().unique('cli_sessions_token_unique');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('ended_at').nullable();
    t.string('host', 255).notNullable().defaultTo('');
    t.string('os_user', 255).notNullable().defaultTo('');
    t.index(['user_id'], 'cli_sessions_user_idx');
  });

  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('occurred_at').notNullable();
    t.integer('actor_user_id').unsigned().nullable();
    t.string('actor_email', 254).nullable();
    t.integer('target_user_id').unsigned().nullable();
    t.string('target_email', 254).nullable();
    t.integer('organisation_id').unsigned().nullable();
    t.string('organisation_slug', 64).nullable();
    t.string('action', 64).notNullable();
    t.string('outcome', 32).notNullable();
    t.string('ticket', 200).nullable();
    t.string('reason', 1000).nullable();
    t.text('detail').nullable();
    t.string('host', 255).notNullable().defaultTo('');
    t.string('os_user', 255).notNullable().defaultTo('');
    // audit is read newest first, optionally per user / organisation / action
    t.index(['occurred_at', 'id'], 'audit_events_time_idx');
    t.index(['target_user_id', 'occurred_at'], 'audit_events_target_idx');
    t.index(['actor_user_id', 'occurred_at'], 'audit_events_actor_idx');
    t.index(['organisation_id', 'occurred_at'], 'audit_events_org_idx');
    t.index(['action', 'occurred_at'], 'audit_events_action_idx');
  });
}

/** The tables this migration makes, in the order `down` drops them (dependents first). */
export const TABLES = [
  'audit_events',
  'cli_sessions',
  'recovery_codes',
  'trusted_devices',
  'mfa_credentials',
  'organisation_members',
  'users',
  'organisations',
];

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    await knex.schema.dropTableIfExists(table);
  }
}
