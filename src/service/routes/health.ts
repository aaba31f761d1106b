import type { FastifyInstance } from 'fastify';
import { migrationState } from '../../db/schema.js';
import type { RouteDeps } from '../app.js';
import { obj, str } from '../schemas.js';

/** Liveness, readiness (the database answers and the schema is current), metrics, the OpenAPI document. */
export function registerHealth(app: FastifyInstance, { metrics, core }: RouteDeps): void {
  const tags = ['operations'];
  app.get(
    '/healthz',
    {
      config: { access: { public: true } },
      schema: { tags, summary: 'liveness: the process answers', response: { 200: obj({ status: str({ const: 'ok' }) }) } },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config: { access: { public: true } },
      schema: {
        tags,
        summary: 'readiness: the database answers and its schema is the one this version needs',
        response: { 200: obj({ status: str({ const: 'ready' }) }), 503: { description: 'not ready', $ref: 'Error#' } },
      },
    },
    async (_request, reply) => {
      let current = false;
      try {
        current = (await migrationState(core.deps.db)).current;
      } catch {
        return reply.status(503).send({ error: { code: 'database', message: 'the database does not answer' } });
      }
      if (!current) return reply.status(503).send({ error: { code: 'config', message: 'the database schema is not current: run portal-mfa db migrate' } });
      return { status: 'ready' };
    },
  );
  app.get(
    '/metrics',
    {
      config: { access: { public: true } },
      schema: { tags, summary: 'Prometheus metrics (text format): requests, latency, lockouts, outbox backlog', produces: ['text/plain'] },
    },
    async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
  app.get('/openapi.json', { config: { access: { public: true } }, schema: { hide: true } }, async () => app.swagger());
}
