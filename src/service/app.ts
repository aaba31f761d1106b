/**
 * `portal-mfa serve` (SPEC §10, issue 24): the core's use cases as a JSON API. One more client of
 * the core — every rule (authorisation, re-authentication, lockout, audit, notices) is the core's;
 * what is here is HTTP: who is calling (a bearer session, or a service's API key), the per-address
 * budget, schemas, status codes, headers, logs and metrics.
 *
 * Stateless: everything it keeps lives in the database (sessions, budgets, keys), so any number of
 * instances can serve one database behind a load balancer.
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { createPortalMfa, type PortalMfa } from '../core/api.js';
import type { MfaDeps } from '../core/deps.js';
import { recordAudit } from '../core/primitives/audit.js';
import type { Actor } from '../core/rules/actor.js';
import type { Settings } from '../core/settings.js';
import { authenticateService, SERVICE_KEY_PREFIX, type ServiceIdentity, type ServiceScope } from '../core/usecases/serviceKeys.js';
import { membershipsOfUser } from '../db/identity/reader.js';
import { withWriteTransaction } from '../db/transaction.js';
import { type AddressLimit, addressSubject, DEFAULT_ADDRESS_LIMIT, takeAddressUnit } from './addressLimit.js';
import { errorResponse, ServiceError } from './errors.js';
import { usageError } from '../core/errors.js';
import { COUNTED_REFUSALS, createMetrics, type ServiceMetrics } from './metrics.js';
import { registerRoutes } from './routes/index.js';
import { errorSchema } from './schemas.js';

/** What the service runs the core with: everything but the settings (read per request) and the notice queue (per request). */
export interface ServiceCore {
  deps: Omit<MfaDeps, 'settings' | 'queuedNotifications'>;
  /** the portal's stored policy as it is now (cached briefly), tightened by this service's own limits */
  settings(): Promise<Settings>;
  /** deliver the notices a request queued, after its response (never changes the response) */
  deliver?(ids: number[]): Promise<void>;
}

export interface ServiceOptions {
  core: ServiceCore;
  version: string;
  /** fastify's logger (pino): false for none; a stream for tests */
  logger?: false | { level?: string; stream?: NodeJS.WritableStream };
  /** addresses or CIDR blocks of reverse proxies whose X-Forwarded-For is believed */
  trustedProxies?: string[];
  /** origins allowed to call from a browser (none by default: CORS closed) */
  corsOrigins?: string[];
  https?: { cert: string | Buffer; key: string | Buffer };
  addressLimit?: AddressLimit;
  /** largest JSON body, bytes (default 64 KiB; bulk disable takes up to 1 MiB) */
  bodyLimit?: number;
}

/** Who may call a route: anyone, or a caller (session or service key) — a service only with the scope named. */
export type Access = { public: true; signIn?: boolean } | { scope: ServiceScope };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    call: RequestCall;
  }
}

/** What one request carries through its handler: the core bound to it, who is calling. */
class RequestCall {
  /** notices this request queued (delivered after the response) */
  readonly queued: number[] = [];
  actor: Actor | null = null;
  caller: { kind: 'session'; token: string } | { kind: 'service'; service: ServiceIdentity } | null = null;
  /** the end client's address: the connection's (through trusted proxies), or the one a service passes on */
  clientIp: string;
  private mfa: PortalMfa | undefined;
  constructor(
    private readonly core: ServiceCore,
    private readonly request: FastifyRequest,
  ) {
    this.clientIp = request.ip;
  }
  /** the core for this request: its audit rows record the client's address, user agent and request id */
  async portal(): Promise<PortalMfa> {
    if (!this.mfa) {
      const base = createPortalMfa({ ...this.core.deps, settings: await this.core.settings(), queuedNotifications: this.queued });
      const agent = this.request.headers['user-agent'];
      this.mfa = base.forRequest({
        ...(isIP(this.clientIp) ? { ip: this.clientIp } : {}),
        ...(typeof agent === 'string' && agent !== '' ? { userAgent: agent.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 1024) } : {}),
        requestId: this.request.id,
      });
    }
    return this.mfa;
  }
  /**
   * The actor a service key vouches for (it authenticated the user itself). A key that may only
   * vouch never acts for a support account: with the backend's word for a fresh password that
   * would be every support power (resets of anyone's MFA, access codes) in the hands of whoever
   * holds the key. Nor does it sign in an organisation admin (`signIn`): the session it would get
   * passes every scope, so the key alone (an admin without MFA) would hold the administration and
   * report calls its scopes leave out. The operator grants both explicitly, with the support scope.
   * Refusals audited.
   */
  async vouch(service: ServiceIdentity, userId: string, passwordCheckedAt?: number, opts: { signIn?: boolean } = {}): Promise<Actor> {
    const mfa = await this.portal();
    const actor = await mfa.actorFor({ userId, vouchedBy: `service:${service.name}`, passwordCheckedAt });
    if (service.scopes.includes('support')) return actor;
    const refusal =
      actor.user.role === 'support'
        ? { reason: 'act for a support account', message: 'acting for a support account' }
        : opts.signIn && (await membershipsOfUser(this.core.deps.db, actor.user.id)).some((m) => m.role === 'admin')
          ? { reason: 'sign in an organisation admin', message: 'signing in an organisation admin' }
          : null;
    if (refusal === null) return actor;
    const who = { id: actor.user.id, email: actor.user.email };
    await withWriteTransaction(this.core.deps.db, (trx) =>
      recordAudit(trx, this.core.deps, {
        action: 'service.vouch',
        outcome: 'refused',
        actor: null,
        target: who,
        reason: `service ${service.name} may not ${refusal.reason} without the support scope`,
        detail: { service: service.name, route: this.request.routeOptions.url ?? null },
      }),
    );
    throw new ServiceError(403, 'scope_missing', `${refusal.message} needs a service key with the support scope`);
  }

  /** the acting user (routes that are not public have one) */
  get who(): Actor {
    if (!this.actor) throw new ServiceError(401, 'unauthenticated', 'sign in first');
    return this.actor;
  }
}

/** Headers a service key may send for the person it acts for (believed from a service only). */
const ACT_FOR = 'x-portal-mfa-act-for';
const PASSWORD_CHECKED_AT = 'x-portal-mfa-password-checked-at';
const CLIENT_IP = 'x-portal-mfa-client-ip';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;
const JSON_LIMIT = 64 * 1024;

export async function buildService(opts: ServiceOptions): Promise<FastifyInstance> {
  const { core } = opts;
  const db = core.deps.db;
  const limit = opts.addressLimit ?? DEFAULT_ADDRESS_LIMIT;
  const metrics = createMetrics(db, core.deps.clock);
  const logger: FastifyServerOptions['logger'] =
    opts.logger === false || opts.logger === undefined
      ? false
      : {
          level: opts.logger.level ?? 'info',
          ...(opts.logger.stream ? { stream: opts.logger.stream } : {}),
          // what a request line holds: never a header (Authorization), never a body (passwords, codes, tokens)
          serializers: {
            req: (r: FastifyRequest) => ({ method: r.method, url: r.url.split('?')[0], ip: r.ip }),
            res: (r: { statusCode: number }) => ({ statusCode: r.statusCode }),
          },
          redact: { paths: ['req.headers', 'headers', 'authorization', 'password', 'code', 'token', '*.password', '*.code', '*.token'], censor: '[redacted]' },
        };
  const app = Fastify({
    logger,
    bodyLimit: opts.bodyLimit ?? JSON_LIMIT,
    trustProxy: opts.trustedProxies && opts.trustedProxies.length > 0 ? opts.trustedProxies : false,
    ...(opts.https ? { https: { cert: opts.https.cert, key: opts.https.key } } : {}),
    // a caller's own request id is kept when it is sane (to join its logs with ours), else one is made
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }) as unknown as FastifyInstance;

  const { default: swagger } = await import('@fastify/swagger');
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'portal-mfa',
        version: opts.version,
        description:
          'TOTP multi-factor authentication for the developer portal, over HTTP: the same use cases, rules, audit and notices as the portal-mfa CLI and library. Errors are {"error":{"code","message"}} with the CLI\'s stable codes.',
      },
      components: {
        securitySchemes: {
          session: { type: 'http', scheme: 'bearer', description: 'a session token from POST /v1/sessions' },
          serviceKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'a service API key (pmfa_sk_…, from portal-mfa service-key create) with X-Portal-Mfa-Act-For: the portal user id it acts for',
          },
        },
      },
    },
  });
  if (opts.corsOrigins && opts.corsOrigins.length > 0) {
    const { default: cors } = await import('@fastify/cors');
    await app.register(cors, {
      origin: opts.corsOrigins,
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id', 'X-Device-Token'],
      maxAge: 600,
    });
  }

  // the error body, one schema referred to by every route (one component in the OpenAPI document)
  app.addSchema(errorSchema);
  app.decorateRequest('call', null as unknown as RequestCall);
  app.addHook('onRequest', async (request, reply) => {
    request.call = new RequestCall(core, request);
    reply.header('x-request-id', request.id);
  });

  // headers of a JSON API that must never be cached, framed or sniffed
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    reply.header('referrer-policy', 'no-referrer');
    if (opts.https) reply.header('strict-transport-security', 'max-age=31536000');
    return payload;
  });

  // who is calling, before the body is validated: a request without valid credentials learns nothing, and counts
  app.addHook('preValidation', async (request) => {
    const access = request.routeOptions.config.access;
    if (!access) return;
    if ('public' in access) {
      if (!access.signIn) return;
      // a portal backend signs its clients in with its key: their addresses are counted, not its own
      const service = await optionalService(request);
      // only a backend that may vouch signs its clients in: any other key would escape the per-address budget
      if (service) await requireScope(request, service, 'vouch');
      if (service) request.call.caller = { kind: 'service', service };
      if (!service || request.call.clientIp !== request.ip) await spendAddressUnit(request, 'sign-in attempt');
      return;
    }
    await authenticate(request, access.scope);
  });
  // a sensitive call may carry the re-authentication of an earlier POST /v1/reauth instead of the password
  app.addHook('preHandler', async (request) => {
    const token = (request.body as { reauthToken?: unknown } | undefined)?.reauthToken;
    if (request.call.actor && typeof token === 'string') await (await request.call.portal()).reauthenticate(request.call.who, { reauthToken: token });
  });

  /** The service of a `Bearer pmfa_sk_…` header (a wrong key is refused as any failed authentication), or null without one. */
  async function optionalService(request: FastifyRequest): Promise<ServiceIdentity | null> {
    const header = request.headers.authorization;
    if (header === undefined) return null;
    const m = /^Bearer (pmfa_sk_[\x21-\x7e]{1,300})$/.exec(header);
    const service = m ? await authenticateService({ ...core.deps, settings: await core.settings() }, m[1]!) : null;
    if (!service) return refuseAuthentication(request, 'unknown or revoked service key');
    takeClientIp(request);
    return service;
  }

  /** The end client's address a service passes on (audit origin, per-address budget). */
  function takeClientIp(request: FastifyRequest): void {
    const given = request.headers[CLIENT_IP];
    if (given === undefined) return;
    if (typeof given !== 'string' || isIP(given.trim()) === 0) throw usageError(`${CLIENT_IP} must be an IPv4 or IPv6 address`);
    request.call.clientIp = given.trim();
  }

  async function spendAddressUnit(request: FastifyRequest, what: string): Promise<void> {
    const taken = await takeAddressUnit(db, request.call.clientIp, limit, core.deps.clock());
    if (taken.ok) return;
    await auditAddressLimit(request, what);
    const seconds = Math.max(1, Math.ceil((taken.until - core.deps.clock()) / 1000));
    throw new ServiceError(429, 'too_many_requests', 'too many sign-in attempts or failed authentications from this address; try again later', {
      'retry-after': String(seconds),
    });
  }

  /** One audit row per address per window and instance: a flood of refused requests writes no flood of rows. */
  const auditedUntil = new Map<string, number>();
  async function auditAddressLimit(request: FastifyRequest, what: string): Promise<void> {
    const subject = addressSubject(request.call.clientIp);
    const now = core.deps.clock();
    if ((auditedUntil.get(subject) ?? 0) > now) return;
    auditedUntil.set(subject, now + limit.windowMs);
    if (auditedUntil.size > 10_000) for (const [k, until] of auditedUntil) if (until <= now) auditedUntil.delete(k);
    await withWriteTransaction(db, (trx) =>
      recordAudit(trx, core.deps, {
        action: 'service.rate-limit',
        outcome: 'locked',
        reason: `too many sign-in attempts or failed authentications from ${subject.slice(3)} (${what})`,
        detail: { address: subject.slice(3), limit: limit.attempts, windowSeconds: limit.windowMs / 1000 },
      }),
    );
  }

  /** A failed authentication: counted against the address, audited, and always the same 401. */
  async function refuseAuthentication(request: FastifyRequest, reason: string): Promise<never> {
    await spendAddressUnit(request, 'failed authentication');
    await withWriteTransaction(db, (trx) =>
      recordAudit(trx, core.deps, { action: 'service.authenticate', outcome: 'refused', reason, detail: { route: request.routeOptions.url ?? null } }),
    );
    throw new ServiceError(401, 'unauthenticated', 'a valid session token or service key is needed (Authorization: Bearer …)');
  }

  /** A key used beyond its scopes: refused (403), audited. */
  async function requireScope(request: FastifyRequest, service: ServiceIdentity, scope: ServiceScope): Promise<void> {
    if (service.scopes.includes(scope)) return;
    await withWriteTransaction(db, (trx) =>
      recordAudit(trx, core.deps, {
        action: 'service.authenticate',
        outcome: 'refused',
        reason: `service ${service.name} lacks the scope ${scope}`,
        detail: { service: service.name, route: request.routeOptions.url ?? null },
      }),
    );
    throw new ServiceError(403, 'scope_missing', `this service key lacks the scope ${scope}`);
  }

  async function authenticate(request: FastifyRequest, scope: ServiceScope): Promise<void> {
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(header) : null;
    if (!m) return refuseAuthentication(request, header === undefined ? 'no credentials' : 'malformed Authorization header');
    const token = m[1]!;
    if (token.startsWith(SERVICE_KEY_PREFIX)) {
      const service = await authenticateService({ ...core.deps, settings: await core.settings() }, token);
      if (!service) return refuseAuthentication(request, 'unknown or revoked service key');
      await requireScope(request, service, scope);
      request.call.caller = { kind: 'service', service };
      takeClientIp(request);
      request.call.actor = await actFor(request, service);
      return;
    }
    const actor = await (await request.call.portal()).resumeSession(token);
    if (!actor) return refuseAuthentication(request, 'unknown, ended or expired session');
    request.call.caller = { kind: 'session', token };
    request.call.actor = actor;
  }

  /** A service acts for the portal user it names (it authenticated them itself): the core records the vouch on every audit row. */
  async function actFor(request: FastifyRequest, service: ServiceIdentity): Promise<Actor> {
    const userId = request.headers[ACT_FOR];
    if (typeof userId !== 'string' || userId.trim() === '') throw usageError(`a service key acts for a portal user: send ${ACT_FOR}: USER_ID`);
    const checked = request.headers[PASSWORD_CHECKED_AT];
    let passwordCheckedAt: number | undefined;
    if (checked !== undefined) {
      passwordCheckedAt = typeof checked === 'string' ? Date.parse(checked) : Number.NaN;
      if (Number.isNaN(passwordCheckedAt)) throw usageError(`${PASSWORD_CHECKED_AT} must be an ISO-8601 time`);
    }
    return request.call.vouch(service, userId.trim(), passwordCheckedAt);
  }

  app.setErrorHandler(async (error, request, reply) => {
    const r = errorResponse(error);
    if (r.unexpected)
      request.log.error(
        { err: { type: (error as Error)?.name, message: (error as Error)?.message, code: (error as { code?: unknown })?.code } },
        'unexpected error',
      );
    if (COUNTED_REFUSALS.has(r.body.error.code)) metrics.refusals.inc({ code: r.body.error.code });
    return reply.status(r.status).headers(r.headers).send(r.body);
  });
  app.setNotFoundHandler(async (_request, reply) =>
    reply.status(404).send({ error: { code: 'route_not_found', message: 'no such endpoint (see /openapi.json)' } }),
  );

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    const ids = request.call?.queued;
    if (ids && ids.length > 0 && core.deliver) {
      const delivery = core
        .deliver([...ids])
        .catch((e: unknown) => request.log.warn({ err: { message: (e as Error)?.message } }, 'notices not delivered; kept in the outbox'))
        .finally(() => deliveries.delete(delivery));
      deliveries.add(delivery);
    }
  });
  // a shutdown waits for the notices of the last requests too
  const deliveries = new Set<Promise<unknown>>();
  app.addHook('onClose', async () => {
    await Promise.allSettled([...deliveries]);
  });

  await registerRoutes(app, { metrics, core, spendAddressUnit });
  return app;
}

export interface RouteDeps {
  metrics: ServiceMetrics;
  core: ServiceCore;
  /** take one unit of the caller's address budget (429 when spent) */
  spendAddressUnit(request: FastifyRequest, what: string): Promise<void>;
}
