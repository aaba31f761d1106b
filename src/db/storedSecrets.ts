import type { Knex } from 'knex';

/** How many encrypted TOTP secrets (active or pending) the database holds; 0 before the schema exists. */
export async function countStoredSecrets(knex: Knex): Promise<number> {
  if (!(await knex.schema.hasTable('mfa_credentials'))) return 0;
  const row = await knex('mfa_credentials').count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}
