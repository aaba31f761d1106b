import type { Knex } from 'knex';

/** The tables of the connection's own database (SQLite: the main file; MySQL: DATABASE()). */
export async function listTables(knex: Knex | Knex.Transaction): Promise<string[]> {
  if (knex.client.config.client === 'better-sqlite3') {
    const rows = (await knex.raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)) as { name: string }[];
    return rows.map((r) => r.name);
  }
  const [rows] = (await knex.raw('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name')) as [
    { name: string }[],
  ];
  return rows.map((r) => r.name);
}
