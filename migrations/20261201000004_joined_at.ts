import type { Knex } from 'knex';

/**
 * Fair grace (SPEC §5): a member's grace period runs from the later of the policy change and their
 * joining the organisation. Existing members get the migration time as their joining time, so
 * nobody already in an organisation loses the grace period they were promised.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('organisation_members', (t) => {
    t.bigInteger('joined_at').nullable();
  });
  await knex('organisation_members').update({ joined_at: Date.now() });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('organisation_members', (t) => {
    t.dropColumn('joined_at');
  });
}
