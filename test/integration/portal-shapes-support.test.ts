/**
 * The test support for issue 19 itself: the portal shape builders create what they describe (and
 * what their mapping reads), the portal checksums are stable and notice a changed value, index or
 * trigger, and the least-privilege MariaDB account can read the mapped tables and nothing more.
 */
import { pbkdf2Sync } from 'node:crypto';
import path from 'node:path';
import { verify as argon2Verify } from '@node-rs/argon2';
import { compare as bcryptCompare } from '@node-rs/bcrypt';
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Condition, type IdentityMapping, mappedTables } from '../../src/db/identity/mapping.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.js';
import { leastPrivilegeSql, leastPrivilegeUser } from '../support/leastPrivilegeUser.js';
import { portalChecksum, schemaTables } from '../support/portalChecksum.js';
import { customShape, djangoOrganizations, dropPortalSchema, laravelJetstream, type PortalAccount, type PortalShape } from '../support/portalShapes.js';

function connect(db: TestDatabase): Knex {
  if (db.dialect === 'sqlite') {
    return knexFactory({ client: 'better-sqlite3', connection: { filename: db.url.slice('sqlite:'.length) }, useNullAsDefault: true });
  }
  return knexFactory({ client: 'mysql2', connection: db.url, pool: { min: 0, max: 2 } });
}

const dbName = (db: TestDatabase) => new URL(db.url).pathname.slice(1);

// ---------------------------------------------------------------------------------------------
// an independent reading of a portal through its mapping (plain SELECTs, evaluated here)

type Row = Record<string, unknown>;

function holds(c: Condition | undefined, row: Row, whenNone: boolean): boolean {
  if (!c) return whenNone;
  const v = row[c.column];
  if ('in' in c) return c.in.some((x) => String(x) === String(v));
  if (c.is === 'true') return Number(v) === 1;
  if (c.is === 'false') return Number(v) === 0;
  if (c.is === 'null') return v === null;
  return v !== null;
}

interface MappedUser {
  email: string;
  name: string;
  hash: string;
  active: boolean;
  support: boolean;
  memberships: { organisation: string; admin: boolean; owner: boolean }[];
}

async function readThroughMapping(knex: Knex, m: IdentityMapping): Promise<{ users: Map<string, MappedUser>; organisations: Row[] }> {
  const u = m.users;
  const supportRows: Row[] = u.support.kind === 'table' ? await knex(u.support.table).select('*') : [];
  const orgs: Row[] = m.organisations ? (await knex(m.organisations.table).select('*')).filter((o: Row) => holds(m.organisations?.active, o, true)) : [];
  const members: Row[] = m.memberships ? await knex(m.memberships.table).select('*') : [];
  const users = new Map<string, MappedUser>();
  for (const row of (await knex(u.table).select('*')) as Row[]) {
    const id = String(row[u.id]);
    const s = u.support;
    const support =
      s.kind === 'column'
        ? holds(s.condition, row, false)
        : s.kind === 'table'
          ? supportRows.some((r) => String(r[s.userId]) === id && holds(s.where, r, true))
          : false;
    const memberships = [];
    for (const o of orgs) {
      const orgId = String(o[m.organisations!.id]);
      const owner = m.organisations?.owner !== undefined && String(o[m.organisations.owner]) === id;
      const member = members.find((r) => String(r[m.memberships!.organisationId]) === orgId && String(r[m.memberships!.userId]) === id);
      if (!owner && !member) continue;
      memberships.push({ organisation: orgId, admin: owner || (member !== undefined && holds(m.memberships?.admin, member, false)), owner });
    }
    users.set(id, {
      email: String(row[u.email]),
      name: (u.name ?? [])
        .map((c) => row[c])
        .filter((v) => v !== null && v !== '')
        .join(' '),
      hash: String(row[u.passwordHash]),
      active: holds(u.active, row, true),
      support,
      memberships,
    });
  }
  return { users, organisations: orgs };
}

async function verifies(a: PortalAccount, hash: string): Promise<boolean> {
  switch (a.hashFormat) {
    case 'bcrypt-2y':
    case 'bcrypt-2b':
      return bcryptCompare(a.password, hash.replace(/^\$2y\$/, '$2b$'));
    case 'django-pbkdf2_sha256': {
      const [, iterations, salt, key] = hash.split('$');
      return pbkdf2Sync(a.password, salt!, Number(iterations), 32, 'sha256').toString('base64') === key;
    }
    case 'argon2id':
      return argon2Verify(hash, a.password);
    default:
      return false;
  }
}

/** What every shape must satisfy: its tables exist, and its description is what its mapping reads. */
async function expectShapeConsistent(knex: Knex, shape: PortalShape): Promise<void> {
  const present = await schemaTables(knex, { schema: shape.schema });
  expect(present).toEqual(expect.arrayContaining(shape.tables));
  for (const t of mappedTables(shape.mapping)) {
    const [schema, table] = t.includes('.') ? t.split('.') : [undefined, t];
    expect(schema).toBe(shape.schema);
    expect(shape.tables).toContain(table);
  }

  const { users, organisations } = await readThroughMapping(knex, shape.mapping);
  expect([...users.keys()].sort()).toEqual(shape.accounts.map((a) => a.id).sort());
  const orgKey = (id: string) => shape.organisations.find((o) => o.id === id)?.key;
  let verifiedBcrypt = false;
  for (const a of shape.accounts) {
    const u = users.get(a.id)!;
    expect({ email: u.email, name: u.name, active: u.active, support: u.support }, a.key).toEqual({
      email: a.email,
      name: a.name,
      active: a.active,
      support: a.support,
    });
    expect(a.flags.includes('inactive'), a.key).toBe(!a.active);
    expect(a.flags.includes('support'), a.key).toBe(a.support);
    // what the mapping implies: membership and admin (an owner counts as admin; the owner itself
    // is only visible where the mapping names an owner column)
    const byOrg = (x: { organisation?: string }, y: { organisation?: string }) => String(x.organisation).localeCompare(String(y.organisation));
    const withOwner = shape.mapping.organisations?.owner !== undefined;
    expect(
      u.memberships.map((m) => ({ organisation: orgKey(m.organisation), admin: m.admin, ...(withOwner ? { owner: m.owner } : {}) })).sort(byOrg),
      a.key,
    ).toEqual(a.memberships.map((m) => ({ organisation: m.organisation, admin: m.admin, ...(withOwner ? { owner: m.owner } : {}) })).sort(byOrg));
    if (!withOwner)
      expect(
        a.memberships.filter((m) => m.owner && !m.admin),
        a.key,
      ).toEqual([]);
    if (a.flags.includes('unknown-hash') || a.flags.includes('unusable-password')) expect(await verifies(a, u.hash), a.key).toBe(false);
    else if (a.hashFormat.startsWith('bcrypt') && verifiedBcrypt) expect(u.hash, a.key).toMatch(/^\$2[by]\$10\$[./A-Za-z0-9]{53}$/);
    else expect(await verifies(a, u.hash), `${a.key} ${a.hashFormat} ${u.hash}`).toBe(true);
    // one bcrypt check (cost 10) per shape is enough to show the format is real; the rest by form
    verifiedBcrypt ||= a.hashFormat.startsWith('bcrypt');
  }
  const o = shape.mapping.organisations!;
  expect(organisations.map((r) => String(r[o.id])).sort()).toEqual(
    shape.organisations
      .filter((x) => x.active)
      .map((x) => x.id)
      .sort(),
  );
  for (const r of organisations) {
    const org = shape.organisations.find((x) => x.id === String(r[o.id]))!;
    expect(String(r[o.name])).toBe(org.name);
    if (o.slug) expect(String(r[o.slug])).toBe(org.slug);
    else expect(org.slug).toMatch(new RegExp(`^[a-z0-9-]+-${org.id}$`));
  }
}

const fold = (email: string) => email.normalize('NFC').toLowerCase();

// ---------------------------------------------------------------------------------------------

describeEachDatabase('portal shapes: builders and checksums', (getDb) => {
  let knex: Knex;
  const schemas: string[] = [];
  /** a schema of its own: a MariaDB database beside the test's, or an attached SQLite file */
  const ownSchema = async (name: string): Promise<string> => {
    const db = getDb();
    if (db.dialect === 'mysql') {
      const schema = `${dbName(db)}_${name}`;
      schemas.push(schema);
      return schema;
    }
    const file = path.join(path.dirname(db.url.slice('sqlite:'.length)), `${name}.db`);
    await knex.raw(`ATTACH DATABASE '${file}' AS "${name}"`);
    schemas.push(name);
    return name;
  };

  beforeAll(() => {
    knex = connect(getDb());
  });
  afterAll(async () => {
    for (const s of schemas) await dropPortalSchema(knex, s);
    await knex.destroy();
  });

  describe('Laravel + Jetstream (in a schema of its own)', () => {
    let shape: PortalShape;
    beforeAll(async () => {
      shape = await laravelJetstream(knex, { schema: await ownSchema('laravel') });
    });

    it('creates the framework tables and rows its description and mapping agree on', async () => {
      expect(await schemaTables(knex, { schema: shape.schema })).toEqual([...shape.tables].sort());
      await expectShapeConsistent(knex, shape);
      expect(shape.preset?.users.support).toEqual({ kind: 'none' });
      expect(shape.mapping.users.support).toMatchObject({ kind: 'table', userId: 'model_id' });
    });

    it('stores PHP $2y$10$ bcrypt hashes, a personal team per user, owners in teams.user_id and admin/editor roles', async () => {
      const users = await knex(`${shape.schema}.users`).orderBy('id');
      expect(users.every((u: Row) => /^\$2y\$10\$[./A-Za-z0-9]{53}$/.test(String(u.password)))).toBe(true);
      const teams = await knex(`${shape.schema}.teams`).orderBy('id');
      for (const u of users) expect(teams.filter((t: Row) => Number(t.personal_team) === 1 && t.user_id === u.id)).toHaveLength(1);
      const acme = shape.organisation('acme');
      expect(teams.find((t: Row) => String(t.id) === acme.id)).toMatchObject({ name: 'Acme Robotics', user_id: Number(shape.account('owner').id) });
      expect(Number(teams.find((t: Row) => String(t.id) === acme.id).personal_team)).toBe(0);
      expect(acme.slug).toBe(`acme-robotics-${acme.id}`);
      const roles = (await knex(`${shape.schema}.team_user`).distinct('role')).map((r: Row) => r.role).sort();
      expect(roles).toEqual(['admin', 'editor']);
      expect(shape.account('mixed-case').flags).toContain('mixed-case-email');
      if (shape.dialect === 'mysql') {
        const [cols] = await knex.raw(
          'SELECT COLUMN_NAME AS c, COLLATION_NAME AS k FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?',
          [shape.schema!, 'users', 'email'],
        );
        expect(cols[0].k).toBe('utf8mb4_unicode_ci');
      }
    });

    it('checksums: stable, and a value, an index or a trigger on a portal table changes them', async () => {
      const t = `${shape.schema}.teams`;
      const before = await portalChecksum(knex, shape.tables, { schema: shape.schema });
      expect(await portalChecksum(knex, shape.tables, { schema: shape.schema })).toEqual(before);
      expect(before.tables.users?.rows).toBe(shape.accounts.length);

      await knex(t).where('id', 8).update({ name: 'Acme Robotics!' });
      const renamed = await portalChecksum(knex, shape.tables, { schema: shape.schema });
      expect(renamed.digest).not.toBe(before.digest);
      expect(renamed.tables.teams?.data).not.toBe(before.tables.teams?.data);
      expect(renamed.tables.teams?.schema).toBe(before.tables.teams?.schema);
      expect({ ...renamed.tables, teams: undefined }).toEqual({ ...before.tables, teams: undefined });
      await knex(t).where('id', 8).update({ name: 'Acme Robotics' });
      expect(await portalChecksum(knex, shape.tables, { schema: shape.schema })).toEqual(before);

      const s = shape.schema!;
      await knex.raw(
        shape.dialect === 'mysql' ? `CREATE INDEX teams_name_index ON \`${s}\`.teams (name)` : `CREATE INDEX "${s}".teams_name_index ON teams (name)`,
      );
      const indexed = await portalChecksum(knex, shape.tables, { schema: shape.schema });
      expect(indexed.tables.teams?.schema).not.toBe(before.tables.teams?.schema);
      expect(indexed.tables.teams?.data).toBe(before.tables.teams?.data);
      await knex.raw(shape.dialect === 'mysql' ? `DROP INDEX teams_name_index ON \`${s}\`.teams` : `DROP INDEX "${s}".teams_name_index`);
      expect(await portalChecksum(knex, shape.tables, { schema: shape.schema })).toEqual(before);

      // a trigger keeping a lookup table current is a change to the portal's table too
      const trigger =
        shape.dialect === 'mysql'
          ? `CREATE TRIGGER \`${s}\`.users_fold AFTER INSERT ON \`${s}\`.users FOR EACH ROW SET @folded = LOWER(NEW.email)`
          : `CREATE TRIGGER "${s}".users_fold AFTER INSERT ON users BEGIN SELECT lower(NEW.email); END`;
      await knex.raw(trigger);
      expect((await portalChecksum(knex, shape.tables, { schema: shape.schema })).tables.users?.schema).not.toBe(before.tables.users?.schema);
      await knex.raw(shape.dialect === 'mysql' ? `DROP TRIGGER \`${s}\`.users_fold` : `DROP TRIGGER "${s}".users_fold`);
      expect(await portalChecksum(knex, shape.tables, { schema: shape.schema })).toEqual(before);
    });
  });

  describe('Django + django-organizations (in the connection’s own database)', () => {
    let shape: PortalShape;
    beforeAll(async () => {
      shape = await djangoOrganizations(knex);
    });

    it('creates the framework tables and rows its description and mapping agree on', async () => {
      expect(await schemaTables(knex)).toEqual(expect.arrayContaining(shape.tables));
      await expectShapeConsistent(knex, shape);
      expect(shape.preset).toEqual(shape.mapping);
    });

    it('has the special cases: inactive, staff, case-duplicates, mixed case, unknown and unusable hashes', async () => {
      const users = (await knex('auth_user').orderBy('id')) as Row[];
      const by = (key: string) => users.find((u) => String(u.id) === shape.account(key).id)!;
      expect(Number(by('inactive').is_active)).toBe(0);
      expect(users.filter((u) => Number(u.is_active) === 0)).toHaveLength(1);
      expect(Number(by('support').is_staff)).toBe(1);
      expect(users.filter((u) => Number(u.is_staff) === 1)).toHaveLength(1);
      expect([by('dup-upper').email, by('dup-lower').email]).toEqual(['Dup@Example.com', 'dup@example.com']);
      expect(new Set(users.map((u) => fold(String(u.email)))).size).toBe(users.length - 1);
      expect(by('mixed-case').email).toBe('Mixed.Case@Example.com');
      expect(String(by('owner').password)).toMatch(/^pbkdf2_sha256\$1000\$[A-Za-z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
      expect(String(by('unknown-hash').password)).toMatch(/^sha1\$[A-Za-z0-9]+\$[0-9a-f]{40}$/);
      expect(String(by('unusable').password)).toMatch(/^![A-Za-z0-9]{40}$/);
      // the deactivated organisation, its owner row and its admin are there, and not counted
      expect(shape.organisation('initech').active).toBe(false);
      expect(await knex('organizations_organizationowner').count({ n: '*' })).toEqual([{ n: 3 }]);
      expect(shape.account('member').memberships.map((m) => m.organisation)).toEqual(['acme', 'globex']);
      // Django's generated names, e.g. for django_session's expiry index
      const indexNames =
        shape.dialect === 'sqlite'
          ? ((await knex.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'django_session'")) as Row[]).map((r) => r.name)
          : ((await knex.raw('SHOW INDEX FROM django_session'))[0] as Row[]).map((r) => r.Key_name);
      expect(indexNames).toContain('django_session_expire_date_a5c62663');
    });

    it('checksums are the same on a second run and change with one value', async () => {
      const before = await portalChecksum(knex, shape.tables);
      expect(await portalChecksum(knex, shape.tables)).toEqual(before);
      await knex('auth_user')
        .where('id', Number(shape.account('inactive').id))
        .update({ is_active: 1 });
      const after = await portalChecksum(knex, shape.tables);
      expect(after.tables.auth_user?.data).not.toBe(before.tables.auth_user?.data);
      await knex('auth_user')
        .where('id', Number(shape.account('inactive').id))
        .update({ is_active: 0 });
      expect(await portalChecksum(knex, shape.tables)).toEqual(before);
    });
  });

  describe('a custom shape (UUIDs, a staff table, disabled_at)', () => {
    let shape: PortalShape;
    beforeAll(async () => {
      // MariaDB: a database of its own (the shape's default name is `identity`; unique here);
      // SQLite: the main database
      shape = await customShape(knex, getDb().dialect === 'mysql' ? { schema: await ownSchema('identity') } : {});
    });

    it('creates its tables and rows its description and its mapping agree on', async () => {
      await expectShapeConsistent(knex, shape);
      expect(shape.accounts.every((a) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(a.id))).toBe(true);
      expect(shape.account('disabled')).toMatchObject({ active: false, flags: ['inactive'] });
      expect(shape.accounts.filter((a) => a.hashFormat === 'argon2id').length).toBeGreaterThan(0);
      const before = await portalChecksum(knex, shape.tables, { schema: shape.schema });
      expect(await portalChecksum(knex, shape.tables, { schema: shape.schema })).toEqual(before);
      if (shape.dialect === 'mysql') {
        expect(shape.mapping.users.table).toBe(`${shape.schema}.accounts`);
        const [rows] = await knex.raw('SELECT TABLE_COLLATION AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [
          shape.schema!,
          'accounts',
        ]);
        expect(rows[0].c).toBe('utf8mb4_bin');
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('leastPrivilegeSql: the GRANTs the README prints', () => {
  it('separate databases: SELECT per mapped table, ALL on portal-mfa’s database', () => {
    expect(leastPrivilegeSql({ portalDb: 'portal', mfaDb: 'portal_mfa', portalTables: ['portal.users', 'teams'], password: 'pw' })).toEqual([
      "CREATE USER 'portal_mfa'@'%' IDENTIFIED BY 'pw'",
      "GRANT SELECT ON `portal`.`users` TO 'portal_mfa'@'%'",
      "GRANT SELECT ON `portal`.`teams` TO 'portal_mfa'@'%'",
      "GRANT ALL PRIVILEGES ON `portal_mfa`.* TO 'portal_mfa'@'%'",
    ]);
  });

  it('one shared database: table-level grants on each prefixed name, refusing an unprefixed one', () => {
    expect(leastPrivilegeSql({ portalDb: 'portal', portalTables: ['users'], mfaTables: ['mfa_settings'] })).toEqual([
      "CREATE USER 'portal_mfa'@'%' IDENTIFIED BY 'change-me'",
      "GRANT SELECT ON `portal`.`users` TO 'portal_mfa'@'%'",
      "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX ON `portal`.`mfa_settings` TO 'portal_mfa'@'%'",
    ]);
    expect(() => leastPrivilegeSql({ portalDb: 'portal', portalTables: ['users'], mfaTables: ['settings'] })).toThrow(/prefix/);
    expect(() => leastPrivilegeSql({ portalDb: 'portal', portalTables: ['users'] })).toThrow(/mfaTables/);
  });
});

const mysqlSkip = inject('mysqlServerUrl') ? false : inject('mysqlSkipReason') || 'no MariaDB server';

describe.skipIf(mysqlSkip !== false)(`the least-privilege MariaDB account${mysqlSkip ? ` (skipped: ${mysqlSkip})` : ''}`, () => {
  let db: TestDatabase;
  let admin: Knex;
  const drops: (() => Promise<void>)[] = [];
  const as = (url: string) => {
    const k = knexFactory({ client: 'mysql2', connection: url, pool: { min: 0, max: 1 } });
    drops.push(() => k.destroy());
    return k;
  };
  const refused = async (q: Knex.Raw | Knex.QueryBuilder | Promise<unknown>, code: string | RegExp = 'ER_TABLEACCESS_DENIED_ERROR') => {
    const err = (await Promise.resolve(q).then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: string } | undefined;
    expect(err, 'the statement was not refused').toBeDefined();
    expect(err?.code).toMatch(code);
  };

  beforeAll(async () => {
    db = await createTestDatabase('mysql');
    admin = knexFactory({ client: 'mysql2', connection: db.url, pool: { min: 0, max: 2 } });
  });
  afterAll(async () => {
    for (const d of drops.reverse()) await d();
    await admin.destroy();
    await db.drop();
  });

  it('portal in one database, portal-mfa in another: reads the mapped tables, writes only its own', async () => {
    const portalDb = `${dbName(db)}_portal`;
    const mfaDb = `${dbName(db)}_mfa`;
    drops.push(
      () => dropPortalSchema(admin, portalDb),
      () => dropPortalSchema(admin, mfaDb),
    );
    const shape = await djangoOrganizations(admin, { schema: portalDb });
    const lp = await leastPrivilegeUser(admin, { portalDb, mfaDb, portalTables: mappedTables(shape.mapping) });
    drops.push(lp.drop);
    expect(lp.url.endsWith(`/${mfaDb}`)).toBe(true);
    const before = await portalChecksum(admin, shape.tables, { schema: portalDb });
    const k = as(lp.url);

    expect(await k(`${portalDb}.auth_user`).count({ n: '*' })).toEqual([{ n: shape.accounts.length }]);
    for (const t of mappedTables(shape.mapping)) await k(t).first();
    await refused(k(`${portalDb}.django_session`).first());
    await refused(k(`${portalDb}.auth_user`).insert({ password: '!', username: 'x', first_name: '', last_name: '', email: 'x@example.com' }));
    await refused(k(`${portalDb}.auth_user`).update({ is_active: 1 }));
    await refused(k(`${portalDb}.organizations_organizationuser`).delete());
    await refused(k.raw(`ALTER TABLE \`${portalDb}\`.auth_user ADD COLUMN email_folded VARCHAR(254)`));
    await refused(k.raw(`CREATE INDEX auth_user_email ON \`${portalDb}\`.auth_user (email)`));
    await refused(k.raw(`CREATE TABLE \`${portalDb}\`.mfa_credentials (id INT PRIMARY KEY)`));
    await refused(k.raw(`CREATE TRIGGER \`${portalDb}\`.fold AFTER INSERT ON \`${portalDb}\`.auth_user FOR EACH ROW SET @x = 1`));
    await refused(k.raw(`DROP TABLE \`${portalDb}\`.django_session`));
    await refused(k.raw(`CREATE DATABASE \`${dbName(db)}_other\``), /ER_DBACCESS_DENIED_ERROR|ER_ACCESS_DENIED/);

    // its own database: anything
    await k.schema.createTable('mfa_credentials', (t) => {
      t.increments('id');
      t.string('user_id', 128).notNullable().index();
    });
    await k('mfa_credentials').insert({ user_id: shape.account('owner').id });
    await k.schema.alterTable('mfa_credentials', (t) => t.bigInteger('created_at'));
    await k.schema.dropTable('mfa_credentials');

    expect(await portalChecksum(admin, shape.tables, { schema: portalDb })).toEqual(before);
  });

  it('one shared database: table-level grants on the prefixed names, granted before the tables exist', async () => {
    const portalDb = `${dbName(db)}_shared`;
    drops.push(() => dropPortalSchema(admin, portalDb));
    const shape = await customShape(admin, { schema: portalDb });
    const mfaTables = ['mfa_credentials', 'mfa_knex_migrations', 'mfa_knex_migrations_lock'];
    const lp = await leastPrivilegeUser(admin, { portalDb, portalTables: mappedTables(shape.mapping), mfaTables });
    drops.push(lp.drop);
    expect(lp.url.endsWith(`/${portalDb}`)).toBe(true);
    const before = await portalChecksum(admin, shape.tables, { schema: portalDb });
    const k = as(lp.url);

    expect(await k('accounts').count({ n: '*' })).toEqual([{ n: shape.accounts.length }]);
    expect(await k('staff').pluck('account_id')).toEqual([shape.account('support').id]);
    await refused(k('login_events').first());
    await refused(k('accounts').update({ disabled_at: null }));
    await refused(k('staff').insert({ account_id: shape.account('owner').id, granted_at: '2026-12-01 00:00:00' }));
    await refused(k.raw('ALTER TABLE accounts ADD INDEX email_ci (login_email)'));
    await refused(k.raw('CREATE TABLE mfa_unlisted (id INT PRIMARY KEY)'));
    await refused(k.raw('CREATE TABLE email_lookup (id INT PRIMARY KEY)'));
    await refused(k.raw('CREATE VIEW mfa_users AS SELECT uuid FROM accounts'));
    await refused(k.raw('CREATE TEMPORARY TABLE mfa_tmp (id INT)'), /ER_DBACCESS_DENIED_ERROR/);

    // the listed names: created, written, altered, indexed, dropped and created again
    await k.schema.createTable('mfa_credentials', (t) => {
      t.increments('id');
      t.string('user_id', 128).notNullable();
    });
    await k('mfa_credentials').insert({ user_id: shape.account('owner').id });
    await k.schema.alterTable('mfa_credentials', (t) => t.index(['user_id'], 'mfa_credentials_user'));
    await k('mfa_credentials').update({ user_id: shape.account('admin').id });
    await k('mfa_credentials').delete();
    await k.schema.dropTable('mfa_credentials');
    await k.schema.createTable('mfa_credentials', (t) => t.increments('id'));
    expect(await schemaTables(admin, { schema: portalDb })).toEqual([...shape.tables, 'mfa_credentials'].sort());
    expect(await portalChecksum(admin, shape.tables, { schema: portalDb })).toEqual(before);
  });
});
