/**
 * The per-client-address budget (issue 24): sign-in attempts and failed authentications from one
 * address, counted in the database's rate_limits table (so every instance behind a load balancer
 * shares it), in fixed windows. The per-user budgets (wrong passwords, codes, diagnoses) are the
 * core's and apply as well. An IPv6 client is counted by its /64, the block one subscriber holds.
 */
import ipaddr from 'ipaddr.js';
import { budgetSpentUntil, ensureBudget, takeFromBudget } from '../db/rateLimitRepository.js';
import type { Db } from '../db/store.js';
import { withWriteTransaction } from '../db/transaction.js';

export interface AddressLimit {
  /** attempts per address per window */
  attempts: number;
  windowMs: number;
}

export const DEFAULT_ADDRESS_LIMIT: AddressLimit = { attempts: 60, windowMs: 60_000 };

const BUCKET = 'http.address';

/** The subject an address is counted under: an IPv4 address, or an IPv6 /64. */
export function addressSubject(ip: string): string {
  if (!ipaddr.isValid(ip)) return `ip:${ip.slice(0, 64)}`;
  let addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (addr.kind() === 'ipv4') return `ip:${addr.toString()}`;
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `ip:${parts.join(':')}::/64`;
}

/** Take one unit; when none is left, the time the window ends (for Retry-After). */
export async function takeAddressUnit(db: Db, ip: string, limit: AddressLimit, now: number): Promise<{ ok: true } | { ok: false; until: number }> {
  const budget = { subject: addressSubject(ip), bucket: BUCKET, limit: limit.attempts, windowMs: limit.windowMs, now };
  await ensureBudget(db, budget);
  if (await withWriteTransaction(db, (trx) => takeFromBudget(trx, budget))) return { ok: true };
  return { ok: false, until: (await budgetSpentUntil(db, budget)) ?? now + limit.windowMs };
}
