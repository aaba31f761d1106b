/**
 * `db init --detect`: recognise the portal's shape from its tables and propose a mapping for the
 * operator to review. Only shapes it knows are proposed, and only when every table and column the
 * preset names is there; what a schema cannot tell (who is support in a Laravel portal) is left
 * open for the operator to decide — never guessed.
 */
import type { Knex } from 'knex';
import type { IdentityMapping } from './mapping.js';
import { hasColumn, inspectTable, type TableInfo } from './inspect.js';
import { DEMO_MAPPING, djangoOrganizationsMapping, laravelJetstreamMapping } from './presets.js';

export interface Detection {
  /** the recognised shape, or null */
  preset: string | null;
  mapping: IdentityMapping | null;
  /** what the operator must still decide before the mapping can be stored */
  undecided: 'support'[];
  /** what was looked for and found or not, in words */
  notes: string[];
}

/** The columns a mapping names in each of its tables. */
export function mappedColumns(m: IdentityMapping): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (table: string, ...cols: (string | undefined)[]) =>
    out.set(table, [...(out.get(table) ?? []), ...cols.filter((c): c is string => c !== undefined)]);
  const u = m.users;
  add(u.table, u.id, u.email, u.passwordHash, ...(u.name ?? []), u.active?.column);
  if (u.support.kind === 'column') add(u.table, u.support.condition.column);
  if (u.support.kind === 'table') add(u.support.table, u.support.userId, u.support.where?.column);
  if (m.organisations) {
    const o = m.organisations;
    add(o.table, o.id, o.name, o.slug, o.active?.column, o.owner);
  }
  if (m.memberships) {
    const ms = m.memberships;
    add(ms.table, ms.organisationId, ms.userId, ms.admin?.column, ms.joinedAt?.column);
  }
  return out;
}

/** Which of the mapping's tables and columns are missing, in words (empty: all there). */
export async function missingParts(knex: Knex, m: IdentityMapping, cache = new Map<string, TableInfo>()): Promise<string[]> {
  const problems: string[] = [];
  for (const [table, cols] of mappedColumns(m)) {
    const info = cache.get(table) ?? (await inspectTable(knex, table));
    cache.set(table, info);
    if (!info.exists) {
      problems.push(`table ${table} does not exist (or cannot be seen by this database user)`);
      continue;
    }
    for (const c of new Set(cols)) if (!hasColumn(info, c)) problems.push(`table ${table} has no column ${c}`);
  }
  return problems;
}

export async function detectShape(knex: Knex, schema?: string): Promise<Detection> {
  const candidates: { preset: string; mapping: IdentityMapping; undecided: Detection['undecided'] }[] = [
    { preset: 'django-organizations', mapping: djangoOrganizationsMapping(schema), undecided: [] },
    { preset: 'laravel-jetstream', mapping: laravelJetstreamMapping(schema), undecided: ['support'] },
    // the demo portal lives beside portal-mfa's tables, never in another schema
    { preset: 'demo', mapping: DEMO_MAPPING, undecided: [] },
  ];
  const notes: string[] = [];
  const cache = new Map<string, TableInfo>();
  for (const c of candidates) {
    if (schema && c.preset === 'demo') continue;
    const missing = await missingParts(knex, c.mapping, cache);
    if (missing.length === 0) {
      notes.push(`recognised ${c.preset}: every table and column of its mapping is there`);
      return { preset: c.preset, mapping: c.mapping, undecided: c.undecided, notes };
    }
    notes.push(`not ${c.preset}: ${missing.slice(0, 3).join('; ')}${missing.length > 3 ? '; …' : ''}`);
  }
  return { preset: null, mapping: null, undecided: [], notes };
}
