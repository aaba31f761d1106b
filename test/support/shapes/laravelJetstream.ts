/**
 * A Laravel 11 application with Jetstream teams (and Fortify, Sanctum, spatie/laravel-permission),
 * its tables created with the statements Laravel's schema grammars emit for the framework's own
 * migrations — `php artisan migrate` on a new app — and a small, realistic set of rows.
 *
 * Accounts (password `<key>-laravel-pass`, `$2y$10$` bcrypt as PHP writes it):
 *   owner        olivia@acme.example     owns team "Acme Robotics", admin of "Globex Labs"
 *   admin        adam@acme.example       team_user role `admin` of Acme
 *   editor       eddie@acme.example      role `editor` of Acme and of Globex
 *   globex-owner gina@globex.example     owns Globex
 *   support      sam@support.example     spatie role `support` (model_has_roles) — how this portal names support
 *   mixed-case   Mixed.Case@Example.com  role `editor` of Acme
 *   no-team      nina@example.com        only her personal team
 * Every user has a personal team (`personal_team = 1`), which the mapping leaves out.
 */
import type { Knex } from 'knex';
import { laravelJetstreamMapping } from '../../../src/db/identity/presets.js';
import { laravelBcrypt } from './hashes.js';
import { ddlNames, dialectOf, preparePortalSchema, qualify, runStatements, type DdlNames } from './sql.js';
import { describeShape, type PortalAccount, type PortalOrganisation, type PortalShape, type ShapeOptions } from './types.js';

/** Laravel's default MySQL/MariaDB connection settings (config/database.php). */
const MYSQL_TABLE_OPTIONS = "default character set utf8mb4 collate 'utf8mb4_unicode_ci'";
const MYSQL_DATABASE_CHARSET = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci';

const TABLES = [
  'migrations',
  'users',
  'password_reset_tokens',
  'sessions',
  'cache',
  'cache_locks',
  'jobs',
  'job_batches',
  'failed_jobs',
  'personal_access_tokens',
  'teams',
  'team_user',
  'team_invitations',
  'notifications',
  'permissions',
  'roles',
  'model_has_permissions',
  'model_has_roles',
  'role_has_permissions',
];

const MIGRATIONS = [
  '0001_01_01_000000_create_users_table',
  '0001_01_01_000001_create_cache_table',
  '0001_01_01_000002_create_jobs_table',
  '2026_09_30_120000_add_two_factor_columns_to_users_table',
  '2026_09_30_120001_create_personal_access_tokens_table',
  '2026_09_30_120002_create_teams_table',
  '2026_09_30_120003_create_team_user_table',
  '2026_09_30_120004_create_team_invitations_table',
  '2026_09_30_120005_create_notifications_table',
  '2026_09_30_120006_create_permission_tables',
];

/** `php artisan migrate` on SQLite (Illuminate\Database\Schema\Grammars\SQLiteGrammar). */
function sqliteStatements(n: DdlNames): string[] {
  return [
    `create table ${n.table('migrations')} ("id" integer primary key autoincrement not null, "migration" varchar not null, "batch" integer not null)`,
    // 0001_01_01_000000_create_users_table (Jetstream's copy: current_team_id, profile_photo_path)
    `create table ${n.table('users')} ("id" integer primary key autoincrement not null, "name" varchar not null, "email" varchar not null, "email_verified_at" datetime, "password" varchar not null, "remember_token" varchar, "current_team_id" integer, "profile_photo_path" varchar, "created_at" datetime, "updated_at" datetime)`,
    `create unique index ${n.index('users_email_unique')} on ${n.on('users')} ("email")`,
    `create table ${n.table('password_reset_tokens')} ("email" varchar not null, "token" varchar not null, "created_at" datetime, primary key ("email"))`,
    `create table ${n.table('sessions')} ("id" varchar not null, "user_id" integer, "ip_address" varchar, "user_agent" text, "payload" text not null, "last_activity" integer not null, primary key ("id"))`,
    `create index ${n.index('sessions_user_id_index')} on ${n.on('sessions')} ("user_id")`,
    `create index ${n.index('sessions_last_activity_index')} on ${n.on('sessions')} ("last_activity")`,
    // 0001_01_01_000001_create_cache_table
    `create table ${n.table('cache')} ("key" varchar not null, "value" text not null, "expiration" integer not null, primary key ("key"))`,
    `create index ${n.index('cache_expiration_index')} on ${n.on('cache')} ("expiration")`,
    `create table ${n.table('cache_locks')} ("key" varchar not null, "owner" varchar not null, "expiration" integer not null, primary key ("key"))`,
    `create index ${n.index('cache_locks_expiration_index')} on ${n.on('cache_locks')} ("expiration")`,
    // 0001_01_01_000002_create_jobs_table
    `create table ${n.table('jobs')} ("id" integer primary key autoincrement not null, "queue" varchar not null, "payload" text not null, "attempts" integer not null, "reserved_at" integer, "available_at" integer not null, "created_at" integer not null)`,
    `create index ${n.index('jobs_queue_index')} on ${n.on('jobs')} ("queue")`,
    `create table ${n.table('job_batches')} ("id" varchar not null, "name" varchar not null, "total_jobs" integer not null, "pending_jobs" integer not null, "failed_jobs" integer not null, "failed_job_ids" text not null, "options" text, "cancelled_at" integer, "created_at" integer not null, "finished_at" integer, primary key ("id"))`,
    `create table ${n.table('failed_jobs')} ("id" integer primary key autoincrement not null, "uuid" varchar not null, "connection" text not null, "queue" text not null, "payload" text not null, "exception" text not null, "failed_at" datetime not null default CURRENT_TIMESTAMP)`,
    `create unique index ${n.index('failed_jobs_uuid_unique')} on ${n.on('failed_jobs')} ("uuid")`,
    // Fortify's add_two_factor_columns_to_users_table (`->after()` is ignored by SQLite: appended)
    `alter table ${n.table('users')} add column "two_factor_secret" text`,
    `alter table ${n.table('users')} add column "two_factor_recovery_codes" text`,
    `alter table ${n.table('users')} add column "two_factor_confirmed_at" datetime`,
    // Sanctum's create_personal_access_tokens_table
    `create table ${n.table('personal_access_tokens')} ("id" integer primary key autoincrement not null, "tokenable_type" varchar not null, "tokenable_id" integer not null, "name" text not null, "token" varchar not null, "abilities" text, "last_used_at" datetime, "expires_at" datetime, "created_at" datetime, "updated_at" datetime)`,
    `create index ${n.index('personal_access_tokens_tokenable_type_tokenable_id_index')} on ${n.on('personal_access_tokens')} ("tokenable_type", "tokenable_id")`,
    `create unique index ${n.index('personal_access_tokens_token_unique')} on ${n.on('personal_access_tokens')} ("token")`,
    // Jetstream's teams, team_user, team_invitations
    `create table ${n.table('teams')} ("id" integer primary key autoincrement not null, "user_id" integer not null, "name" varchar not null, "personal_team" tinyint(1) not null, "created_at" datetime, "updated_at" datetime)`,
    `create index ${n.index('teams_user_id_index')} on ${n.on('teams')} ("user_id")`,
    `create table ${n.table('team_user')} ("id" integer primary key autoincrement not null, "team_id" integer not null, "user_id" integer not null, "role" varchar, "created_at" datetime, "updated_at" datetime)`,
    `create unique index ${n.index('team_user_team_id_user_id_unique')} on ${n.on('team_user')} ("team_id", "user_id")`,
    `create table ${n.table('team_invitations')} ("id" integer primary key autoincrement not null, "team_id" integer not null, "email" varchar not null, "role" varchar, "created_at" datetime, "updated_at" datetime, foreign key("team_id") references ${n.ref('teams')}("id") on delete cascade)`,
    `create unique index ${n.index('team_invitations_team_id_email_unique')} on ${n.on('team_invitations')} ("team_id", "email")`,
    // php artisan make:notifications-table
    `create table ${n.table('notifications')} ("id" varchar not null, "type" varchar not null, "notifiable_type" varchar not null, "notifiable_id" integer not null, "data" text not null, "read_at" datetime, "created_at" datetime, "updated_at" datetime, primary key ("id"))`,
    `create index ${n.index('notifications_notifiable_type_notifiable_id_index')} on ${n.on('notifications')} ("notifiable_type", "notifiable_id")`,
    // spatie/laravel-permission's create_permission_tables
    `create table ${n.table('permissions')} ("id" integer primary key autoincrement not null, "name" varchar not null, "guard_name" varchar not null, "created_at" datetime, "updated_at" datetime)`,
    `create unique index ${n.index('permissions_name_guard_name_unique')} on ${n.on('permissions')} ("name", "guard_name")`,
    `create table ${n.table('roles')} ("id" integer primary key autoincrement not null, "name" varchar not null, "guard_name" varchar not null, "created_at" datetime, "updated_at" datetime)`,
    `create unique index ${n.index('roles_name_guard_name_unique')} on ${n.on('roles')} ("name", "guard_name")`,
    `create table ${n.table('model_has_permissions')} ("permission_id" integer not null, "model_type" varchar not null, "model_id" integer not null, foreign key("permission_id") references ${n.ref('permissions')}("id") on delete cascade, primary key ("permission_id", "model_id", "model_type"))`,
    `create index ${n.index('model_has_permissions_model_id_model_type_index')} on ${n.on('model_has_permissions')} ("model_id", "model_type")`,
    `create table ${n.table('model_has_roles')} ("role_id" integer not null, "model_type" varchar not null, "model_id" integer not null, foreign key("role_id") references ${n.ref('roles')}("id") on delete cascade, primary key ("role_id", "model_id", "model_type"))`,
    `create index ${n.index('model_has_roles_model_id_model_type_index')} on ${n.on('model_has_roles')} ("model_id", "model_type")`,
    `create table ${n.table('role_has_permissions')} ("permission_id" integer not null, "role_id" integer not null, foreign key("permission_id") references ${n.ref('permissions')}("id") on delete cascade, foreign key("role_id") references ${n.ref('roles')}("id") on delete cascade, primary key ("permission_id", "role_id"))`,
  ];
}

/** `php artisan migrate` on MariaDB with Laravel's `mysql` driver (MySqlGrammar). */
function mysqlStatements(n: DdlNames): string[] {
  const create = (table: string, columns: string) => `create table ${n.table(table)} (${columns}) ${MYSQL_TABLE_OPTIONS}`;
  const alter = (table: string, what: string) => `alter table ${n.table(table)} ${what}`;
  return [
    create('migrations', '`id` int unsigned not null auto_increment primary key, `migration` varchar(255) not null, `batch` int not null'),
    create(
      'users',
      '`id` bigint unsigned not null auto_increment primary key, `name` varchar(255) not null, `email` varchar(255) not null, `email_verified_at` timestamp null, `password` varchar(255) not null, `remember_token` varchar(100) null, `current_team_id` bigint unsigned null, `profile_photo_path` varchar(2048) null, `created_at` timestamp null, `updated_at` timestamp null',
    ),
    alter('users', 'add unique `users_email_unique`(`email`)'),
    create('password_reset_tokens', '`email` varchar(255) not null, `token` varchar(255) not null, `created_at` timestamp null, primary key (`email`)'),
    create(
      'sessions',
      '`id` varchar(255) not null, `user_id` bigint unsigned null, `ip_address` varchar(45) null, `user_agent` text null, `payload` longtext not null, `last_activity` int not null, primary key (`id`)',
    ),
    alter('sessions', 'add index `sessions_user_id_index`(`user_id`)'),
    alter('sessions', 'add index `sessions_last_activity_index`(`last_activity`)'),
    create('cache', '`key` varchar(255) not null, `value` mediumtext not null, `expiration` int not null, primary key (`key`)'),
    alter('cache', 'add index `cache_expiration_index`(`expiration`)'),
    create('cache_locks', '`key` varchar(255) not null, `owner` varchar(255) not null, `expiration` int not null, primary key (`key`)'),
    alter('cache_locks', 'add index `cache_locks_expiration_index`(`expiration`)'),
    create(
      'jobs',
      '`id` bigint unsigned not null auto_increment primary key, `queue` varchar(255) not null, `payload` longtext not null, `attempts` tinyint unsigned not null, `reserved_at` int unsigned null, `available_at` int unsigned not null, `created_at` int unsigned not null',
    ),
    alter('jobs', 'add index `jobs_queue_index`(`queue`)'),
    create(
      'job_batches',
      '`id` varchar(255) not null, `name` varchar(255) not null, `total_jobs` int not null, `pending_jobs` int not null, `failed_jobs` int not null, `failed_job_ids` longtext not null, `options` mediumtext null, `cancelled_at` int null, `created_at` int not null, `finished_at` int null, primary key (`id`)',
    ),
    create(
      'failed_jobs',
      '`id` bigint unsigned not null auto_increment primary key, `uuid` varchar(255) not null, `connection` text not null, `queue` text not null, `payload` longtext not null, `exception` longtext not null, `failed_at` timestamp not null default CURRENT_TIMESTAMP',
    ),
    alter('failed_jobs', 'add unique `failed_jobs_uuid_unique`(`uuid`)'),
    alter(
      'users',
      'add `two_factor_secret` text null after `password`, add `two_factor_recovery_codes` text null after `two_factor_secret`, add `two_factor_confirmed_at` timestamp null after `two_factor_recovery_codes`',
    ),
    create(
      'personal_access_tokens',
      '`id` bigint unsigned not null auto_increment primary key, `tokenable_type` varchar(255) not null, `tokenable_id` bigint unsigned not null, `name` text not null, `token` varchar(64) not null, `abilities` text null, `last_used_at` timestamp null, `expires_at` timestamp null, `created_at` timestamp null, `updated_at` timestamp null',
    ),
    alter('personal_access_tokens', 'add index `personal_access_tokens_tokenable_type_tokenable_id_index`(`tokenable_type`, `tokenable_id`)'),
    alter('personal_access_tokens', 'add unique `personal_access_tokens_token_unique`(`token`)'),
    create(
      'teams',
      '`id` bigint unsigned not null auto_increment primary key, `user_id` bigint unsigned not null, `name` varchar(255) not null, `personal_team` tinyint(1) not null, `created_at` timestamp null, `updated_at` timestamp null',
    ),
    alter('teams', 'add index `teams_user_id_index`(`user_id`)'),
    create(
      'team_user',
      '`id` bigint unsigned not null auto_increment primary key, `team_id` bigint unsigned not null, `user_id` bigint unsigned not null, `role` varchar(255) null, `created_at` timestamp null, `updated_at` timestamp null',
    ),
    alter('team_user', 'add unique `team_user_team_id_user_id_unique`(`team_id`, `user_id`)'),
    create(
      'team_invitations',
      '`id` bigint unsigned not null auto_increment primary key, `team_id` bigint unsigned not null, `email` varchar(255) not null, `role` varchar(255) null, `created_at` timestamp null, `updated_at` timestamp null',
    ),
    alter(
      'team_invitations',
      `add constraint \`team_invitations_team_id_foreign\` foreign key (\`team_id\`) references ${n.ref('teams')} (\`id\`) on delete cascade`,
    ),
    alter('team_invitations', 'add unique `team_invitations_team_id_email_unique`(`team_id`, `email`)'),
    create(
      'notifications',
      '`id` char(36) not null, `type` varchar(255) not null, `notifiable_type` varchar(255) not null, `notifiable_id` bigint unsigned not null, `data` json not null, `read_at` timestamp null, `created_at` timestamp null, `updated_at` timestamp null, primary key (`id`)',
    ),
    alter('notifications', 'add index `notifications_notifiable_type_notifiable_id_index`(`notifiable_type`, `notifiable_id`)'),
    create(
      'permissions',
      '`id` bigint unsigned not null auto_increment primary key, `name` varchar(255) not null, `guard_name` varchar(255) not null, `created_at` timestamp null, `updated_at` timestamp null',
    ),
    alter('permissions', 'add unique `permissions_name_guard_name_unique`(`name`, `guard_name`)'),
    create(
      'roles',
      '`id` bigint unsigned not null auto_increment primary key, `name` varchar(255) not null, `guard_name` varchar(255) not null, `created_at` timestamp null, `updated_at` timestamp null',
    ),
    alter('roles', 'add unique `roles_name_guard_name_unique`(`name`, `guard_name`)'),
    create(
      'model_has_permissions',
      '`permission_id` bigint unsigned not null, `model_type` varchar(255) not null, `model_id` bigint unsigned not null, primary key (`permission_id`, `model_id`, `model_type`)',
    ),
    alter('model_has_permissions', 'add index `model_has_permissions_model_id_model_type_index`(`model_id`, `model_type`)'),
    alter(
      'model_has_permissions',
      `add constraint \`model_has_permissions_permission_id_foreign\` foreign key (\`permission_id\`) references ${n.ref('permissions')} (\`id\`) on delete cascade`,
    ),
    create(
      'model_has_roles',
      '`role_id` bigint unsigned not null, `model_type` varchar(255) not null, `model_id` bigint unsigned not null, primary key (`role_id`, `model_id`, `model_type`)',
    ),
    alter('model_has_roles', 'add index `model_has_roles_model_id_model_type_index`(`model_id`, `model_type`)'),
    alter(
      'model_has_roles',
      `add constraint \`model_has_roles_role_id_foreign\` foreign key (\`role_id\`) references ${n.ref('roles')} (\`id\`) on delete cascade`,
    ),
    create('role_has_permissions', '`permission_id` bigint unsigned not null, `role_id` bigint unsigned not null, primary key (`permission_id`, `role_id`)'),
    alter(
      'role_has_permissions',
      `add constraint \`role_has_permissions_permission_id_foreign\` foreign key (\`permission_id\`) references ${n.ref('permissions')} (\`id\`) on delete cascade`,
    ),
    alter(
      'role_has_permissions',
      `add constraint \`role_has_permissions_role_id_foreign\` foreign key (\`role_id\`) references ${n.ref('roles')} (\`id\`) on delete cascade`,
    ),
  ];
}

interface SeedUser {
  key: string;
  name: string;
  email: string;
  createdAt: string;
  support?: boolean;
}

const USERS: SeedUser[] = [
  { key: 'owner', name: 'Olivia Owner', email: 'olivia@acme.example', createdAt: '2026-09-01 08:00:00' },
  { key: 'admin', name: 'Adam Admin', email: 'adam@acme.example', createdAt: '2026-09-02 08:00:00' },
  { key: 'editor', name: 'Eddie Editor', email: 'eddie@acme.example', createdAt: '2026-09-03 08:00:00' },
  { key: 'globex-owner', name: 'Gina Globex', email: 'gina@globex.example', createdAt: '2026-09-04 08:00:00' },
  { key: 'support', name: 'Sam Support', email: 'sam@support.example', createdAt: '2026-09-05 08:00:00', support: true },
  { key: 'mixed-case', name: 'Mia Mixed', email: 'Mixed.Case@Example.com', createdAt: '2026-09-06 08:00:00' },
  { key: 'no-team', name: 'Nina Nobody', email: 'nina@example.com', createdAt: '2026-09-07 08:00:00' },
];

/** The real (non-personal) teams: id, owner, name; members with their `team_user.role` and joined-at. */
const TEAMS = [
  {
    key: 'acme',
    id: 8,
    owner: 'owner',
    name: 'Acme Robotics',
    createdAt: '2026-09-10 09:00:00',
    members: [
      { user: 'admin', role: 'admin', at: '2026-09-11 10:00:00' },
      { user: 'editor', role: 'editor', at: '2026-09-12 10:00:00' },
      { user: 'mixed-case', role: 'editor', at: '2026-11-25 10:00:00' },
    ],
  },
  {
    key: 'globex',
    id: 9,
    owner: 'globex-owner',
    name: 'Globex Labs',
    createdAt: '2026-09-15 09:00:00',
    members: [
      { user: 'editor', role: 'editor', at: '2026-09-16 10:00:00' },
      { user: 'owner', role: 'admin', at: '2026-09-17 10:00:00' },
    ],
  },
];

const USER_MODEL = 'App\\Models\\User';
const SUPPORT_ROLE_ID = 1;

export async function laravelJetstream(knex: Knex, opts: ShapeOptions = {}): Promise<PortalShape> {
  const dialect = dialectOf(knex);
  const { schema } = opts;
  await preparePortalSchema(knex, schema, MYSQL_DATABASE_CHARSET);
  const n = ddlNames(dialect, schema);
  await runStatements(knex, dialect === 'sqlite' ? sqliteStatements(n) : mysqlStatements(n));

  const t = (name: string) => qualify(schema, name);
  const idOf = (key: string) => USERS.findIndex((u) => u.key === key) + 1;
  const passwordOf = (key: string) => `${key}-laravel-pass`;
  const teamOf = (key: string) => TEAMS.find((tm) => tm.key === key)!;
  const current = (key: string) => TEAMS.find((tm) => tm.owner === key || tm.members.some((m) => m.user === key))?.id ?? idOf(key);

  await knex(t('migrations')).insert(MIGRATIONS.map((migration, i) => ({ id: i + 1, migration, batch: 1 })));
  await knex(t('users')).insert(
    USERS.map((u, i) => ({
      id: i + 1,
      name: u.name,
      email: u.email,
      email_verified_at: u.createdAt,
      password: laravelBcrypt(passwordOf(u.key)),
      remember_token: null,
      current_team_id: current(u.key),
      profile_photo_path: null,
      created_at: u.createdAt,
      updated_at: u.createdAt,
    })),
  );
  // Jetstream gives every registered user a personal team "<First>'s Team", then the real teams
  await knex(t('teams')).insert([
    ...USERS.map((u, i) => ({
      id: i + 1,
      user_id: i + 1,
      name: `${u.name.split(' ')[0]}'s Team`,
      personal_team: 1,
      created_at: u.createdAt,
      updated_at: u.createdAt,
    })),
    ...TEAMS.map((tm) => ({ id: tm.id, user_id: idOf(tm.owner), name: tm.name, personal_team: 0, created_at: tm.createdAt, updated_at: tm.createdAt })),
  ]);
  // the owner is `teams.user_id` only; team_user holds the other members
  let membershipId = 0;
  await knex(t('team_user')).insert(
    TEAMS.flatMap((tm) =>
      tm.members.map((m) => ({ id: ++membershipId, team_id: tm.id, user_id: idOf(m.user), role: m.role, created_at: m.at, updated_at: m.at })),
    ),
  );
  await knex(t('team_invitations')).insert({
    id: 1,
    team_id: teamOf('acme').id,
    email: 'new.hire@acme.example',
    role: 'editor',
    created_at: '2026-11-28 12:00:00',
    updated_at: '2026-11-28 12:00:00',
  });
  await knex(t('roles')).insert([
    { id: SUPPORT_ROLE_ID, name: 'support', guard_name: 'web', created_at: '2026-09-01 07:00:00', updated_at: '2026-09-01 07:00:00' },
    { id: 2, name: 'billing', guard_name: 'web', created_at: '2026-09-01 07:00:00', updated_at: '2026-09-01 07:00:00' },
  ]);
  await knex(t('permissions')).insert({
    id: 1,
    name: 'view customers',
    guard_name: 'web',
    created_at: '2026-09-01 07:00:00',
    updated_at: '2026-09-01 07:00:00',
  });
  await knex(t('role_has_permissions')).insert({ permission_id: 1, role_id: SUPPORT_ROLE_ID });
  await knex(t('model_has_roles')).insert([
    { role_id: SUPPORT_ROLE_ID, model_type: USER_MODEL, model_id: idOf('support') },
    { role_id: 2, model_type: USER_MODEL, model_id: idOf('globex-owner') },
  ]);
  await knex(t('model_has_permissions')).insert({ permission_id: 1, model_type: USER_MODEL, model_id: idOf('owner') });
  await knex(t('sessions')).insert({
    id: 'Qm9vdHN0cmFwU2Vzc2lvbklkMDAwMDAwMDAwMDAw',
    user_id: idOf('owner'),
    ip_address: '203.0.113.7',
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0',
    payload: 'YToxOntzOjY6Il90b2tlbiI7czo0MDoiYWJjIjt9',
    last_activity: 1_795_000_000,
  });
  await knex(t('password_reset_tokens')).insert({
    email: 'nina@example.com',
    token: laravelBcrypt('reset-token-nina', 4),
    created_at: '2026-11-29 18:00:00',
  });
  await knex(t('personal_access_tokens')).insert({
    id: 1,
    tokenable_type: USER_MODEL,
    tokenable_id: idOf('editor'),
    name: 'ci-deploy',
    token: 'a'.repeat(64),
    abilities: '["read","create"]',
    last_used_at: '2026-11-30 06:00:00',
    expires_at: null,
    created_at: '2026-10-01 06:00:00',
    updated_at: '2026-11-30 06:00:00',
  });
  await knex(t('cache')).insert({ key: 'laravel_cache_settings', value: 's:2:"{}";', expiration: 1_896_000_000 });
  await knex(t('jobs')).insert({
    id: 1,
    queue: 'default',
    payload: '{"displayName":"App\\\\Jobs\\\\SendInvoice"}',
    attempts: 0,
    reserved_at: null,
    available_at: 1_795_000_000,
    created_at: 1_795_000_000,
  });
  await knex(t('notifications')).insert({
    id: '9d3b2a40-5f3e-4c1e-9a57-3f0e6b1c2d11',
    type: 'Laravel\\Jetstream\\Mail\\TeamInvitation',
    notifiable_type: USER_MODEL,
    notifiable_id: idOf('admin'),
    data: '{"team":"Acme Robotics"}',
    read_at: null,
    created_at: '2026-11-28 12:00:00',
    updated_at: '2026-11-28 12:00:00',
  });

  const organisations: PortalOrganisation[] = TEAMS.map((tm) => ({
    key: tm.key,
    id: String(tm.id),
    // no slug column: the CLI takes the derived `<name-slug>-<id>` (mapping.ts)
    slug: `${tm.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${tm.id}`,
    name: tm.name,
    active: true,
  }));
  const accounts: PortalAccount[] = USERS.map((u, i) => ({
    key: u.key,
    id: String(i + 1),
    email: u.email,
    name: u.name,
    password: passwordOf(u.key),
    hashFormat: 'bcrypt-2y',
    flags: [...(u.support ? (['support'] as const) : []), ...(u.email !== u.email.toLowerCase() ? (['mixed-case-email'] as const) : [])],
    active: true,
    support: u.support === true,
    memberships: TEAMS.flatMap((tm) => [
      // Jetstream keeps no joined-at for the owner (no team_user row)
      ...(tm.owner === u.key ? [{ organisation: tm.key, role: 'owner', admin: true, owner: true }] : []),
      ...tm.members
        .filter((m) => m.user === u.key)
        .map((m) => ({ organisation: tm.key, role: m.role, admin: m.role === 'admin', owner: false, joinedAt: m.at })),
    ]),
  }));

  const preset = laravelJetstreamMapping(schema);
  return describeShape({
    shape: 'laravel-jetstream',
    dialect,
    schema,
    preset,
    // Laravel has no notion of support staff: this portal names it with a spatie role
    mapping: {
      ...preset,
      preset: 'laravel-jetstream',
      users: {
        ...preset.users,
        support: { kind: 'table', table: t('model_has_roles'), userId: 'model_id', where: { column: 'role_id', in: [SUPPORT_ROLE_ID] } },
      },
    },
    tables: [...TABLES],
    accounts,
    organisations,
  });
}
