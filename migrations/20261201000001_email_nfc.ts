import type { Knex } from 'knex';
import { foldEmail } from '../src/core/email.js';
import { configError } from '../src/core/errors.js';

/**
 * SPEC §1 rule 13 / §5: emails are stored NFC-normalised and lower-cased, and compared exactly on
 * every database.
 *
 * 1. Every user's email is folded (NFC, lower case). Two rows that fold to the same email are a
 *    collision: they might be two people, or one person twice, and only a human can tell, so the
 *    migration never merges them. It refuses instead — exit 10 from `db migrate`, naming each
 *    colliding email and the user ids — and changes nothing; the operator renames or removes
 *    rows (the README says how) and runs `db migrate` again.
 * 2. On MySQL/MariaDB the column gets a binary collation (utf8mb4_bin): the default collations are
 *    case- and accent-insensitive, so `jose@…` would match `josé@…`. SQLite compares bytes already.
 *
 * `down` restores the MySQL collation; folded emails stay folded (the originals are not kept).
 */
export async function up(knex: Knex): Promise<void> {
  const rows = (await knex('users').select('id', 'email').orderBy('id')) as { id: number | string; email: string }[];
  const byFolded = new Map<string, { id: number; email: string }[]>();
  for (const r of rows) {
    const folded = foldEmail(r.email);
    const group = byFolded.get(folded) ?? [];
    group.push({ id: Number(r.id), email: r.email });
    byFolded.set(folded, group);
  }
  const collisions = [...byFolded.entries()].filter(([, g]) => g.length > 1);
  if (collisions.length > 0) {
    const shown = collisions
      .slice(0, 5)
      .map(([folded, g]) => `${JSON.stringify(folded)}: user ids ${g.map((u) => u.id).join(', ')}`)
      .join('; ');
    throw configError(
      `cannot store emails NFC-normalised and lower-cased: ${collisions.length} email(s) are held by more than one user (${shown}${collisions.length > 5 ? '; …' : ''}); nothing was changed`,
      {
        hint: 'rows are never merged automatically: rename or remove the duplicate users, then run db migrate again',
        details: { collisions: collisions.map(([email, g]) => ({ email, userIds: g.map((u) => u.id) })) },
      },
    );
  }
  const mysql = knex.client.config.client !== 'better-sqlite3';
  if (mysql) await setEmailCollation(knex, 'utf8mb4_bin');
  for (const [folded, [user]] of byFolded) {
    if (user!.email !== folded) await knex('users').where('id', user!.id).update({ email: folded });
  }
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'better-sqlite3') await setEmailCollation(knex, 'utf8mb4_unicode_ci');
}

async function setEmailCollation(knex: Knex, collation: 'utf8mb4_bin' | 'utf8mb4_unicode_ci'): Promise<void> {
  await knex.raw(`ALTER TABLE users MODIFY email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE ${collation} NOT NULL`);
}
