import type { Db } from './store.js';

/** How many encrypted TOTP secrets (active or pending) the database holds; 0 before the schema exists. */
export async function countStoredSecrets(db: Db): Promise<number> {
  if (!(await db.knex.schema.hasTable('mfa_credentials'))) return 0;
  const row = await db.knex(db.t.credentials).count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}
