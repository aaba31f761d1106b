/**
 * API keys of the services that call `portal-mfa serve` (issue 24): the portal backend
 * authenticates with a key instead of a person's password, within the scopes the key was given.
 * Created, listed and revoked by support — or by the operator, who holds the database and the key
 * (an infrastructure operation like `keys rotate`: no actor, audited with the OS user and host).
 * A key is 256 random bits, shown once; only its SHA-256 is stored.
 */
import {
  findLiveServiceKey,
  findServiceKeyByName,
  insertServiceKey,
  listServiceKeyRows,
  revokeServiceKeyRow,
  touchServiceKey,
} from '../../db/serviceKeyRepository.js';
import { withWriteTransaction } from '../../db/transaction.js';
import type { MfaDeps } from '../deps.js';
import { notFound, usageError, wrongState } from '../errors.js';
import { party, recordAudit, type AuditAction } from '../primitives/audit.js';
import { hashToken, newToken } from '../primitives/tokens.js';
import { admit, type Actor } from '../rules/actor.js';
import { requireSupport } from '../rules/authorise.js';

/**
 * What a key may do. `vouch`: act for a portal user it authenticated itself on that user's own
 * second-factor steps (status, enrolment, verify, devices, recovery codes); `support`: act for a
 * support representative or organisation admin on the support and administration calls (the core
 * still authorises that person); `reports`: the organisation and portal-wide reports and the audit.
 */
export const SERVICE_SCOPES = ['vouch', 'support', 'reports'] as const;
export type ServiceScope = (typeof SERVICE_SCOPES)[number];

/** Every key starts with this: recognisable in a leak scan, told apart from a session token. */
export const SERVICE_KEY_PREFIX = 'pmfa_sk_';

export interface ServiceIdentity {
  id: number;
  name: string;
  scopes: ServiceScope[];
}

export interface ServiceKeyView {
  id: number;
  name: string;
  scopes: ServiceScope[];
  createdAt: number;
  createdBy: string;
  lastUsedAt: number | null;
  revokedAt: number | null;
  revokedBy: string | null;
}

export function validateServiceName(raw: unknown): string {
  if (typeof raw !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(raw))
    throw usageError('a service name is 1–64 lower-case letters, digits, dots, dashes or underscores', { code: 'invalid_input' });
  return raw;
}

function validateScopes(raw: unknown): ServiceScope[] {
  if (!Array.isArray(raw) || raw.length === 0) throw usageError(`name at least one scope: ${SERVICE_SCOPES.join(', ')}`, { code: 'invalid_input' });
  for (const s of raw) {
    if (!(SERVICE_SCOPES as readonly unknown[]).includes(s))
      throw usageError(`not a scope: ${JSON.stringify(String(s).slice(0, 30))} (scopes: ${SERVICE_SCOPES.join(', ')})`, { code: 'invalid_input' });
  }
  return SERVICE_SCOPES.filter((s) => raw.includes(s));
}

const parseScopes = (text: string): ServiceScope[] => SERVICE_SCOPES.filter((s) => text.split(' ').includes(s));

/** Support acting, or the operator (null): who is recorded as having made the change. */
async function whoActs(deps: MfaDeps, actor: Actor | null, action: AuditAction): Promise<string> {
  if (actor === null) return `${deps.origin.osUser}@${deps.origin.host}`;
  await admit(deps, actor, 'other');
  await requireSupport(deps, actor, { action, message: `only support manages service keys (${actor.user.email} is not support)` });
  return actor.user.email;
}

export async function createServiceKey(
  deps: MfaDeps,
  actor: Actor | null,
  req: { name: string; scopes: string[] },
): Promise<{ id: number; name: string; scopes: ServiceScope[]; key: string }> {
  const name = validateServiceName(req.name);
  const scopes = validateScopes(req.scopes);
  const by = await whoActs(deps, actor, 'service-key.create');
  const key = SERVICE_KEY_PREFIX + newToken(deps.random);
  const id = await withWriteTransaction(deps.db, async (trx) => {
    if (await findServiceKeyByName(trx, name))
      throw wrongState(`a service key named ${name} exists already`, { hint: 'revoke it first, or choose another name' });
    const id = await insertServiceKey(trx, { name, key_hash: hashToken(key), scopes: scopes.join(' '), created_at: deps.clock(), created_by: by });
    await recordAudit(trx, deps, {
      action: 'service-key.create',
      outcome: 'success',
      actor: actor ? party(actor.user) : null,
      detail: { service: name, scopes },
    });
    return id;
  });
  return { id, name, scopes, key };
}

export async function listServiceKeys(deps: MfaDeps, actor: Actor | null): Promise<ServiceKeyView[]> {
  await whoActs(deps, actor, 'service-key.list');
  return (await listServiceKeyRows(deps.db)).map((r) => ({
    id: r.id,
    name: r.name,
    scopes: parseScopes(r.scopes),
    createdAt: r.created_at,
    createdBy: r.created_by,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by,
  }));
}

export async function revokeServiceKey(deps: MfaDeps, actor: Actor | null, req: { name: string }): Promise<{ name: string }> {
  const name = validateServiceName(req.name);
  const by = await whoActs(deps, actor, 'service-key.revoke');
  return withWriteTransaction(deps.db, async (trx) => {
    const found = await findServiceKeyByName(trx, name);
    if (!found) throw notFound(`no service key named ${name}`, { hint: 'portal-mfa service-key list shows them' });
    if (!(await revokeServiceKeyRow(trx, found.id, deps.clock(), by))) throw wrongState(`the service key ${name} is already revoked`);
    await recordAudit(trx, deps, { action: 'service-key.revoke', outcome: 'success', actor: actor ? party(actor.user) : null, detail: { service: name } });
    return { name };
  });
}

/**
 * The service a key belongs to, or null (unknown, revoked, malformed): the caller refuses every
 * null the same way, audited. A recognised key's last use is recorded (at most once a minute).
 */
export async function authenticateService(deps: MfaDeps, key: string): Promise<ServiceIdentity | null> {
  if (typeof key !== 'string' || !key.startsWith(SERVICE_KEY_PREFIX) || key.length > 200) return null;
  const found = await findLiveServiceKey(deps.db, hashToken(key));
  if (!found) return null;
  await touchServiceKey(deps.db, found.id, deps.clock());
  return { id: found.id, name: found.name, scopes: parseScopes(found.scopes) };
}
