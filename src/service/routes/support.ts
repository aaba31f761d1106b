/**
 * Support and organisation administration: unlock, temporary access codes, bulk disable, the
 * organisation's and the portal's policy. The core decides who may act on whom (support with a
 * ticket, an organisation admin for members who are not protected); every change takes the
 * caller's password again.
 */
import type { FastifyInstance } from 'fastify';
import type { BulkResult } from '../../core/usecases/organisations.js';
import type { RouteDeps } from '../app.js';
import {
  arr,
  body,
  bool,
  dryRun,
  email,
  errors,
  int,
  nullable,
  nullableTime,
  obj,
  password,
  reason,
  reauthToken,
  slug,
  str,
  ticket,
  time,
} from '../schemas.js';
import { callers } from '../schemas.js';
import { changeOnUser, iso, isoOf } from '../views.js';

const support = { access: { scope: 'support' as const } };
const security = callers;
type Targeted = { user: string; org?: string; ticket?: string; reason?: string; password?: string; dryRun?: boolean };
const targeted = (extra: Record<string, Record<string, unknown>> = {}) =>
  body({ user: email('the user acted on'), org: slug, ticket, reason, password, reauthToken, dryRun, ...extra }, ['user']);

export function registerSupport(app: FastifyInstance, _deps: RouteDeps): void {
  const tags = ['support'];

  app.post<{ Body: Targeted }>(
    '/v1/unlock',
    {
      config: support,
      schema: {
        tags,
        security,
        summary: 'clear a lockout (also a hard lock) and the failure count; the user is notified',
        body: targeted(),
        response: {
          200: obj({
            kind: { type: 'string', enum: ['unlocked', 'dry-run'] },
            email: str(),
            wasHardLocked: bool(),
            lockedUntil: nullableTime(),
            consecutiveFailures: int(),
            passwordLocked: bool(),
          }),
          ...errors(403, 404, 409),
        },
      },
    },
    async (request) => {
      const b = request.body;
      const mfa = await request.call.portal();
      const r = await mfa.unlock(request.call.who, {
        ...changeOnUser(b),
      });
      return { ...r, lockedUntil: iso(r.lockedUntil) };
    },
  );

  app.post<{ Body: Targeted & { minutes?: number; uses?: number } }>(
    '/v1/access-codes',
    {
      config: support,
      schema: {
        tags,
        security,
        summary: 'issue a temporary access code (shown once) that the user types at sign-in instead of a code; then they must enrol or replace',
        body: targeted({ minutes: int({ minimum: 1, maximum: 10080 }), uses: int({ minimum: 1, maximum: 10 }) }),
        response: {
          201: obj(
            {
              kind: { type: 'string', enum: ['issued', 'dry-run'] },
              email: str(),
              code: str({ description: 'shown this once' }),
              expiresAt: time(),
              uses: int(),
            },
            ['code'],
          ),
          ...errors(403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const mfa = await request.call.portal();
      const r = await mfa.issueAccessCode(request.call.who, {
        ...changeOnUser(b),
        minutes: b.minutes,
        uses: b.uses,
      });
      return reply.status(r.kind === 'issued' ? 201 : 200).send({ ...r, expiresAt: isoOf(r.expiresAt) });
    },
  );

  app.post<{ Body: Targeted }>(
    '/v1/access-codes/revoke',
    {
      config: support,
      schema: {
        tags,
        security,
        summary: "revoke a user's live temporary access code",
        body: targeted(),
        response: { 200: obj({ kind: { type: 'string', enum: ['revoked', 'dry-run'] }, email: str() }), ...errors(403, 404, 409) },
      },
    },
    async (request) => {
      const b = request.body;
      const mfa = await request.call.portal();
      return mfa.revokeAccessCode(request.call.who, {
        ...changeOnUser(b),
      });
    },
  );

  app.post<{ Params: { slug: string }; Body: { users: string[]; ticket?: string; reason?: string; password?: string; dryRun?: boolean } }>(
    '/v1/organisations/:slug/disable-mfa',
    {
      config: support,
      bodyLimit: 1024 * 1024,
      schema: {
        tags,
        security,
        summary: 'bulk: disable MFA for members of an organisation (one password re-entry, one result per user)',
        params: { type: 'object', properties: { slug }, required: ['slug'] },
        body: body({ users: arr(str({ minLength: 1, maxLength: 254 }), { minItems: 1, maxItems: 20000 }), ticket, reason, password, reauthToken, dryRun }, [
          'users',
        ]),
        response: {
          200: obj({
            organisation: str(),
            total: int(),
            results: arr(
              obj({
                email: str(),
                outcome: str(),
                error: nullable(str({ description: 'the HTTP-style error kind this user alone would have given' })),
                message: str(),
              }),
            ),
          }),
          ...errors(403, 404, 409),
        },
      },
    },
    async (request) => {
      const b = request.body;
      const mfa = await request.call.portal();
      const run = await mfa.disableMembers(request.call.who, {
        orgSlug: request.params.slug,
        emails: b.users,
        ticket: b.ticket,
        reason: b.reason,
        password: b.password,
        dryRun: b.dryRun,
      });
      if ('kind' in run) throw new Error('bulk disable cancelled without a question');
      const results: { email: string; outcome: string; error: string | null; message: string }[] = [];
      for await (const r of run.results as AsyncIterable<BulkResult>)
        results.push({ email: r.email, outcome: r.outcome, error: r.errorKind, message: r.message });
      return { organisation: run.organisation, total: run.total, results };
    },
  );

  app.post<{ Params: { slug: string }; Body: { dryRun?: boolean } }>(
    '/v1/organisations/:slug/remind',
    {
      config: support,
      schema: {
        tags,
        security,
        summary: "queue a reminder to every member of an organisation without MFA, with their enrolment deadline (the organisation's admins)",
        params: { type: 'object', properties: { slug }, required: ['slug'] },
        body: body({ dryRun }),
        response: {
          200: obj({
            kind: { type: 'string', enum: ['queued', 'dry-run'] },
            organisation: str(),
            members: arr(obj({ email: str(), deadline: nullableTime() })),
          }),
          ...errors(403, 404),
        },
      },
    },
    async (request) => {
      const mfa = await request.call.portal();
      const r = await mfa.remindMembers(request.call.who, { orgSlug: request.params.slug, dryRun: request.body?.dryRun });
      return { ...r, members: r.members.map((m) => ({ email: m.email, deadline: iso(m.deadline) })) };
    },
  );

  const policyTimes = (ms: number | null) => iso(ms);
  app.get<{ Params: { slug: string } }>(
    '/v1/organisations/:slug/policy',
    {
      config: support,
      schema: {
        tags,
        security,
        summary: "an organisation's MFA policy and who lacks MFA (its admins, support)",
        params: { type: 'object', properties: { slug }, required: ['slug'] },
        response: {
          200: obj({
            organisation: str(),
            portalRequiresMfa: bool(),
            mfaRequired: bool(),
            graceDays: nullable(int()),
            deviceTrust: bool(),
            requiredSince: nullableTime(),
            membersWithoutMfa: obj({ total: int(), admins: int() }),
            lacking: arr(obj({ email: str(), deadline: nullableTime() })),
          }),
          ...errors(403, 404),
        },
      },
    },
    async (request) => {
      const mfa = await request.call.portal();
      const p = await mfa.showPolicy(request.call.who, { orgSlug: request.params.slug });
      return { ...p, requiredSince: policyTimes(p.requiredSince), lacking: p.lacking.map((l) => ({ email: l.email, deadline: policyTimes(l.deadline) })) };
    },
  );

  const settings = obj({ mfaRequired: bool(), graceDays: nullable(int()), deviceTrust: bool() });
  app.put<{
    Params: { slug: string };
    Body: { require?: boolean; graceDays?: number | null; deviceTrust?: boolean; password?: string; dryRun?: boolean };
  }>(
    '/v1/organisations/:slug/policy',
    {
      config: support,
      schema: {
        tags,
        security,
        summary:
          "change an organisation's MFA policy (its admins): require MFA (with a grace period in days, null for none) or not, allow or forbid trusted devices (forbidding revokes the members' devices)",
        params: { type: 'object', properties: { slug }, required: ['slug'] },
        body: body({
          require: bool(),
          graceDays: nullable(int({ minimum: 1, maximum: 3650 })),
          deviceTrust: bool(),
          password,
          reauthToken,
          dryRun,
        }),
        response: {
          200: obj({
            kind: { type: 'string', enum: ['changed', 'dry-run'] },
            organisation: str(),
            before: settings,
            after: settings,
            membersWithoutMfa: obj({ total: int(), admins: int() }),
            noticesQueued: int(),
            devicesRevoked: int(),
          }),
          ...errors(403, 404),
        },
      },
    },
    async (request) => {
      const b = request.body;
      const mfa = await request.call.portal();
      const r = await mfa.setPolicy(request.call.who, {
        orgSlug: request.params.slug,
        change: { require: b.require, graceDays: b.graceDays, deviceTrust: b.deviceTrust },
        password: b.password,
        dryRun: b.dryRun,
      });
      if (r.kind === 'cancelled') throw new Error('policy change cancelled without a question');
      return r;
    },
  );

  app.get(
    '/v1/policy',
    {
      config: support,
      schema: {
        tags,
        security,
        summary: 'the portal-wide policy: MFA required or recommended, the security limits, notice delivery (support)',
        response: {
          200: obj({
            mfaRequired: bool(),
            graceDays: nullable(int()),
            requiredSince: nullableTime(),
            limits: { type: 'object', additionalProperties: { type: 'integer' } },
            delivery: nullable(obj({ relay: str(), from: str() })),
          }),
          ...errors(403),
        },
      },
    },
    async (request) => {
      const mfa = await request.call.portal();
      const p = await mfa.showPortalPolicy(request.call.who);
      return { ...p, requiredSince: iso(p.requiredSince) };
    },
  );
}
