/**
 * The identity mapping (SPEC §5): where the portal keeps its users, organisations and memberships,
 * named by the operator (or proposed by `db init --detect`) and stored in portal-mfa's own settings
 * table, so every client reads the same one. portal-mfa only ever SELECTs through it.
 *
 * Nothing here assumes a table or column name: the demo portal, Laravel + Jetstream and Django +
 * django-organizations are three presets of the same shape (presets.ts).
 */
import { configError } from '../../core/errors.js';

/**
 * A condition on one column of a mapped row:
 * - `true` / `false`: a boolean flag (stored as 1/0 by both drivers);
 * - `null` / `not-null`: e.g. a soft-delete column (`deleted_at` NULL means active);
 * - `in`: the column holds one of the values (e.g. a role column).
 */
export type Condition = { column: string; is: 'true' | 'false' | 'null' | 'not-null' } | { column: string; in: (string | number)[] };

/** How a time column is stored: epoch milliseconds or seconds, or a SQL date/time (read as UTC). */
export type TimeColumn = { column: string; type: 'epoch-ms' | 'epoch-s' | 'datetime' };

export interface UserMapping {
  /** table or view, optionally schema-qualified (`portal.users`) */
  table: string;
  id: string;
  email: string;
  /** one column, or several joined with a space (Django's first_name + last_name); omitted: no name */
  name?: string[];
  passwordHash: string;
  /** which users may sign in at all; omitted: every row is active */
  active?: Condition;
  /**
   * who is a support representative: a condition on the user row, a row in another table, or
   * nobody (`none`: support acts through another portal-mfa deployment or not at all)
   */
  support: { kind: 'none' } | { kind: 'column'; condition: Condition } | { kind: 'table'; table: string; userId: string; where?: Condition };
}

export interface OrganisationMapping {
  table: string;
  id: string;
  /** the slug column typed on the command line; omitted: derived from the name as `<name-slug>-<id>` */
  slug?: string;
  name: string;
  /** organisations that count (e.g. Jetstream's personal teams excluded); omitted: all */
  active?: Condition;
  /** a column naming the organisation's owner, who counts as an admin member (Jetstream `teams.user_id`) */
  owner?: string;
}

export interface MembershipMapping {
  table: string;
  organisationId: string;
  userId: string;
  /** who is an admin of the organisation; omitted: nobody (only the owner, if mapped) */
  admin?: Condition;
  /** when the member joined (per-member grace, SPEC §1 rule 4) */
  joinedAt?: TimeColumn;
}

export interface IdentityMapping {
  version: 1;
  /** the shape it was made from ('demo', 'laravel-jetstream', 'django-organizations', 'custom') */
  preset: string;
  users: UserMapping;
  /** omitted for a portal without organisations: nobody is an organisation admin */
  organisations?: OrganisationMapping;
  memberships?: MembershipMapping;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/;

/** A table name: an identifier, optionally qualified by a database/schema (`portal.users`). */
function checkTable(where: string, v: unknown): string {
  if (typeof v !== 'string' || !v.split('.').every((p) => IDENTIFIER.test(p)) || v.split('.').length > 2) {
    throw mappingError(`${where} must be a table name (optionally schema.table), got ${JSON.stringify(v)}`);
  }
  return v;
}

function checkColumn(where: string, v: unknown): string {
  if (typeof v !== 'string' || !IDENTIFIER.test(v)) throw mappingError(`${where} must be a column name, got ${JSON.stringify(v)}`);
  return v;
}

function checkCondition(where: string, v: unknown): Condition {
  if (typeof v !== 'object' || v === null) throw mappingError(`${where} must be a condition`);
  const c = v as Record<string, unknown>;
  const column = checkColumn(`${where}.column`, c.column);
  if ('is' in c) {
    if (!['true', 'false', 'null', 'not-null'].includes(c.is as string)) throw mappingError(`${where}.is must be true, false, null or not-null`);
    return { column, is: c.is as 'true' };
  }
  if (!Array.isArray(c.in) || c.in.length === 0 || !c.in.every((x) => typeof x === 'string' || typeof x === 'number')) {
    throw mappingError(`${where}.in must be a non-empty list of values`);
  }
  return { column, in: c.in as (string | number)[] };
}

function mappingError(message: string) {
  return configError(`identity mapping: ${message}`, { code: 'mapping_invalid', hint: 'fix it with: portal-mfa db init' });
}

/** Parse a stored or hand-written mapping, refusing anything that is not exactly the shape above. */
export function parseMapping(raw: unknown): IdentityMapping {
  if (typeof raw !== 'object' || raw === null) throw mappingError('not an object');
  const m = raw as Record<string, unknown>;
  if (m.version !== 1) throw mappingError(`unsupported version ${JSON.stringify(m.version)}`);
  const u = (m.users ?? {}) as Record<string, unknown>;
  const support = (u.support ?? { kind: 'none' }) as Record<string, unknown>;
  const users: UserMapping = {
    table: checkTable('users.table', u.table),
    id: checkColumn('users.id', u.id),
    email: checkColumn('users.email', u.email),
    passwordHash: checkColumn('users.passwordHash', u.passwordHash),
    support:
      support.kind === 'none'
        ? { kind: 'none' }
        : support.kind === 'column'
          ? { kind: 'column', condition: checkCondition('users.support.condition', support.condition) }
          : support.kind === 'table'
            ? {
                kind: 'table',
                table: checkTable('users.support.table', support.table),
                userId: checkColumn('users.support.userId', support.userId),
                ...(support.where !== undefined ? { where: checkCondition('users.support.where', support.where) } : {}),
              }
            : (() => {
                throw mappingError('users.support.kind must be none, column or table');
              })(),
  };
  if (u.name !== undefined) {
    const names = Array.isArray(u.name) ? u.name : [u.name];
    users.name = names.map((n, i) => checkColumn(`users.name[${i}]`, n));
  }
  if (u.active !== undefined) users.active = checkCondition('users.active', u.active);
  const mapping: IdentityMapping = { version: 1, preset: typeof m.preset === 'string' ? m.preset.slice(0, 40) : 'custom', users };
  if ((m.organisations === undefined) !== (m.memberships === undefined)) throw mappingError('organisations and memberships are mapped together or not at all');
  if (m.organisations !== undefined) {
    const o = m.organisations as Record<string, unknown>;
    mapping.organisations = {
      table: checkTable('organisations.table', o.table),
      id: checkColumn('organisations.id', o.id),
      name: checkColumn('organisations.name', o.name),
      ...(o.slug !== undefined ? { slug: checkColumn('organisations.slug', o.slug) } : {}),
      ...(o.active !== undefined ? { active: checkCondition('organisations.active', o.active) } : {}),
      ...(o.owner !== undefined ? { owner: checkColumn('organisations.owner', o.owner) } : {}),
    };
    const ms = m.memberships as Record<string, unknown>;
    mapping.memberships = {
      table: checkTable('memberships.table', ms.table),
      organisationId: checkColumn('memberships.organisationId', ms.organisationId),
      userId: checkColumn('memberships.userId', ms.userId),
      ...(ms.admin !== undefined ? { admin: checkCondition('memberships.admin', ms.admin) } : {}),
    };
    if (ms.joinedAt !== undefined) {
      const j = ms.joinedAt as Record<string, unknown>;
      if (!['epoch-ms', 'epoch-s', 'datetime'].includes(j.type as string))
        throw mappingError('memberships.joinedAt.type must be epoch-ms, epoch-s or datetime');
      mapping.memberships.joinedAt = { column: checkColumn('memberships.joinedAt.column', j.column), type: j.type as 'datetime' };
    }
  }
  return mapping;
}

/** Every portal table the mapping reads (for `db check`'s privilege and checksum views). */
export function mappedTables(m: IdentityMapping): string[] {
  const tables = [m.users.table];
  if (m.users.support.kind === 'table') tables.push(m.users.support.table);
  if (m.organisations) tables.push(m.organisations.table);
  if (m.memberships) tables.push(m.memberships.table);
  return [...new Set(tables)];
}
