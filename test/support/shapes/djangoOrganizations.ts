/**
 * A Django 5 project with django.contrib.auth, sessions, contenttypes and django-organizations, its
 * tables as `manage.py migrate` leaves them on a new database (the DDL Django's schema editors
 * emit, with Django's generated index and constraint names), and rows covering the cases the issue
 * names.
 *
 * Accounts (password `<key>-django-pass`, `pbkdf2_sha256$1000$…`):
 *   owner         olivia@acme.example     admin and owner of "acme"
 *   admin         adam@acme.example       admin of acme
 *   member        mel@acme.example        member of acme and globex; owner of the inactive "initech"
 *   globex-owner  gina@globex.example     admin and owner of "globex"
 *   inactive      ivan@acme.example       `is_active = 0`, member of acme
 *   support       sam@support.example     `is_staff = 1`
 *   dup-upper     Dup@Example.com         } the same email but for case: member of acme
 *   dup-lower     dup@example.com         }                               member of globex
 *   mixed-case    Mixed.Case@Example.com  member of acme
 *   unknown-hash  legacy@acme.example     Django's legacy `sha1$…` hash, member of acme
 *   unusable      sso@acme.example        Django's unusable-password marker `!…` (signs in by SSO), member of acme
 */
import type { Knex } from 'knex';
import { djangoOrganizationsMapping } from '../../../src/db/identity/presets.js';
import { djangoPbkdf2, djangoSha1, djangoUnusable, type HashFormat } from './hashes.js';
import { type DdlNames, ddlNames, dialectOf, djangoFkName, djangoIndexName, preparePortalSchema, qualify, runStatements } from './sql.js';
import { type AccountFlag, describeShape, type PortalAccount, type PortalOrganisation, type PortalShape, type ShapeOptions } from './types.js';

/** Django's MySQL guide: `CREATE DATABASE … CHARACTER SET utf8mb4` (the server's default utf8mb4 collation). */
const MYSQL_DATABASE_CHARSET = 'CHARACTER SET utf8mb4';

const TABLES = [
  'django_migrations',
  'django_content_type',
  'auth_group',
  'auth_user',
  'django_session',
  'organizations_organization',
  'organizations_organizationuser',
  'organizations_organizationowner',
];

const OU = 'organizations_organizationuser';
const OO = 'organizations_organizationowner';
const ORG = 'organizations_organization';

/** `manage.py migrate` on SQLite (sqlite3 schema editor; altered tables are remade, hence auth_user's column order). */
function sqliteStatements(n: DdlNames): string[] {
  const ix = (table: string, cols: string[], suffix = '') => djangoIndexName(table, cols, suffix, 200);
  const fk = (table: string) => `REFERENCES ${n.ref(table)} ("id") DEFERRABLE INITIALLY DEFERRED`;
  return [
    `CREATE TABLE ${n.table('django_migrations')} ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL)`,
    `CREATE TABLE ${n.table('django_content_type')} ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app_label" varchar(100) NOT NULL, "model" varchar(100) NOT NULL)`,
    `CREATE UNIQUE INDEX ${n.index(ix('django_content_type', ['app_label', 'model'], '_uniq'))} ON ${n.on('django_content_type')} ("app_label", "model")`,
    `CREATE TABLE ${n.table('auth_group')} ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(150) NOT NULL UNIQUE)`,
    `CREATE TABLE ${n.table('auth_user')} ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "first_name" varchar(150) NOT NULL)`,
    `CREATE TABLE ${n.table('django_session')} ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" datetime NOT NULL)`,
    `CREATE INDEX ${n.index(ix('django_session', ['expire_date']))} ON ${n.on('django_session')} ("expire_date")`,
    `CREATE TABLE ${n.table(ORG)} ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(200) NOT NULL, "is_active" bool NOT NULL, "created" datetime NOT NULL, "modified" datetime NOT NULL, "slug" varchar(200) NOT NULL UNIQUE)`,
    `CREATE TABLE ${n.table(OU)} ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "created" datetime NOT NULL, "modified" datetime NOT NULL, "is_admin" bool NOT NULL, "organization_id" integer NOT NULL ${fk(ORG)}, "user_id" integer NOT NULL ${fk('auth_user')})`,
    `CREATE UNIQUE INDEX ${n.index(ix(OU, ['user_id', 'organization_id'], '_uniq'))} ON ${n.on(OU)} ("user_id", "organization_id")`,
    `CREATE INDEX ${n.index(ix(OU, ['organization_id']))} ON ${n.on(OU)} ("organization_id")`,
    `CREATE INDEX ${n.index(ix(OU, ['user_id']))} ON ${n.on(OU)} ("user_id")`,
    `CREATE TABLE ${n.table(OO)} ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "created" datetime NOT NULL, "modified" datetime NOT NULL, "organization_id" integer NOT NULL UNIQUE ${fk(ORG)}, "organization_user_id" integer NOT NULL UNIQUE ${fk(OU)})`,
  ];
}

/** `manage.py migrate` on MariaDB (mysql schema editor: no table options, foreign keys added last). */
function mysqlStatements(n: DdlNames): string[] {
  const ix = (table: string, cols: string[], suffix = '') => djangoIndexName(table, cols, suffix, 64);
  const addFk = (table: string, column: string, to: string) =>
    `ALTER TABLE ${n.table(table)} ADD CONSTRAINT \`${djangoFkName(table, column, to, 'id', 64)}\` FOREIGN KEY (\`${column}\`) REFERENCES ${n.ref(to)} (\`id\`)`;
  return [
    `CREATE TABLE ${n.table('django_migrations')} (\`id\` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, \`app\` varchar(255) NOT NULL, \`name\` varchar(255) NOT NULL, \`applied\` datetime(6) NOT NULL)`,
    `CREATE TABLE ${n.table('django_content_type')} (\`id\` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, \`app_label\` varchar(100) NOT NULL, \`model\` varchar(100) NOT NULL)`,
    `ALTER TABLE ${n.table('django_content_type')} ADD CONSTRAINT \`${ix('django_content_type', ['app_label', 'model'], '_uniq')}\` UNIQUE (\`app_label\`, \`model\`)`,
    `CREATE TABLE ${n.table('auth_group')} (\`id\` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, \`name\` varchar(150) NOT NULL UNIQUE)`,
    `CREATE TABLE ${n.table('auth_user')} (\`id\` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, \`password\` varchar(128) NOT NULL, \`last_login\` datetime(6) NULL, \`is_superuser\` bool NOT NULL, \`username\` varchar(150) NOT NULL UNIQUE, \`first_name\` varchar(150) NOT NULL, \`last_name\` varchar(150) NOT NULL, \`email\` varchar(254) NOT NULL, \`is_staff\` bool NOT NULL, \`is_active\` bool NOT NULL, \`date_joined\` datetime(6) NOT NULL)`,
    `CREATE TABLE ${n.table('django_session')} (\`session_key\` varchar(40) NOT NULL PRIMARY KEY, \`session_data\` longtext NOT NULL, \`expire_date\` datetime(6) NOT NULL)`,
    `CREATE INDEX \`${ix('django_session', ['expire_date'])}\` ON ${n.on('django_session')} (\`expire_date\`)`,
    `CREATE TABLE ${n.table(ORG)} (\`id\` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, \`name\` varchar(200) NOT NULL, \`is_active\` bool NOT NULL, \`created\` datetime(6) NOT NULL, \`modified\` datetime(6) NOT NULL, \`slug\` varchar(200) NOT NULL UNIQUE)`,
    `CREATE TABLE ${n.table(OO)} (\`id\` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, \`created\` datetime(6) NOT NULL, \`modified\` datetime(6) NOT NULL, \`organization_id\` integer NOT NULL UNIQUE)`,
    `CREATE TABLE ${n.table(OU)} (\`id\` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, \`created\` datetime(6) NOT NULL, \`modified\` datetime(6) NOT NULL, \`is_admin\` bool NOT NULL, \`organization_id\` integer NOT NULL, \`user_id\` integer NOT NULL)`,
    `ALTER TABLE ${n.table(OO)} ADD COLUMN \`organization_user_id\` integer NOT NULL UNIQUE`,
    `ALTER TABLE ${n.table(OU)} ADD CONSTRAINT \`${ix(OU, ['user_id', 'organization_id'], '_uniq')}\` UNIQUE (\`user_id\`, \`organization_id\`)`,
    addFk(OO, 'organization_id', ORG),
    addFk(OU, 'organization_id', ORG),
    addFk(OU, 'user_id', 'auth_user'),
    addFk(OO, 'organization_user_id', OU),
  ];
}

interface SeedUser {
  key: string;
  username: string;
  first: string;
  last: string;
  email: string;
  hash: HashFormat;
  flags: AccountFlag[];
  active?: false;
  staff?: true;
}

const USERS: SeedUser[] = [
  { key: 'owner', username: 'olivia', first: 'Olivia', last: 'Owner', email: 'olivia@acme.example', hash: 'django-pbkdf2_sha256', flags: [] },
  { key: 'admin', username: 'adam', first: 'Adam', last: 'Admin', email: 'adam@acme.example', hash: 'django-pbkdf2_sha256', flags: [] },
  { key: 'member', username: 'mel', first: 'Mel', last: 'Member', email: 'mel@acme.example', hash: 'django-pbkdf2_sha256', flags: [] },
  { key: 'globex-owner', username: 'gina', first: 'Gina', last: 'Globex', email: 'gina@globex.example', hash: 'django-pbkdf2_sha256', flags: [] },
  {
    key: 'inactive',
    username: 'ivan',
    first: 'Ivan',
    last: 'Inactive',
    email: 'ivan@acme.example',
    hash: 'django-pbkdf2_sha256',
    flags: ['inactive'],
    active: false,
  },
  {
    key: 'support',
    username: 'sam',
    first: 'Sam',
    last: 'Support',
    email: 'sam@support.example',
    hash: 'django-pbkdf2_sha256',
    flags: ['support'],
    staff: true,
  },
  { key: 'dup-upper', username: 'dup.upper', first: 'Dana', last: 'Upper', email: 'Dup@Example.com', hash: 'django-pbkdf2_sha256', flags: ['duplicate-email'] },
  { key: 'dup-lower', username: 'dup.lower', first: 'Dana', last: 'Lower', email: 'dup@example.com', hash: 'django-pbkdf2_sha256', flags: ['duplicate-email'] },
  {
    key: 'mixed-case',
    username: 'mia',
    first: 'Mia',
    last: 'Mixed',
    email: 'Mixed.Case@Example.com',
    hash: 'django-pbkdf2_sha256',
    flags: ['mixed-case-email'],
  },
  { key: 'unknown-hash', username: 'lee', first: 'Lee', last: 'Legacy', email: 'legacy@acme.example', hash: 'django-sha1', flags: ['unknown-hash'] },
  { key: 'unusable', username: 'sso', first: 'Sol', last: 'Single-Sign-On', email: 'sso@acme.example', hash: 'django-unusable', flags: ['unusable-password'] },
];

const ORGS = [
  { key: 'acme', id: 1, name: 'Acme Corp', slug: 'acme', active: true, owner: 'owner' },
  { key: 'globex', id: 2, name: 'Globex Corporation', slug: 'globex', active: true, owner: 'globex-owner' },
  // deactivated: the mapping does not count it (nor its members)
  { key: 'initech', id: 3, name: 'Initech', slug: 'initech', active: false, owner: 'member' },
];

/** organizationuser rows: organisation, user, is_admin, created (the joined-at the mapping reads). */
const MEMBERS: [org: string, user: string, admin: boolean, created: string][] = [
  ['acme', 'owner', true, '2026-09-10 09:00:00.000000'],
  ['acme', 'admin', true, '2026-09-11 10:00:00.250000'],
  ['acme', 'member', false, '2026-09-12 10:00:00.500000'],
  ['globex', 'globex-owner', true, '2026-09-15 09:00:00.000000'],
  ['globex', 'member', false, '2026-09-16 10:00:00.000000'],
  ['acme', 'inactive', false, '2026-09-17 10:00:00.000000'],
  ['acme', 'dup-upper', false, '2026-09-18 10:00:00.000000'],
  ['globex', 'dup-lower', false, '2026-09-18 11:00:00.000000'],
  ['acme', 'mixed-case', false, '2026-11-25 10:00:00.000000'],
  ['acme', 'unknown-hash', false, '2026-09-19 10:00:00.000000'],
  ['acme', 'unusable', false, '2026-09-20 10:00:00.000000'],
  ['initech', 'member', true, '2026-09-21 10:00:00.000000'],
];

const APPLIED: [app: string, name: string][] = [
  ['contenttypes', '0001_initial'],
  ['auth', '0001_initial'],
  ['contenttypes', '0002_remove_content_type_name'],
  ['auth', '0002_alter_permission_name_max_length'],
  ['auth', '0003_alter_user_email_max_length'],
  ['auth', '0004_alter_user_username_opts'],
  ['auth', '0005_alter_user_last_login_null'],
  ['auth', '0006_require_contenttypes_0002'],
  ['auth', '0007_alter_validators_add_error_messages'],
  ['auth', '0008_alter_user_username_max_length'],
  ['auth', '0009_alter_user_last_name_max_length'],
  ['auth', '0010_alter_group_name_max_length'],
  ['auth', '0011_update_proxy_permissions'],
  ['auth', '0012_alter_user_first_name_max_length'],
  ['organizations', '0001_initial'],
  ['organizations', '0002_model_update'],
  ['organizations', '0003_field_fix_and_editable'],
  ['organizations', '0004_organizationinvitation'],
  ['organizations', '0005_alter_organization_users_and_more'],
  ['organizations', '0006_alter_organization_slug'],
  ['sessions', '0001_initial'],
];

export interface DjangoOptions extends ShapeOptions {
  /** PBKDF2 iterations in the stored hashes (Django's own default is 600,000+; default 1000 for speed) */
  iterations?: number;
}

export async function djangoOrganizations(knex: Knex, opts: DjangoOptions = {}): Promise<PortalShape> {
  const dialect = dialectOf(knex);
  const { schema, iterations = 1000 } = opts;
  await preparePortalSchema(knex, schema, MYSQL_DATABASE_CHARSET);
  const n = ddlNames(dialect, schema);
  await runStatements(knex, dialect === 'sqlite' ? sqliteStatements(n) : mysqlStatements(n));

  const t = (name: string) => qualify(schema, name);
  const idOf = (key: string) => USERS.findIndex((u) => u.key === key) + 1;
  const orgOf = (key: string) => ORGS.find((o) => o.key === key)!;
  const passwordOf = (key: string) => `${key}-django-pass`;
  const hashOf = (u: SeedUser) =>
    u.hash === 'django-sha1'
      ? djangoSha1(passwordOf(u.key))
      : u.hash === 'django-unusable'
        ? djangoUnusable(u.key)
        : djangoPbkdf2(passwordOf(u.key), iterations);

  await knex(t('django_migrations')).insert(
    APPLIED.map(([app, name], i) => ({ id: i + 1, app, name, applied: `2026-09-01 07:00:${String(i).padStart(2, '0')}.000000` })),
  );
  await knex(t('django_content_type')).insert(
    [
      ['auth', 'permission'],
      ['auth', 'group'],
      ['auth', 'user'],
      ['contenttypes', 'contenttype'],
      ['sessions', 'session'],
      ['organizations', 'organization'],
      ['organizations', 'organizationuser'],
      ['organizations', 'organizationowner'],
    ].map(([app_label, model], i) => ({ id: i + 1, app_label, model })),
  );
  await knex(t('auth_group')).insert({ id: 1, name: 'Customer Success' });
  await knex(t('auth_user')).insert(
    USERS.map((u, i) => ({
      id: i + 1,
      password: hashOf(u),
      last_login: i % 3 === 0 ? null : `2026-11-${String(10 + i).padStart(2, '0')} 07:30:00.000000`,
      is_superuser: 0,
      username: u.username,
      first_name: u.first,
      last_name: u.last,
      email: u.email,
      is_staff: u.staff ? 1 : 0,
      is_active: u.active === false ? 0 : 1,
      date_joined: `2026-09-${String(1 + i).padStart(2, '0')} 08:00:00.000000`,
    })),
  );
  await knex(t('django_session')).insert({
    session_key: 'q8w7e6r5t4y3u2i1o0p9a8s7d6f5g4h3',
    session_data:
      '.eJxVjDsOwjAQRO_iGln-xVlT0nMGa-1d4wByICYV4u4QKQVMNdJ7M28RcXnWuHSe40hiL6zY_WYJ85XbCuiC7TzJPLXnPCa5KnKjXR4n4tthc_8OKvb6W6Pz2ZvsCFRRlgxzSgP4oocQlLaUPfDgAY0LJRhVdACE4FzG7Ihd-XwB',
    expire_date: '2026-12-14 07:30:00.000000',
  });
  await knex(t(ORG)).insert(
    ORGS.map((o) => ({
      id: o.id,
      name: o.name,
      is_active: o.active ? 1 : 0,
      created: `2026-09-0${o.id} 09:00:00.000000`,
      modified: `2026-09-0${o.id} 09:00:00.000000`,
      slug: o.slug,
    })),
  );
  await knex(t(OU)).insert(
    MEMBERS.map(([org, user, admin, created], i) => ({
      id: i + 1,
      created,
      modified: created,
      is_admin: admin ? 1 : 0,
      organization_id: orgOf(org).id,
      user_id: idOf(user),
    })),
  );
  const membershipId = (org: string, user: string) => MEMBERS.findIndex(([o, u]) => o === org && u === user) + 1;
  await knex(t(OO)).insert(
    ORGS.map((o, i) => ({
      id: i + 1,
      created: `2026-09-0${o.id} 09:00:00.000000`,
      modified: `2026-09-0${o.id} 09:00:00.000000`,
      organization_id: o.id,
      organization_user_id: membershipId(o.key, o.owner),
    })),
  );

  const organisations: PortalOrganisation[] = ORGS.map((o) => ({ key: o.key, id: String(o.id), slug: o.slug, name: o.name, active: o.active }));
  const accounts: PortalAccount[] = USERS.map((u, i) => ({
    key: u.key,
    id: String(i + 1),
    email: u.email,
    name: `${u.first} ${u.last}`,
    password: passwordOf(u.key),
    hashFormat: u.hash,
    flags: [...u.flags],
    active: u.active !== false,
    support: u.staff === true,
    memberships: MEMBERS.filter(([org, user]) => user === u.key && orgOf(org).active).map(([org, , admin, created]) => ({
      organisation: org,
      role: orgOf(org).owner === u.key ? 'owner' : admin ? 'admin' : 'member',
      admin,
      owner: orgOf(org).owner === u.key,
      joinedAt: created.replace(/\.\d+$/, ''),
    })),
  }));
  const mapping = djangoOrganizationsMapping(schema);
  return describeShape({ shape: 'django-organizations', dialect, schema, mapping, preset: mapping, tables: [...TABLES], accounts, organisations });
}
