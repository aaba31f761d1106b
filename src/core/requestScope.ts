/**
 * What one use-case call reads about the people it concerns, read once per call (issue 21): the
 * user as the portal says now, their credentials, their memberships (with each organisation's
 * policy) and the portal's policy. `admit`, `authorise`, `authoriseOrganisation`, the lockout and
 * the second factor all ask here, so a `verify --code` reads the credentials once, not three times.
 *
 * A scope lives for one call of the API (src/core/api.ts makes a fresh one for each) and caches
 * only what the call reads before it writes: every decision that must see the database as it is at
 * the moment of a change — a lock, an accepted step, a used code, a removal — is taken again in the
 * database, inside the change's transaction. Outside the API (a core function called directly) the
 * scope reads every time.
 */
import { credentialsOfUser, type CredentialRow } from '../db/credentialRepository.js';
import { findUserById, membershipsOfUser } from '../db/identity/reader.js';
import type { Db } from '../db/store.js';
import type { MfaDeps } from './deps.js';
import type { MembershipRow, OrganisationRow, PortalUser, UserId } from './domain.js';
import { type PortalPolicy, readPolicy } from './rules/policy.js';

export interface Credentials {
  active?: CredentialRow;
  pending?: CredentialRow;
}

export interface RequestScope {
  /** the user as the portal says now (active, role) */
  user(id: UserId): Promise<PortalUser | undefined>;
  credentials(id: UserId): Promise<Credentials>;
  /** the user's organisations with their role and the organisation's policy, by slug (a fresh array each time) */
  memberships(id: UserId): Promise<MembershipRow[]>;
  policy(): Promise<PortalPolicy>;
}

function memo<K, V>(read: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const seen = new Map<K, Promise<V>>();
  return (key) => {
    let found = seen.get(key);
    if (!found) {
      found = read(key);
      seen.set(key, found);
      // a failed read is not remembered: the next ask reads again
      found.catch(() => seen.delete(key));
    }
    return found;
  };
}

/** A scope that remembers what it read (one API call). */
function newRequestScope(db: Db): RequestScope {
  const memberships = memo((id: UserId) => membershipsOfUser(db, id));
  const policy = memo((_: 'policy') => readPolicy(db));
  return {
    user: memo((id: UserId) => findUserById(db, id)),
    credentials: memo((id: UserId) => credentialsOfUser(db, id)),
    memberships: async (id) => [...(await memberships(id))],
    policy: () => policy('policy'),
  };
}

const uncached = (db: Db): RequestScope => ({
  user: (id) => findUserById(db, id),
  credentials: (id) => credentialsOfUser(db, id),
  memberships: (id) => membershipsOfUser(db, id),
  policy: () => readPolicy(db),
});

/** The call's scope, or one that reads every time for a core function called outside the API. */
export function scopeOf(deps: Pick<MfaDeps, 'db' | 'scope'>): RequestScope {
  return deps.scope ?? uncached(deps.db);
}

/** The same dependencies with a scope of their own: one API call. */
export function withRequestScope(deps: MfaDeps): MfaDeps {
  return { ...deps, scope: newRequestScope(deps.db) };
}

/** An organisation as one of its memberships already describes it (no second read). */
export function organisationOf(m: MembershipRow): OrganisationRow {
  return {
    id: m.organisation_id,
    slug: m.slug,
    name: m.name,
    mfa_required: m.mfa_required,
    grace_days: m.grace_days,
    mfa_required_since: m.mfa_required_since,
    device_trust_allowed: m.device_trust_allowed,
  };
}
