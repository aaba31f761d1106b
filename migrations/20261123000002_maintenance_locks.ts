import type { Knex } from 'knex';

/** Locks for infrastructure operations that must not run twice at once (keys rotate). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('maintenance_locks', (t) => {
    t.string('name', 64).primary();
    t.string('holder', 255).notNullable();
    t.bigInteger('acquired_at').notNullable();
    t.bigInteger('expires_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('maintenance_locks');
}
