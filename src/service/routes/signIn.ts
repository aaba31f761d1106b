/**
 * Sign-in (SPEC §9's two steps over HTTP): the password step returns a short-lived, single-use
 * challenge (the password is never held between requests); the second step completes it with a
 * code, recovery code, access code or trusted-device token and gives a bearer session (the sessions
 * table keeps only its hash). A user without MFA is signed in by the first step. A portal backend
 * with a service key (scope vouch) may take the first step itself (`userId`: it checked the password)
 * and pass its client's address in X-Portal-Mfa-Client-Ip.
 *
 * A user without MFA may enrol within sign-in — the only way for one whom rule 4 makes enrol before
 * anything else: `enrol: true` returns the new secret and QR (202, no session), then the same
 * password step with `enrolmentCode` confirms it and opens the session.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { usageError } from '../../core/errors.js';
import type { Actor } from '../../core/rules/actor.js';
import type { PortalMfa } from '../../core/api.js';
import type { IssuedDevice } from '../../core/rules/trustedDevices.js';
import { ServiceError } from '../errors.js';
import type { RouteDeps } from '../app.js';
import { qrSvg } from '../qrSvg.js';
import {
  arr,
  body,
  bool,
  callers,
  code,
  deviceIssuedSchema,
  email,
  errors,
  int,
  nullable,
  obj,
  password,
  pendingEnrolmentSchema,
  proofSchema,
  str,
  time,
  trustDeviceSchema,
  userSchema,
} from '../schemas.js';
import { issuedDeviceView, isoOf } from '../views.js';

type Proof = { kind: 'code' | 'recovery-code' | 'access-code'; code: string } | { kind: 'device'; token: string };

interface BeginBody {
  email?: string;
  password?: string;
  userId?: string;
  passwordCheckedAt?: string;
  enrol?: boolean;
  enrolmentCode?: string;
}

const sessionSchema = obj(
  {
    status: str({ const: 'signed-in' }),
    token: str({ description: 'the bearer token of the session: Authorization: Bearer TOKEN; shown once' }),
    expiresAt: time(),
    user: userSchema,
    secondFactor: str({ description: 'what proved the second factor: code, recovery-code, access-code, device, none, vouched' }),
    restricted: bool({ description: 'signed in with a temporary access code: enrol or replace before anything else' }),
    proven: nullable({
      type: 'object',
      properties: { kind: str(), driftSteps: int(), recoveryCodesLeft: int() },
      required: ['kind'],
      additionalProperties: false,
    }),
    device: nullable(deviceIssuedSchema),
    recoveryCodes: arr(str(), { description: 'after enrolling in the sign-in: ten recovery codes, shown once' }),
  },
  ['recoveryCodes'],
);

async function sessionOf(mfa: PortalMfa, actor: Actor, extra: { device?: IssuedDevice | null; recoveryCodes?: string[] } = {}) {
  const session = await mfa.openSession(actor);
  return {
    status: 'signed-in',
    token: session.token,
    expiresAt: isoOf(session.expiresAt),
    user: { id: actor.user.id, email: actor.user.email, name: actor.user.name, role: actor.user.role },
    secondFactor: actor.factor,
    restricted: actor.restriction !== null,
    proven: actor.proven ? { ...actor.proven } : null,
    device: extra.device ? issuedDeviceView(extra.device) : null,
    ...(extra.recoveryCodes ? { recoveryCodes: extra.recoveryCodes } : {}),
  };
}

export function registerSignIn(app: FastifyInstance, _deps: RouteDeps): void {
  const tags = ['sign-in'];
  app.post<{ Body: BeginBody }>(
    '/v1/sign-in',
    {
      config: { access: { public: true, signIn: true } },
      schema: {
        tags,
        summary: 'sign-in, step one: the password → a challenge for the second factor (or, without MFA, a session)',
        description:
          'An unknown email and a wrong password get the same answer after the same work. Counts against the per-address budget and the per-user budgets. ' +
          'A portal backend with a service key (scope vouch) may send `userId` (and `passwordCheckedAt`) instead: it checked the password itself. ' +
          'A user without MFA may enrol here: `enrol: true` answers 202 with the secret and QR, then `enrolmentCode` confirms it and opens the session.',
        security: [{}, { serviceKey: [] }],
        body: body({
          email: email('the portal account'),
          password,
          userId: str({ minLength: 1, maxLength: 128, description: 'with a service key: the portal user id the backend signed in itself' }),
          passwordCheckedAt: str({ format: 'date-time', description: 'with userId: when the backend checked the password' }),
          enrol: bool({ description: 'start enrolling (users without MFA): 202 with the secret and QR, no session' }),
          enrolmentCode: code,
        }),
        response: {
          200: obj({
            status: str({ const: 'second-factor' }),
            challenge: str({ description: 'single use, valid a few minutes; complete it at /v1/sign-in/complete' }),
            expiresAt: time(),
            factors: arr(str(), { description: 'what completes it: code, recovery-code, access-code, device' }),
          }),
          201: sessionSchema,
          202: obj({ status: str({ const: 'enrolment-started' }), enrolment: pendingEnrolmentSchema }),
          ...errors(403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const mfa = await request.call.portal();
      const caller = request.call.caller;
      let step: Awaited<ReturnType<PortalMfa['beginSignIn']>>;
      if (b.userId !== undefined) {
        if (caller?.kind !== 'service') throw new ServiceError(401, 'unauthenticated', 'userId is for a portal backend with a service key');
        if (!caller.service.scopes.includes('vouch')) throw new ServiceError(403, 'scope_missing', 'this service key lacks the scope vouch');
        if (b.email !== undefined || b.password !== undefined) throw usageError('send email and password, or userId, not both');
        const checkedAt = b.passwordCheckedAt === undefined ? undefined : Date.parse(b.passwordCheckedAt);
        // the rules of every vouched call (a support account needs the support scope), and of a sign-in
        // (an organisation admin's session passes every scope: that needs it too), before any step is taken
        await request.call.vouch(caller.service, b.userId, checkedAt, { signIn: true });
        step = await mfa.beginSignIn({ userId: b.userId, vouchedBy: `service:${caller.service.name}`, passwordCheckedAt: checkedAt });
      } else {
        if (b.email === undefined || b.password === undefined) throw usageError('send email and password');
        step = await mfa.beginSignIn({ email: b.email, password: b.password });
      }
      if (step.status === 'second-factor') {
        if (b.enrol || b.enrolmentCode !== undefined)
          throw usageError('MFA is already active: complete the sign-in with a code', { code: 'mfa_already_active' });
        return { status: 'second-factor', challenge: step.challenge, expiresAt: isoOf(step.expiresAt), factors: step.factors };
      }
      if (b.enrol) {
        const pending = await mfa.startEnrolment(step.actor, {});
        return reply.status(202).send({
          status: 'enrolment-started',
          enrolment: { email: pending.email, secret: pending.secret, otpauthUri: pending.otpauthUri, qrSvg: await qrSvg(pending.otpauthUri), replacing: false },
        });
      }
      const recoveryCodes = b.enrolmentCode !== undefined ? (await mfa.confirmEnrolment(step.actor, { code: b.enrolmentCode })).recoveryCodes : undefined;
      return reply.status(201).send(await sessionOf(mfa, step.actor, { recoveryCodes }));
    },
  );

  app.post<{ Body: { challenge: string; proof: Proof; trustDevice?: { label: string; previousToken?: string } } }>(
    '/v1/sign-in/complete',
    {
      config: { access: { public: true, signIn: true } },
      schema: {
        tags,
        summary: 'sign-in, step two: the challenge and a second factor → a session (and, after a code, a trusted device)',
        description:
          'A wrong proof counts as a failure (lockout) and leaves the challenge for another try; a used, expired or unknown challenge is challenge_invalid (401).',
        body: body({ challenge: str({ minLength: 1, maxLength: 200 }), proof: proofSchema, trustDevice: trustDeviceSchema }, ['challenge', 'proof']),
        response: { 201: sessionSchema, ...errors(403, 409) },
      },
    },
    async (request, reply: FastifyReply) => {
      const mfa = await request.call.portal();
      const { actor, device } = await mfa.completeSignIn({
        challenge: request.body.challenge,
        proof: request.body.proof,
        trustDevice: request.body.trustDevice,
      });
      return reply.status(201).send(await sessionOf(mfa, actor, { device }));
    },
  );

  app.post<{ Body: { password: string } }>(
    '/v1/reauth',
    {
      config: { access: { scope: 'vouch' } },
      schema: {
        tags,
        security: callers,
        summary: 're-authentication: the password again → a token that stands for it in sensitive calls (reauthToken) for a few minutes',
        body: body({ password }, ['password']),
        response: { 200: obj({ reauthToken: str(), confirmedAt: time(), expiresAt: time() }), ...errors(403) },
      },
    },
    async (request) => {
      const mfa = await request.call.portal();
      const g = await mfa.reauthenticate(request.call.who, { password: request.body.password });
      return { reauthToken: g.reauthToken, confirmedAt: isoOf(g.confirmedAt), expiresAt: isoOf(g.expiresAt) };
    },
  );

  app.delete(
    '/v1/sessions/current',
    {
      config: { access: { scope: 'vouch' } },
      schema: {
        tags,
        summary: 'sign out: end the session whose token is presented',
        security: [{ session: [] }],
        response: { 204: { type: 'null' }, ...errors() },
      },
    },
    async (request, reply) => {
      const caller = request.call.caller;
      if (caller?.kind === 'session') await (await request.call.portal()).closeSession(caller.token);
      return reply.status(204).send();
    },
  );
}
