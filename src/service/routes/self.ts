/**
 * A user's own MFA (and, for support and organisation admins, the same views of another user):
 * status, enrolment, replacement, verify, diagnose, trusted devices, disable, recovery codes.
 * Sensitive actions take the password again in the body (SPEC §2), session or not.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteDeps } from '../app.js';
import { qrSvg } from '../qrSvg.js';
import {
  arr,
  body,
  bool,
  code,
  deviceIssuedSchema,
  deviceViewSchema,
  dryRun,
  email,
  errors,
  int,
  label,
  nullable,
  obj,
  password,
  pendingEnrolmentSchema,
  reason,
  reauthToken,
  slug,
  statusSchema,
  str,
  ticket,
} from '../schemas.js';
import { callers } from '../schemas.js';
import { changeOnUser, deviceView, issuedDeviceView, statusView } from '../views.js';
import type { PendingEnrolment } from '../../core/usecases/enrolment.js';
import { usageError } from '../../core/errors.js';

const self = { access: { scope: 'vouch' as const } };
const security = callers;
const targetQuery = {
  type: 'object',
  properties: { user: email('whose (default: the caller); support or an organisation admin'), org: slug },
  additionalProperties: false,
};
const removedSchema = obj({ credentials: int(), recoveryCodes: int(), trustedDevices: int(), sessions: int() });

async function enrolmentView(p: PendingEnrolment) {
  return { email: p.email, secret: p.secret, otpauthUri: p.otpauthUri, qrSvg: await qrSvg(p.otpauthUri), replacing: p.replacing };
}

export function registerSelf(app: FastifyInstance, _deps: RouteDeps): void {
  const tags = ['mfa'];

  app.get<{ Querystring: { user?: string; org?: string } }>(
    '/v1/status',
    {
      config: self,
      schema: {
        tags,
        security,
        summary: 'MFA state (none / pending / active), times, failures, lock, devices, recovery codes left',
        querystring: targetQuery,
        response: { 200: statusSchema, ...errors(403, 404, 409) },
      },
    },
    async (request) => {
      const mfa = await request.call.portal();
      return statusView(await mfa.status(request.call.who, { targetEmail: request.query.user, orgSlug: request.query.org }));
    },
  );

  app.post<{ Body: { password?: string } }>(
    '/v1/enrolment',
    {
      config: self,
      schema: {
        tags,
        security,
        summary: 'start enrolling: a new pending secret (otpauth URI and QR as SVG); the old state governs login until confirmed',
        body: body({ password, reauthToken }),
        response: { 201: pendingEnrolmentSchema, ...errors(403, 409) },
      },
    },
    async (request, reply) => {
      const mfa = await request.call.portal();
      const pending = await mfa.startEnrolment(request.call.who, { password: request.body.password });
      return reply.status(201).send(await enrolmentView(pending));
    },
  );

  app.post<{ Body: { password?: string; oldDeviceCode?: string } }>(
    '/v1/replacement',
    {
      config: self,
      schema: {
        tags,
        security,
        summary: 'replace a device: prove the old one with a code, then a pending new secret (the old one works until confirmed)',
        body: body({ password, reauthToken, oldDeviceCode: code }),
        response: { 201: pendingEnrolmentSchema, ...errors(403, 409) },
      },
    },
    async (request, reply) => {
      const mfa = await request.call.portal();
      const pending = await mfa.startReplacement(request.call.who, { password: request.body.password, oldDeviceCode: request.body.oldDeviceCode });
      return reply.status(201).send(await enrolmentView(pending));
    },
  );

  app.post<{ Body: { code: string; password?: string } }>(
    '/v1/enrolment/confirm',
    {
      config: self,
      schema: {
        tags,
        security,
        summary: 'confirm the pending enrolment or replacement with a code from the new device; only then is it active',
        body: body({ code, password, reauthToken }, ['code']),
        response: {
          200: obj({ email: str(), driftSteps: int(), replaced: bool(), trustedDevicesRevoked: int(), sessionsEnded: int(), recoveryCodes: arr(str()) }),
          ...errors(403, 409),
        },
      },
    },
    async (request) => {
      const mfa = await request.call.portal();
      return mfa.confirmEnrolment(request.call.who, { code: request.body.code, password: request.body.password });
    },
  );

  const verifyBody = body(
    {
      user: email('whose code (default: the caller)'),
      org: slug,
      code,
      recoveryCode: str({ minLength: 1, maxLength: 64, description: 'a recovery code instead of a code (used up)' }),
      trustDevice: body({ label, previousToken: str({ minLength: 1, maxLength: 200 }) }, ['label']),
    },
    [],
  );
  const verifyResult = obj(
    { valid: bool({ const: true }), email: str(), driftSteps: nullable(int()), recoveryCodesLeft: nullable(int()), device: nullable(deviceIssuedSchema) },
    [],
  );
  type VerifyBody = { user?: string; org?: string; code?: string; recoveryCode?: string; trustDevice?: { label: string; previousToken?: string } };
  const verify = async (b: VerifyBody, request: FastifyRequest) => {
    const mfa = await request.call.portal();
    const proof = b.recoveryCode !== undefined ? { kind: 'recovery-code' as const, code: b.recoveryCode } : { kind: 'code' as const, code: b.code ?? '' };
    const r = await mfa.verifyCode(request.call.who, { targetEmail: b.user, orgSlug: b.org, proof, trustDevice: b.trustDevice });
    return {
      valid: true,
      email: r.email,
      driftSteps: r.driftSteps,
      recoveryCodesLeft: r.recoveryCodesLeft,
      device: r.device ? issuedDeviceView(r.device) : null,
    };
  };

  app.post<{ Body: VerifyBody }>(
    '/v1/verify',
    {
      config: self,
      schema: {
        tags,
        security,
        summary: "check a code (or use a recovery code): the login's second step, or support confirming a caller holds the device",
        description: 'On the caller themself it may also trust this device (trustDevice). 200: valid; 401: wrong or replayed; 429: locked.',
        body: { ...verifyBody, oneOf: [{ required: ['code'] }, { required: ['recoveryCode'] }] },
        response: { 200: verifyResult, ...errors(403, 404, 409) },
      },
    },
    async (request) => verify(request.body, request),
  );

  app.post<{ Body: { code: string; label: string; previousToken?: string } }>(
    '/v1/devices/trust',
    {
      config: self,
      schema: {
        tags,
        security,
        summary: 'trust this device for the caller themself, after a valid code (its token replaces the code at sign-in)',
        body: body({ code, label, previousToken: str({ minLength: 1, maxLength: 200 }) }, ['code', 'label']),
        response: { 200: verifyResult, ...errors(403, 409) },
      },
    },
    async (request) => verify({ code: request.body.code, trustDevice: { label: request.body.label, previousToken: request.body.previousToken } }, request),
  );

  app.post<{ Body: { user?: string; org?: string; code: string } }>(
    '/v1/diagnose',
    {
      config: self,
      schema: {
        tags,
        security,
        summary: "measure a device clock's offset without accepting the code (burns it; 10 per user per hour)",
        body: body({ user: email('whose device (default: the caller)'), org: slug, code }, ['code']),
        response: {
          200: obj({
            email: str(),
            matched: bool(),
            driftSteps: nullable(int()),
            offsetSeconds: nullable(int()),
            withinWindow: bool(),
            searchedMinutes: int(),
          }),
          ...errors(403, 404, 409),
        },
      },
    },
    async (request) => {
      const mfa = await request.call.portal();
      const d = await mfa.diagnoseClock(request.call.who, { targetEmail: request.body.user, orgSlug: request.body.org, code: request.body.code });
      return {
        email: d.email,
        matched: d.matched,
        driftSteps: d.driftSteps,
        offsetSeconds: d.offsetSeconds,
        withinWindow: d.withinWindow,
        searchedMinutes: d.searchedMinutes,
      };
    },
  );

  app.get<{ Querystring: { user?: string; org?: string; all?: boolean } }>(
    '/v1/devices',
    {
      config: self,
      schema: {
        tags,
        security,
        summary: 'trusted devices (label, created, last used, expiry); all=true includes expired and revoked ones',
        headers: { type: 'object', properties: { 'x-device-token': str({ description: "this machine's device token: marks it thisMachine" }) } },
        querystring: { ...targetQuery, properties: { ...targetQuery.properties, all: bool() } },
        response: { 200: obj({ email: str(), devices: arr(deviceViewSchema) }), ...errors(403, 404) },
      },
    },
    async (request) => {
      const mfa = await request.call.portal();
      const token = request.headers['x-device-token'];
      const r = await mfa.listDevices(request.call.who, {
        targetEmail: request.query.user,
        orgSlug: request.query.org,
        all: request.query.all,
        machineToken: typeof token === 'string' ? token : undefined,
      });
      return { email: r.email, devices: r.devices.map(deviceView) };
    },
  );

  type RevokeBody = { ids?: number[]; all?: boolean; user?: string; org?: string; ticket?: string; reason?: string; password?: string; dryRun?: boolean };
  app.post<{ Body: RevokeBody }>(
    '/v1/devices/revoke',
    {
      config: self,
      schema: {
        tags,
        security,
        summary: "revoke trusted devices by id, or all of a user's (all: true); the password again",
        body: body({
          ids: arr(int({ minimum: 1 }), { minItems: 1, maxItems: 1000 }),
          all: bool(),
          user: email('whose devices, with all (default: the caller)'),
          org: slug,
          ticket,
          reason,
          password,
          reauthToken,
          dryRun,
        }),
        response: {
          200: obj({
            kind: { type: 'string', enum: ['revoked', 'dry-run'] },
            revoked: int(),
            users: arr(str()),
            deviceIds: { oneOf: [arr(int()), { type: 'string', const: 'all' }] },
          }),
          ...errors(403, 404, 409),
        },
      },
    },
    async (request) => {
      const b = request.body;
      if ((b.ids === undefined) === !b.all) throw usageError('give device ids, or all: true (not both)');
      const mfa = await request.call.portal();
      const r = await mfa.revokeDevices(request.call.who, {
        ids: b.ids,
        ...changeOnUser(b),
      });
      if (r.kind === 'cancelled') throw new Error('revocation cancelled without a question');
      return r;
    },
  );

  type DisableBody = { user?: string; org?: string; ticket?: string; reason?: string; password?: string; dryRun?: boolean };
  app.post<{ Body: DisableBody }>(
    '/v1/disable',
    {
      config: self,
      schema: {
        tags,
        security,
        summary: "disable MFA (own, or a support reset / an organisation admin's disable of another user); the password again",
        body: body({ user: email('whose MFA (default: the caller)'), org: slug, ticket, reason, password, reauthToken, dryRun }),
        response: {
          200: obj(
            {
              kind: { type: 'string', enum: ['disabled', 'dry-run'] },
              email: str(),
              via: str({ description: 'self, support or org-admin' }),
              organisation: nullable(str()),
              ticket: nullable(str()),
              removed: removedSchema,
              wouldRemove: obj({ email: str(), self: bool(), mfa: str(), recoveryCodes: int(), trustedDevices: int() }),
            },
            ['removed', 'wouldRemove'],
          ),
          ...errors(403, 404, 409),
        },
      },
    },
    async (request) => {
      const b = request.body;
      const mfa = await request.call.portal();
      const r = await mfa.disableMfa(request.call.who, {
        ...changeOnUser(b),
      });
      if (r.kind === 'cancelled') throw new Error('disable cancelled without a question');
      if (r.kind !== 'dry-run') return r;
      const { state, ...preview } = r.wouldRemove;
      return { ...r, wouldRemove: { ...preview, mfa: state } };
    },
  );

  app.post<{ Body: { password?: string } }>(
    '/v1/recovery-codes',
    {
      config: self,
      schema: {
        tags,
        security,
        summary: 'ten new single-use recovery codes, shown once (the old ones stop working); the password again',
        body: body({ password, reauthToken }),
        response: { 201: obj({ email: str(), codes: arr(str()) }), ...errors(403, 409) },
      },
    },
    async (request, reply) => {
      const mfa = await request.call.portal();
      return reply.status(201).send(await mfa.regenerateRecoveryCodes(request.call.who, { password: request.body.password }));
    },
  );
}
