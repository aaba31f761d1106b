import type { Knex } from 'knex';

/**
 * The sign-in challenges of the two-step sign-in (issue 22): the password step (or the portal's
 * vouching) stores one row, the second step uses it up. Only the SHA-256 of the challenge token is
 * kept — never the token, never the password.
 *
 * Self-contained on purpose, like every migration: it imports no live code, so a later change to
 * the product can never change what an applied migration did. The name carries the prefix.
 */
export interface ChallengeNames {
  challenges: string;
}

/** Room for any portal id: integers, UUIDs, ULIDs, prefixed ids. */
const ID = 128;

export function challengesMigration(n: ChallengeNames): Knex.Migration {
  return {
    async up(knex) {
      const mysql = knex.client.config.client !== 'better-sqlite3';
      await knex.schema.createTable(n.challenges, (t) => {
        if (mysql) {
          t.charset('utf8mb4');
          t.collate('utf8mb4_bin');
        }
        t.increments('id').primary();
        t.string('token_hash', 64)
          .notNullable()
          .unique({ indexName: `${n.challenges}_token_unique` });
        t.string('user_id', ID).notNullable();
        // the sign-in action the second factor is audited under
        t.string('action', 64).notNullable();
        t.bigInteger('created_at').notNullable();
        t.bigInteger('expires_at').notNullable();
        // when the password was checked (null: the portal vouched without a password check)
        t.bigInteger('password_at').nullable();
        // who vouched for the first step instead of a password (the portal's own login, SSO)
        t.string('vouched_by', 100).nullable();
        // a completion in progress holds the row (one at a time); a wrong proof gives it back
        t.string('claim', 32).nullable();
        t.bigInteger('used_at').nullable();
        t.index(['user_id', 'expires_at'], `${n.challenges}_user_idx`);
      });
    },

    async down(knex) {
      await knex.schema.dropTableIfExists(n.challenges);
    },
  };
}
