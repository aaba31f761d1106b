/**
 * Existing portals for the identity-mapping tests (issue 19): each builder creates, on a knex
 * (SQLite or MariaDB, optionally in a database/schema of its own), the tables a framework creates
 * and a small set of rows covering the special cases, and describes what it made. See
 * test/support/README.md; checksums in portalChecksum.ts, the least-privilege account in
 * leastPrivilegeUser.ts.
 */
export { customShape } from './shapes/customShape.js';
export { djangoOrganizations } from './shapes/djangoOrganizations.js';
export { laravelJetstream } from './shapes/laravelJetstream.js';
export { dropPortalSchema } from './shapes/sql.js';
// more types (AccountFlag, PortalMembership, PortalOrganisation, ShapeOptions) are in ./shapes/types.ts
export type { PortalAccount, PortalShape } from './shapes/types.js';
