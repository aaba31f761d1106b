/**
 * What a portal shape builder made: the accounts a scenario drives (with the expectations the
 * mapping implies for each), the organisations, the mapping, and every table created.
 */
import type { IdentityMapping } from '../../../src/db/identity/mapping.js';
import type { HashFormat } from './hashes.js';
import type { Dialect } from './sql.js';

export type ShapeName = 'laravel-jetstream' | 'django-organizations' | 'custom';

/**
 * The special cases an account stands for:
 * - `inactive`: the portal has deactivated it (Django `is_active = 0`, custom `disabled_at` set);
 * - `support`: a support representative under the fixture's mapping;
 * - `duplicate-email`: another account's email differs from this one only in case;
 * - `mixed-case-email`: stored with upper-case letters, to be found by its lower-case form;
 * - `unknown-hash`: a hash format portal-mfa does not verify (Django's legacy `sha1$`);
 * - `unusable-password`: Django's `!…` marker (the account cannot sign in with any password).
 */
export type AccountFlag = 'inactive' | 'support' | 'duplicate-email' | 'mixed-case-email' | 'unknown-hash' | 'unusable-password';

export interface PortalMembership {
  /** the organisation's `key` in `PortalShape.organisations` */
  organisation: string;
  /** the role as the portal stores it (Jetstream `team_user.role`, or `owner` / `admin` / `member`) */
  role: string;
  /** an organisation admin under the fixture's mapping (the owner included) */
  admin: boolean;
  /** the organisation's owner (Jetstream `teams.user_id`, django-organizations' owner row) */
  owner: boolean;
  /** the mapped joined-at column's value (UTC `YYYY-MM-DD HH:MM:SS`); absent where there is none */
  joinedAt?: string;
}

export interface PortalAccount {
  /** a stable handle for scenarios ('owner', 'editor', 'inactive', …) */
  key: string;
  /** the portal's id as text (integer ids and UUIDs alike) — what portal-mfa keys its rows by */
  id: string;
  /** exactly as the portal stores it */
  email: string;
  /** the display name the mapping reads */
  name: string;
  /** what the person types; the stored hash verifies it unless the format is unknown/unusable */
  password: string;
  hashFormat: HashFormat;
  flags: AccountFlag[];
  /** may sign in at all under the mapping's active condition */
  active: boolean;
  support: boolean;
  /** memberships of organisations the mapping counts (Jetstream personal teams left out) */
  memberships: PortalMembership[];
}

export interface PortalOrganisation {
  key: string;
  id: string;
  /** what the CLI takes: the slug column, or the derived `<name-slug>-<id>` where there is none */
  slug: string;
  name: string;
  /** counted by the mapping (Jetstream personal teams and inactive Django organisations are not) */
  active: boolean;
}

export interface PortalShape {
  shape: ShapeName;
  dialect: Dialect;
  /** the database/schema the portal's tables live in; undefined: the connection's own */
  schema?: string;
  /** the mapping an operator stores for this portal (support named where the framework has none) */
  mapping: IdentityMapping;
  /** the preset `db init --detect` should propose, where the shape is a recognised one */
  preset?: IdentityMapping;
  /** every table the builder created, unqualified (pass with `{ schema }` to portalChecksum) */
  tables: string[];
  accounts: PortalAccount[];
  organisations: PortalOrganisation[];
  /** the account with that key (throws for an unknown key) */
  account(key: string): PortalAccount;
  /** the organisation with that key (throws for an unknown key) */
  organisation(key: string): PortalOrganisation;
}

export interface ShapeOptions {
  /** build in this database (MariaDB, created if missing) or attached schema (SQLite) */
  schema?: string;
}

/** Attach the lookup helpers to a builder's result. */
export function describeShape(s: Omit<PortalShape, 'account' | 'organisation'>): PortalShape {
  const find = <T extends { key: string }>(list: T[], key: string, what: string): T => {
    const found = list.find((x) => x.key === key);
    if (!found) throw new Error(`${s.shape}: no ${what} "${key}" (have ${list.map((x) => x.key).join(', ')})`);
    return found;
  };
  return { ...s, account: (key) => find(s.accounts, key, 'account'), organisation: (key) => find(s.organisations, key, 'organisation') };
}
