/**
 * /metrics in Prometheus text format (prom-client): requests by route and status, latency, the
 * refusals that matter to an operator (lockouts, rate limits), and — read from the database at each
 * scrape, so every instance reports the same — users locked now and the notification outbox backlog.
 * One registry per service instance (tests build many in one process).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/store.js';

export interface ServiceMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  latency: Histogram<'method' | 'route'>;
  refusals: Counter<'code'>;
}

/** Codes counted in portal_mfa_refusals_total: lockouts and rate limits (the rest are in the request counts). */
export const COUNTED_REFUSALS = new Set(['locked', 'hard_locked', 'rate_limited', 'password_rate_limited', 'too_many_requests']);

export function createMetrics(db: Db, now: () => number): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'portal_mfa_' });
  const requests = new Counter({
    name: 'portal_mfa_http_requests_total',
    help: 'HTTP requests answered, by route (its pattern) and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'portal_mfa_http_request_duration_seconds',
    help: 'time to answer, by route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'portal_mfa_refusals_total',
    help: 'lockouts and rate limits answered, by error code (locked, hard_locked, rate_limited, password_rate_limited, too_many_requests)',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'portal_mfa_locked_users',
    help: 'users whose second factor is locked now (hard locks included), from the database',
    registers: [registry],
    async collect() {
      const r = await db
        .knex(db.t.credentials)
        .where('status', 'active')
        .andWhere((q) => q.whereNotNull('hard_locked_at').orWhere('locked_until', '>', now()))
        .countDistinct({ n: 'user_id' })
        .first();
      this.set(Number(r?.n ?? 0));
    },
  });
  new Gauge({
    name: 'portal_mfa_outbox_pending',
    help: 'notifications waiting in the outbox (status pending), from the database',
    registers: [registry],
    async collect() {
      const r = await db.knex(db.t.notifications).where('status', 'pending').count({ n: '*' }).first();
      this.set(Number(r?.n ?? 0));
    },
  });
  return { registry, requests, latency, refusals };
}
