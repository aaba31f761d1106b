import type { Knex } from 'knex';

/**
 * The API keys of services that call `portal-mfa serve` (issue 24): a portal backend authenticates
 * with one instead of a person's password. Only the SHA-256 of a key is kept — the key itself is
 * shown once, by `portal-mfa service-key create` — with its scopes (what it may call) and who made
 * and revoked it.
 *
 * Self-contained on purpose, like every migration: it imports no live code, so a later change to
 * the product can never change what an applied migration did. The name carries the prefix.
 */
export interface ServiceKeyNames {
  service_keys: string;
}

export function serviceKeysMigration(n: ServiceKeyNames): Knex.Migration {
  return {
    async up(knex) {
      const mysql = knex.client.config.client !== 'better-sqlite3';
      await knex.schema.createTable(n.service_keys, (t) => {
        if (mysql) {
          t.charset('utf8mb4');
          t.collate('utf8mb4_bin');
        }
        t.increments('id').primary();
        // the operator's name for the caller (`laravel-portal`); recorded as who vouched
        t.string('name', 64)
          .notNullable()
          .unique({ indexName: `${n.service_keys}_name_unique` });
        t.string('key_hash', 64)
          .notNullable()
          .unique({ indexName: `${n.service_keys}_hash_unique` });
        // space-separated scopes: vouch, support, reports
        t.string('scopes', 200).notNullable();
        t.bigInteger('created_at').notNullable();
        // who created it: a support user's email, or the operator's OS user and host
        t.string('created_by', 300).notNullable();
        t.bigInteger('last_used_at').nullable();
        t.bigInteger('revoked_at').nullable();
        t.string('revoked_by', 300).nullable();
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists(n.service_keys);
    },
  };
}
