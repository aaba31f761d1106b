import type { Knex } from 'knex';

/**
 * The notification outbox (SPEC §7): one row per notice to a user, written in the same transaction
 * as the change it reports, delivered after commit (by portal-mfa over SMTP, or by the portal's own
 * mailer reading this table). Times are BIGINT epoch milliseconds like the rest of the schema.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notifications', (t) => {
    t.bigIncrements('id').primary();
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    // copied: the notice goes to the address the user had when the change happened
    t.string('email', 254).notNullable();
    // the event kind (mfa-enabled, mfa-reset-support, …)
    t.string('event', 64).notNullable();
    t.string('subject', 255).notNullable();
    t.text('body').notNullable();
    // pending → sent, or → failed after the last attempt
    t.string('status', 16).notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.string('last_error', 1000).nullable();
    // a pending row is due when next_attempt_at <= now: retries back off by moving it forward, and a
    // delivery in progress holds it with a lease (see src/core/notify/delivery.ts)
    t.bigInteger('next_attempt_at').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('sent_at').nullable();
    // delivery: "pending rows that are due"
    t.index(['status', 'next_attempt_at'], 'notifications_due_idx');
    // notify list --user
    t.index(['user_id', 'created_at'], 'notifications_user_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('notifications');
}
