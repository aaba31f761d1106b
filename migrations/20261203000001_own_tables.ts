import type { Knex } from 'knex';

/**
 * portal-mfa's own tables (SPEC §5) — and only those: the portal's users, organisations and
 * memberships are read through the identity mapping and never created, altered or written here.
 *
 * Self-contained on purpose: a migration imports no live code, so a later change to the product can
 * never change what an applied migration did. Every name carries the configured prefix (`names`).
 *
 * - User and organisation ids are the portal's, as text (integer ids and UUIDs alike), with no
 *   foreign keys: the portal's rows are not ours to constrain, and a user the portal deletes leaves
 *   rows that `db check` reports and `db cleanup` removes.
 * - Times are BIGINT epoch milliseconds (UTC), portable between SQLite, MariaDB and MySQL 8.
 * - On MySQL/MariaDB every table is utf8mb4 with a binary collation: ids, hashes and folded emails
 *   are compared byte for byte, as on SQLite.
 */
export interface MigrationNames {
  credentials: string;
  trusted_devices: string;
  recovery_codes: string;
  access_codes: string;
  sessions: string;
  rate_limits: string;
  audit_events: string;
  notifications: string;
  maintenance_locks: string;
  settings: string;
  org_policies: string;
  email_index: string;
}

/** Room for any portal id: integers, UUIDs, ULIDs, prefixed ids. */
const ID = 128;

export function ownTablesMigration(n: MigrationNames): Knex.Migration {
  return {
    async up(knex) {
      const mysql = knex.client.config.client !== 'better-sqlite3';
      const create = (name: string, build: (t: Knex.CreateTableBuilder) => void) =>
        knex.schema.createTable(name, (t) => {
          if (mysql) {
            t.charset('utf8mb4');
            t.collate('utf8mb4_bin');
          }
          build(t);
        });

      await create(n.credentials, (t) => {
        t.increments('id').primary();
        t.string('user_id', ID).notNullable();
        // 'pending' (enrolment not yet confirmed) or 'active'; at most one of each per user, so a
        // replacement device can be pending while the old one stays active (rule 7)
        t.string('status', 16).notNullable();
        t.text('secret_ciphertext').notNullable();
        t.string('key_id', 32).notNullable();
        t.bigInteger('created_at').notNullable();
        t.bigInteger('confirmed_at').nullable();
        t.bigInteger('last_used_at').nullable();
        t.bigInteger('last_accepted_step').nullable();
        t.integer('consecutive_failures').notNullable().defaultTo(0);
        t.bigInteger('locked_until').nullable();
        t.bigInteger('hard_locked_at').nullable();
        // rule 11's escalation: the failure count when the last lock began, and how many locks this
        // streak has had — a lock comes after maxFailures more failures, whatever maxFailures was before
        t.integer('failures_at_lock').notNullable().defaultTo(0);
        t.integer('lock_count').notNullable().defaultTo(0);
        t.unique(['user_id', 'status'], { indexName: `${n.credentials}_user_status_unique` });
        // key rotation walks the rows still under an old key
        t.index(['key_id', 'id'], `${n.credentials}_key_idx`);
      });

      await create(n.trusted_devices, (t) => {
        t.increments('id').primary();
        t.string('user_id', ID).notNullable();
        t.string('token_hash', 64)
          .notNullable()
          .unique({ indexName: `${n.trusted_devices}_token_unique` });
        t.string('label', 200).notNullable().defaultTo('');
        t.bigInteger('created_at').notNullable();
        t.bigInteger('last_used_at').nullable();
        t.bigInteger('expires_at').notNullable();
        t.bigInteger('revoked_at').nullable();
        t.index(['user_id', 'expires_at'], `${n.trusted_devices}_user_idx`);
      });

      await create(n.recovery_codes, (t) => {
        t.increments('id').primary();
        t.string('user_id', ID).notNullable();
        t.string('code_hash', 255).notNullable();
        t.bigInteger('created_at').notNullable();
        t.bigInteger('used_at').nullable();
        t.index(['user_id', 'used_at'], `${n.recovery_codes}_user_idx`);
      });

      await create(n.access_codes, (t) => {
        t.increments('id').primary();
        // one live code per user: a new one replaces (deletes) the previous row in its transaction
        t.string('user_id', ID)
          .notNullable()
          .unique({ indexName: `${n.access_codes}_user_unique` });
        t.string('code_hash', 255).notNullable();
        t.bigInteger('created_at').notNullable();
        t.bigInteger('expires_at').notNullable();
        t.integer('uses_left').notNullable();
        t.integer('failed_attempts').notNullable().defaultTo(0);
        t.string('issued_by_user_id', ID).nullable();
        t.string('issued_by_email', 254).nullable();
        t.string('ticket', 200).nullable();
        t.bigInteger('revoked_at').nullable();
      });

      await create(n.sessions, (t) => {
        t.increments('id').primary();
        t.string('user_id', ID).notNullable();
        t.string('token_hash', 64)
          .notNullable()
          .unique({ indexName: `${n.sessions}_token_unique` });
        t.bigInteger('created_at').notNullable();
        t.bigInteger('expires_at').notNullable();
        t.bigInteger('ended_at').nullable();
        t.string('host', 255).notNullable().defaultTo('');
        t.string('os_user', 255).notNullable().defaultTo('');
        // 'access-code': signed in with a temporary access code, must enrol or replace first
        t.string('restriction', 32).nullable();
        t.index(['user_id'], `${n.sessions}_user_idx`);
      });

      // keyed by a subject (a folded email, or "user:ID") rather than a user id, so a budget for an
      // email that names no account behaves exactly like one that does (no enumeration)
      await create(n.rate_limits, (t) => {
        t.string('subject', 270).notNullable();
        t.string('bucket', 32).notNullable();
        t.bigInteger('window_start').notNullable();
        t.integer('used').notNullable().defaultTo(0);
        t.primary(['subject', 'bucket']);
      });

      await create(n.audit_events, (t) => {
        t.bigIncrements('id').primary();
        t.bigInteger('occurred_at').notNullable();
        t.string('actor_user_id', ID).nullable();
        t.string('actor_email', 254).nullable();
        t.string('target_user_id', ID).nullable();
        t.string('target_email', 254).nullable();
        t.string('organisation_id', ID).nullable();
        t.string('organisation_slug', 200).nullable();
        t.string('action', 64).notNullable();
        t.string('outcome', 32).notNullable();
        t.string('ticket', 200).nullable();
        t.string('reason', 1000).nullable();
        t.text('detail').nullable();
        t.string('host', 255).notNullable().defaultTo('');
        t.string('os_user', 255).notNullable().defaultTo('');
        // a web request's origin (client address, user agent, request id) and who vouched for the actor
        t.text('request').nullable();
        // audit is read newest first, optionally per user / organisation / action
        t.index(['occurred_at', 'id'], `${n.audit_events}_time_idx`);
        t.index(['target_user_id', 'occurred_at'], `${n.audit_events}_target_idx`);
        t.index(['actor_user_id', 'occurred_at'], `${n.audit_events}_actor_idx`);
        t.index(['organisation_id', 'occurred_at'], `${n.audit_events}_org_idx`);
        t.index(['action', 'occurred_at'], `${n.audit_events}_action_idx`);
      });

      // the outbox (SPEC §7): written with its change, delivered after commit
      await create(n.notifications, (t) => {
        t.bigIncrements('id').primary();
        t.string('user_id', ID).notNullable();
        // copied: the notice goes to the address the user had when the change happened
        t.string('email', 254).notNullable();
        t.string('event', 64).notNullable();
        t.string('subject', 255).notNullable();
        t.text('body').notNullable();
        // pending → sent, or → failed after the last attempt
        t.string('status', 16).notNullable().defaultTo('pending');
        t.integer('attempts').notNullable().defaultTo(0);
        t.string('last_error', 1000).nullable();
        t.bigInteger('next_attempt_at').notNullable();
        t.bigInteger('created_at').notNullable();
        t.bigInteger('sent_at').nullable();
        t.index(['status', 'next_attempt_at'], `${n.notifications}_due_idx`);
        t.index(['user_id', 'created_at'], `${n.notifications}_user_idx`);
      });

      await create(n.maintenance_locks, (t) => {
        t.string('name', 64).primary();
        t.string('holder', 255).notNullable();
        t.bigInteger('acquired_at').notNullable();
        t.bigInteger('expires_at').notNullable();
      });

      // the identity mapping and the portal-wide policy, as JSON documents under a key
      await create(n.settings, (t) => {
        t.string('name', 64).primary();
        t.text('value').notNullable();
        t.bigInteger('updated_at').notNullable();
        t.string('updated_by', 254).nullable();
      });

      // an organisation's MFA policy, keyed by the portal's organisation id
      await create(n.org_policies, (t) => {
        t.string('organisation_id', ID).primary();
        t.boolean('mfa_required').notNullable().defaultTo(false);
        t.integer('grace_days').nullable();
        t.bigInteger('mfa_required_since').nullable();
        t.boolean('device_trust_allowed').notNullable().defaultTo(true);
        t.bigInteger('updated_at').notNullable();
      });

      // the portal's emails as compared (rule 13: NFC + lower case), by user id: the portal's own
      // column is never rewritten, and may have no index or a case-sensitive one
      await create(n.email_index, (t) => {
        t.string('user_id', ID).primary();
        t.string('email_key', 254).notNullable();
        t.index(['email_key'], `${n.email_index}_key_idx`);
      });
    },

    async down(knex) {
      for (const name of [...tablesOf(n)].reverse()) await knex.schema.dropTableIfExists(name);
    },
  };
}

/** The tables this migration makes, in creation order. */
export function tablesOf(n: MigrationNames): string[] {
  return [
    n.credentials,
    n.trusted_devices,
    n.recovery_codes,
    n.access_codes,
    n.sessions,
    n.rate_limits,
    n.audit_events,
    n.notifications,
    n.maintenance_locks,
    n.settings,
    n.org_policies,
    n.email_index,
  ];
}
