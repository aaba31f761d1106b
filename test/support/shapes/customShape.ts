/**
 * A portal none of the presets know — for the "a schema none of the tests use" check. Deliberately
 * unlike the others:
 * - UUID string ids (CHAR(36), ASCII) everywhere; a users table `accounts` with `login_email`,
 *   `pw`, `display_name` and `disabled_at` (NULL = active);
 * - case-sensitive emails on MariaDB (`utf8mb4_bin`), so only portal-mfa's folding finds a
 *   mixed-case address;
 * - support as rows of a separate table `staff(account_id)`;
 * - organisations `tenants(uuid, handle, title)`, memberships `tenant_members(tenant_uuid,
 *   account_uuid, is_owner_or_admin, added_at DATETIME)` with a composite primary key (WITHOUT
 *   ROWID on SQLite);
 * - argon2id hashes (one account still on bcrypt `$2b$`, as after a partial hash migration).
 * On MariaDB the tables live in a database of their own (`schema`, default `identity` — pass a
 * unique name when tests share a server). On SQLite they are in the main database unless an
 * attached `schema` is given.
 *
 * Accounts (password `<key>-custom-pass`):
 *   owner       olivia@tenant.example   owner/admin of tenant "northwind"
 *   member      mel@tenant.example      member of northwind and of "contoso"
 *   admin       ada@contoso.example     admin of contoso (bcrypt `$2b$`)
 *   disabled    dora@tenant.example     `disabled_at` set, member of northwind
 *   support     sam@ops.example         a row in `staff`
 *   mixed-case  Mixed.Case@Example.com  member of northwind
 */
import type { Knex } from 'knex';
import type { IdentityMapping } from '../../../src/db/identity/mapping.js';
import { argon2idHash, bcrypt2b, type HashFormat } from './hashes.js';
import { type DdlNames, ddlNames, dialectOf, preparePortalSchema, qualify, runStatements, stableUuid } from './sql.js';
import { type AccountFlag, describeShape, type PortalAccount, type PortalOrganisation, type PortalShape, type ShapeOptions } from './types.js';

const TABLES = ['accounts', 'staff', 'tenants', 'tenant_members', 'login_events'];

const MYSQL_DATABASE_CHARSET = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';
const MYSQL_TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';
const UUID_MYSQL = 'CHAR(36) CHARACTER SET ascii COLLATE ascii_bin';

/** The mapping an operator writes for this portal (no preset proposes it). */
function customShapeMapping(schema?: string): IdentityMapping {
  const q = (t: string) => qualify(schema, t);
  return {
    version: 1,
    preset: 'custom',
    users: {
      table: q('accounts'),
      id: 'uuid',
      email: 'login_email',
      name: ['display_name'],
      passwordHash: 'pw',
      active: { column: 'disabled_at', is: 'null' },
      support: { kind: 'table', table: q('staff'), userId: 'account_id' },
    },
    organisations: { table: q('tenants'), id: 'uuid', slug: 'handle', name: 'title' },
    memberships: {
      table: q('tenant_members'),
      organisationId: 'tenant_uuid',
      userId: 'account_uuid',
      admin: { column: 'is_owner_or_admin', is: 'true' },
      joinedAt: { column: 'added_at', type: 'datetime' },
    },
  };
}

function sqliteStatements(n: DdlNames): string[] {
  return [
    `CREATE TABLE ${n.table('accounts')} (uuid CHAR(36) NOT NULL PRIMARY KEY, login_email VARCHAR(320) NOT NULL UNIQUE, display_name VARCHAR(200), pw VARCHAR(255) NOT NULL, disabled_at DATETIME, created_at DATETIME NOT NULL)`,
    `CREATE TABLE ${n.table('staff')} (account_id CHAR(36) NOT NULL PRIMARY KEY REFERENCES ${n.ref('accounts')} (uuid) ON DELETE CASCADE, granted_at DATETIME NOT NULL)`,
    `CREATE TABLE ${n.table('tenants')} (uuid CHAR(36) NOT NULL PRIMARY KEY, handle VARCHAR(64) NOT NULL UNIQUE, title VARCHAR(200) NOT NULL, created_at DATETIME NOT NULL)`,
    `CREATE TABLE ${n.table('tenant_members')} (tenant_uuid CHAR(36) NOT NULL REFERENCES ${n.ref('tenants')} (uuid) ON DELETE CASCADE, account_uuid CHAR(36) NOT NULL REFERENCES ${n.ref('accounts')} (uuid) ON DELETE CASCADE, is_owner_or_admin BOOLEAN NOT NULL DEFAULT 0, added_at DATETIME NOT NULL, PRIMARY KEY (tenant_uuid, account_uuid)) WITHOUT ROWID`,
    `CREATE INDEX ${n.index('tenant_members_by_account')} ON ${n.on('tenant_members')} (account_uuid)`,
    `CREATE TABLE ${n.table('login_events')} (id INTEGER PRIMARY KEY, account_uuid CHAR(36) NOT NULL, at DATETIME NOT NULL, ip VARCHAR(45))`,
  ];
}

function mysqlStatements(n: DdlNames): string[] {
  return [
    `CREATE TABLE ${n.table('accounts')} (uuid ${UUID_MYSQL} NOT NULL PRIMARY KEY, login_email VARCHAR(320) NOT NULL, display_name VARCHAR(200) NULL, pw VARCHAR(255) NOT NULL, disabled_at DATETIME NULL, created_at DATETIME NOT NULL, UNIQUE KEY accounts_login_email (login_email)) ${MYSQL_TABLE_OPTIONS}`,
    `CREATE TABLE ${n.table('staff')} (account_id ${UUID_MYSQL} NOT NULL PRIMARY KEY, granted_at DATETIME NOT NULL, CONSTRAINT staff_account FOREIGN KEY (account_id) REFERENCES ${n.ref('accounts')} (uuid) ON DELETE CASCADE) ${MYSQL_TABLE_OPTIONS}`,
    `CREATE TABLE ${n.table('tenants')} (uuid ${UUID_MYSQL} NOT NULL PRIMARY KEY, handle VARCHAR(64) NOT NULL, title VARCHAR(200) NOT NULL, created_at DATETIME NOT NULL, UNIQUE KEY tenants_handle (handle)) ${MYSQL_TABLE_OPTIONS}`,
    `CREATE TABLE ${n.table('tenant_members')} (tenant_uuid ${UUID_MYSQL} NOT NULL, account_uuid ${UUID_MYSQL} NOT NULL, is_owner_or_admin TINYINT(1) NOT NULL DEFAULT 0, added_at DATETIME NOT NULL, PRIMARY KEY (tenant_uuid, account_uuid), KEY tenant_members_by_account (account_uuid), CONSTRAINT tenant_members_tenant FOREIGN KEY (tenant_uuid) REFERENCES ${n.ref('tenants')} (uuid) ON DELETE CASCADE, CONSTRAINT tenant_members_account FOREIGN KEY (account_uuid) REFERENCES ${n.ref('accounts')} (uuid) ON DELETE CASCADE) ${MYSQL_TABLE_OPTIONS}`,
    `CREATE TABLE ${n.table('login_events')} (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, account_uuid ${UUID_MYSQL} NOT NULL, at DATETIME NOT NULL, ip VARCHAR(45) NULL) ${MYSQL_TABLE_OPTIONS}`,
  ];
}

interface SeedAccount {
  key: string;
  email: string;
  name: string;
  hash: HashFormat;
  flags: AccountFlag[];
  disabledAt?: string;
}

const ACCOUNTS: SeedAccount[] = [
  { key: 'owner', email: 'olivia@tenant.example', name: 'Olivia Owner', hash: 'argon2id', flags: [] },
  { key: 'member', email: 'mel@tenant.example', name: 'Mel Member', hash: 'argon2id', flags: [] },
  { key: 'admin', email: 'ada@contoso.example', name: 'Ada Admin', hash: 'bcrypt-2b', flags: [] },
  { key: 'disabled', email: 'dora@tenant.example', name: 'Dora Disabled', hash: 'argon2id', flags: ['inactive'], disabledAt: '2026-11-01 00:00:00' },
  { key: 'support', email: 'sam@ops.example', name: 'Sam Support', hash: 'argon2id', flags: ['support'] },
  { key: 'mixed-case', email: 'Mixed.Case@Example.com', name: 'Mia Mixed', hash: 'argon2id', flags: ['mixed-case-email'] },
];

const TENANTS = [
  { key: 'northwind', handle: 'northwind', title: 'Northwind Traders' },
  { key: 'contoso', handle: 'contoso', title: 'Contoso Ltd' },
];

const MEMBERS: [tenant: string, account: string, ownerOrAdmin: boolean, addedAt: string][] = [
  ['northwind', 'owner', true, '2026-09-10 09:00:00'],
  ['northwind', 'member', false, '2026-09-11 09:00:00'],
  ['contoso', 'member', false, '2026-09-12 09:00:00'],
  ['contoso', 'admin', true, '2026-09-13 09:00:00'],
  ['northwind', 'disabled', false, '2026-09-14 09:00:00'],
  ['northwind', 'mixed-case', false, '2026-11-25 10:00:00'],
];

export async function customShape(knex: Knex, opts: ShapeOptions = {}): Promise<PortalShape> {
  const dialect = dialectOf(knex);
  const schema = opts.schema ?? (dialect === 'mysql' ? 'identity' : undefined);
  await preparePortalSchema(knex, schema, MYSQL_DATABASE_CHARSET);
  const n = ddlNames(dialect, schema);
  await runStatements(knex, dialect === 'sqlite' ? sqliteStatements(n) : mysqlStatements(n));

  const t = (name: string) => qualify(schema, name);
  const accountId = (key: string) => stableUuid(`custom-account:${key}`);
  const tenantId = (key: string) => stableUuid(`custom-tenant:${key}`);
  const passwordOf = (key: string) => `${key}-custom-pass`;

  const rows = [];
  for (const [i, a] of ACCOUNTS.entries()) {
    rows.push({
      uuid: accountId(a.key),
      login_email: a.email,
      display_name: a.name,
      pw: a.hash === 'argon2id' ? await argon2idHash(passwordOf(a.key)) : bcrypt2b(passwordOf(a.key)),
      disabled_at: a.disabledAt ?? null,
      created_at: `2026-09-0${i + 1} 08:00:00`,
    });
  }
  await knex(t('accounts')).insert(rows);
  await knex(t('staff')).insert({ account_id: accountId('support'), granted_at: '2026-09-05 12:00:00' });
  await knex(t('tenants')).insert(
    TENANTS.map((tn, i) => ({ uuid: tenantId(tn.key), handle: tn.handle, title: tn.title, created_at: `2026-09-0${i + 1} 09:00:00` })),
  );
  await knex(t('tenant_members')).insert(
    MEMBERS.map(([tenant, account, admin, at]) => ({
      tenant_uuid: tenantId(tenant),
      account_uuid: accountId(account),
      is_owner_or_admin: admin ? 1 : 0,
      added_at: at,
    })),
  );
  await knex(t('login_events')).insert([
    { id: 1, account_uuid: accountId('owner'), at: '2026-11-30 08:00:00', ip: '198.51.100.4' },
    { id: 2, account_uuid: accountId('member'), at: '2026-11-30 08:05:00', ip: '2001:db8::5' },
  ]);

  const organisations: PortalOrganisation[] = TENANTS.map((tn) => ({ key: tn.key, id: tenantId(tn.key), slug: tn.handle, name: tn.title, active: true }));
  const accounts: PortalAccount[] = ACCOUNTS.map((a) => ({
    key: a.key,
    id: accountId(a.key),
    email: a.email,
    name: a.name,
    password: passwordOf(a.key),
    hashFormat: a.hash,
    flags: [...a.flags],
    active: a.disabledAt === undefined,
    support: a.flags.includes('support'),
    memberships: MEMBERS.filter(([, account]) => account === a.key).map(([tenant, , admin, at]) => ({
      organisation: tenant,
      // the portal has one flag for both: an owner is a member with is_owner_or_admin set
      role: admin ? 'owner-or-admin' : 'member',
      admin,
      owner: false,
      joinedAt: at,
    })),
  }));
  return describeShape({ shape: 'custom', dialect, schema, mapping: customShapeMapping(schema), tables: [...TABLES], accounts, organisations });
}
