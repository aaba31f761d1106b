import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, type TestDatabase } from './databases.js';

function connect(db: TestDatabase): Knex {
  if (db.dialect === 'sqlite') {
    return knexFactory({
      client: 'better-sqlite3',
      connection: { filename: db.url.slice('sqlite:'.length) },
      useNullAsDefault: true,
    });
  }
  return knexFactory({ client: 'mysql2', connection: db.url, pool: { min: 0, max: 2 } });
}

describeEachDatabase('test harness', (getDb) => {
  let knex: Knex;

  beforeAll(() => {
    knex = connect(getDb());
  });

  afterAll(async () => {
    await knex?.destroy();
  });

  it('gives a usable, empty database', async () => {
    const db = getDb();
    if (db.dialect === 'mysql') {
      expect(db.url).toMatch(/^mysql:\/\/pmfa:pmfa-test-pw@127\.0\.0\.1:\d+\/pmfa_test_[0-9a-f]+$/);
      const [rows] = await knex.raw('SELECT DATABASE() AS db');
      expect(rows[0].db).toBe(new URL(db.url).pathname.slice(1));
      const [tables] = await knex.raw('SHOW TABLES');
      expect(tables).toEqual([]);
    } else {
      expect(db.url).toMatch(/^sqlite:\/.+\/portal\.db$/);
    }
  });

  it('creates a table, inserts and selects a row', async () => {
    await knex.schema.createTable('harness_rows', (t) => {
      t.increments('id').primary();
      t.string('name', 64).notNullable();
      t.integer('n').notNullable();
    });
    await knex('harness_rows').insert({ name: 'ünïcødé ✓', n: 42 });
    const rows = await knex('harness_rows').select('id', 'name', 'n');
    expect(rows).toEqual([{ id: 1, name: 'ünïcødé ✓', n: 42 }]);
  });

  it('is a real server of the expected kind', async () => {
    const db = getDb();
    if (db.dialect === 'mysql') {
      const [rows] = await knex.raw('SELECT VERSION() AS v');
      expect(String(rows[0].v)).toContain('MariaDB');
      const [cs] = await knex.raw(
        'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()',
      );
      expect(cs[0]).toEqual({ cs: 'utf8mb4', co: 'utf8mb4_unicode_ci' });
    } else {
      const rows = await knex.raw('SELECT sqlite_version() AS v');
      expect(rows[0].v).toMatch(/^3\./);
    }
  });
});
