/**
 * Reports: organisations, an organisation's members and the portal-wide user list — streamed as
 * NDJSON (one record a line) or RFC 4180 CSV (formulas neutralised, as the CLI writes it), a page of
 * the core's report per write, never the whole report in memory — and the audit trail.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { csvRow } from '../../cli/csv.js';
import type { RowStream } from '../../core/usecases/organisations.js';
import type { RouteDeps } from '../app.js';
import { arr, bool, email, errors, int, nullable, obj, slug, str } from '../schemas.js';
import { callers } from '../schemas.js';
import { iso } from '../views.js';
import { usageError } from '../../core/errors.js';

const reports = { access: { scope: 'reports' as const } };
const security = callers;
const format = { type: 'string', enum: ['ndjson', 'csv'], default: 'ndjson', description: 'ndjson (one JSON record a line) or csv (RFC 4180, header row)' };
const mfaFilter = { type: 'string', enum: ['on', 'off', 'pending'] };

const MEMBER_COLUMNS = ['email', 'name', 'role', 'mfa', 'enrolledAt', 'lastUsedAt', 'trustedDevices', 'deadline', 'active'] as const;
const USER_COLUMNS = ['email', 'name', 'role', 'mfa', 'enrolledAt', 'lastUsedAt', 'locked', 'organisations', 'active'] as const;
const AUDIT_COLUMNS = ['id', 'time', 'actor', 'target', 'organisation', 'action', 'outcome', 'ticket', 'reason', 'host', 'osUser', 'detail'] as const;

const memberRecord = obj({
  email: str(),
  name: str(),
  role: str(),
  mfa: str(),
  enrolledAt: nullable(str()),
  lastUsedAt: nullable(str()),
  trustedDevices: int(),
  deadline: nullable(str()),
  active: bool(),
});
const userRecord = obj({
  email: str(),
  name: str(),
  role: str(),
  mfa: str(),
  enrolledAt: nullable(str()),
  lastUsedAt: nullable(str()),
  locked: nullable(str({ description: "'hard', or the time the lock ends" })),
  organisations: str(),
  active: bool(),
});

/** Send a report: its pages as NDJSON or CSV lines, through a stream that respects back-pressure. */
function streamReport<R>(
  reply: FastifyReply,
  rows: RowStream<R>,
  fmt: 'ndjson' | 'csv',
  columns: readonly string[],
  record: (r: R) => Record<string, unknown>,
) {
  async function* lines() {
    if (fmt === 'csv') yield csvRow([...columns]);
    for await (const page of rows.pages()) {
      let chunk = '';
      for (const r of page) {
        const rec = record(r);
        chunk += fmt === 'csv' ? csvRow(columns.map((c) => rec[c])) : JSON.stringify(rec) + '\n';
      }
      if (chunk) yield chunk;
    }
  }
  reply.type(fmt === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
  return reply.send(Readable.from(lines()));
}

const streamed = (record: Record<string, unknown>) => ({
  description: 'the report, streamed',
  content: { 'application/x-ndjson': { schema: record }, 'text/csv': { schema: { type: 'string' } } },
});

export function registerReports(app: FastifyInstance, deps: RouteDeps): void {
  const tags = ['reports'];
  const now = () => deps.core.deps.clock();

  app.get(
    '/v1/organisations',
    {
      config: reports,
      schema: {
        tags,
        security,
        summary: "organisations the caller belongs to (support: all), with the caller's role, policy and MFA counts",
        response: {
          200: obj({
            organisations: arr(
              obj({
                slug: str(),
                name: str(),
                role: str(),
                mfaRequired: bool(),
                graceDays: nullable(int()),
                deviceTrust: bool(),
                members: int(),
                mfaActive: int(),
              }),
            ),
          }),
          ...errors(403),
        },
      },
    },
    async (request) => {
      const mfa = await request.call.portal();
      return { organisations: await mfa.listOrganisations(request.call.who) };
    },
  );

  app.get<{ Params: { slug: string }; Querystring: { mfa?: 'on' | 'off' | 'pending'; role?: 'admin' | 'member'; format: 'ndjson' | 'csv' } }>(
    '/v1/organisations/:slug/users',
    {
      config: reports,
      schema: {
        tags,
        security,
        summary: 'every member of an organisation with MFA state, enrolled / last-used times, trusted devices and enrolment deadline (streamed)',
        params: { type: 'object', properties: { slug }, required: ['slug'] },
        querystring: {
          type: 'object',
          properties: { mfa: mfaFilter, role: { type: 'string', enum: ['admin', 'member'] }, format },
          additionalProperties: false,
        },
        response: { 200: streamed(memberRecord), ...errors(403, 404) },
      },
    },
    async (request, reply) => {
      const mfa = await request.call.portal();
      const { members } = await mfa.listMembers(request.call.who, {
        orgSlug: request.params.slug,
        filter: { mfa: request.query.mfa, role: request.query.role },
      });
      return streamReport(reply, members, request.query.format, MEMBER_COLUMNS, (r) => ({
        email: r.email,
        name: r.name,
        role: r.role,
        mfa: r.mfa,
        enrolledAt: iso(r.enrolledAt),
        lastUsedAt: iso(r.lastUsedAt),
        trustedDevices: r.trustedDevices,
        deadline: iso(r.deadline),
        active: r.active,
      }));
    },
  );

  app.get<{ Querystring: { mfa?: 'on' | 'off' | 'pending'; org?: string; role?: 'developer' | 'support'; locked?: boolean; format: 'ndjson' | 'csv' } }>(
    '/v1/users',
    {
      config: reports,
      schema: {
        tags,
        security,
        summary: 'support: every portal user with MFA state, users in no organisation included (streamed)',
        querystring: {
          type: 'object',
          properties: { mfa: mfaFilter, org: slug, role: { type: 'string', enum: ['developer', 'support'] }, locked: bool(), format },
          additionalProperties: false,
        },
        response: { 200: streamed(userRecord), ...errors(403, 404) },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const mfa = await request.call.portal();
      const rows = await mfa.listUsers(request.call.who, { mfa: q.mfa, orgSlug: q.org, role: q.role, locked: q.locked });
      return streamReport(reply, rows, q.format, USER_COLUMNS, (u) => ({
        email: u.email,
        name: u.name,
        role: u.role,
        mfa: u.mfa,
        enrolledAt: iso(u.enrolledAt),
        lastUsedAt: iso(u.lastUsedAt),
        locked: u.hardLocked ? 'hard' : u.lockedUntil !== null && u.lockedUntil > now() ? iso(u.lockedUntil) : null,
        organisations: u.organisations,
        active: u.active,
      }));
    },
  );

  app.get<{ Querystring: { user?: string; org?: string; action?: string; since?: string; limit: number; afterId?: number; format?: 'json' | 'csv' } }>(
    '/v1/audit',
    {
      config: reports,
      schema: {
        tags,
        security,
        summary: 'the audit trail as the caller may see it, newest first (support: all; an admin: their organisations; anyone: about themself)',
        querystring: {
          type: 'object',
          properties: {
            user: email('events about this user'),
            org: slug,
            action: str({ maxLength: 65, description: 'an action (mfa.verify) or a prefix with * (mfa.*)' }),
            since: str({ format: 'date-time', description: 'ISO-8601' }),
            limit: int({ minimum: 1, maximum: 10000, default: 100 }),
            afterId: int({ minimum: 0, description: 'only events after this id (to follow the trail)' }),
            format: { type: 'string', enum: ['json', 'csv'], default: 'json' },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            description: 'the events (JSON), or CSV with format=csv',
            content: {
              'application/json': {
                schema: obj({
                  events: arr(
                    obj({
                      id: int(),
                      time: str({ format: 'date-time' }),
                      actor: nullable(str()),
                      target: nullable(str()),
                      organisation: nullable(str()),
                      action: str(),
                      outcome: str(),
                      ticket: nullable(str()),
                      reason: nullable(str()),
                      host: str(),
                      osUser: str(),
                      detail: { type: ['object', 'null'], additionalProperties: true },
                      request: {
                        type: ['object', 'null'],
                        additionalProperties: true,
                        description: 'the web request (ip, userAgent, requestId) and who vouched',
                      },
                    }),
                  ),
                }),
              },
              'text/csv': { schema: { type: 'string' } },
            },
          },
          ...errors(403, 404),
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const since = q.since === undefined ? undefined : Date.parse(q.since);
      if (since !== undefined && Number.isNaN(since)) throw usageError('since must be an ISO-8601 time');
      const { validateAction } = await import('../../core/usecases/auditTrail.js');
      const mfa = await request.call.portal();
      const rows = await mfa.readAuditTrail(request.call.who, {
        userEmail: q.user,
        orgSlug: q.org,
        action: q.action === undefined ? undefined : validateAction(q.action),
        since,
        limit: q.limit,
        afterId: q.afterId,
      });
      const events = rows.map((r) => ({ ...r, time: iso(r.time)! }));
      if (q.format === 'csv') {
        let text = csvRow([...AUDIT_COLUMNS]);
        for (const e of events) text += csvRow(AUDIT_COLUMNS.map((c) => (c === 'detail' ? (e.detail ? JSON.stringify(e.detail) : '') : e[c])));
        return reply.type('text/csv; charset=utf-8').send(text);
      }
      return reply.type('application/json').send(JSON.stringify({ events }));
    },
  );
}
