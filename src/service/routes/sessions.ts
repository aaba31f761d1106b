/**
 * Sign-in for end users: their portal password and second factor give a short-lived bearer session
 * (the sessions table keeps only its hash). A user without MFA may enrol in the same two calls
 * (`enrol: true`, then `enrolmentCode`) — the only way for one whom rule 4 makes enrol first.
 */
import type { FastifyInstance } from 'fastify';
import type { SecondFactorProof } from '../../core/rules/secondFactor.js';
import type { RouteDeps } from '../app.js';
import { qrSvg } from '../qrSvg.js';
import {
  arr,
  body,
  bool,
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

type Proof = SecondFactorProof | { kind: 'device'; token: string };

interface SignInBody {
  email: string;
  password: string;
  proof?: Proof;
  trustDevice?: { label: string; previousToken?: string };
  enrol?: boolean;
  enrolmentCode?: string;
}

const sessionSchema = obj(
  {
    token: str({ description: 'the bearer token of the session: Authorization: Bearer TOKEN; shown once' }),
    expiresAt: time(),
    user: userSchema,
    secondFactor: str({ description: 'what proved the second factor: code, recovery-code, access-code, device, none' }),
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

export function registerSessions(app: FastifyInstance, _deps: RouteDeps): void {
  const tags = ['sign-in'];
  app.post<{ Body: SignInBody }>(
    '/v1/sessions',
    {
      config: { access: { public: true, signIn: true } },
      schema: {
        tags,
        summary: 'sign in: password and second factor → a bearer session',
        description:
          'The password, then — when the user has MFA — a proof (code, recovery code, access code or trusted-device token). ' +
          'An unknown email and a wrong password get the same answer, after the same work. Counts against the per-address budget and the per-user budgets. ' +
          'A user without MFA may enrol here: `enrol: true` returns the new secret (202), then `enrolmentCode` confirms it and opens the session.',
        body: body(
          {
            email: email('the portal account'),
            password,
            proof: proofSchema,
            trustDevice: trustDeviceSchema,
            enrol: bool({ description: 'start enrolling (users without MFA): answers 202 with the secret and QR, no session' }),
            enrolmentCode: code,
          },
          ['email', 'password'],
        ),
        response: {
          201: sessionSchema,
          202: obj({ status: str({ const: 'enrolment-started' }), enrolment: pendingEnrolmentSchema }),
          ...errors(403, 409),
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const mfa = await request.call.portal();
      const explicit = b.proof && b.proof.kind !== 'device' ? b.proof : undefined;
      const actor = await mfa.signIn({
        email: b.email,
        password: b.password,
        action: 'session.login',
        factorAction: 'mfa.verify',
        secondFactor: {
          proof: explicit,
          deviceToken: b.proof?.kind === 'device' ? b.proof.token : undefined,
          accessCodeAllowed: true,
        },
      });
      if (b.enrol) {
        const pending = await mfa.startEnrolment(actor, {});
        return reply.status(202).send({
          status: 'enrolment-started',
          enrolment: { email: pending.email, secret: pending.secret, otpauthUri: pending.otpauthUri, qrSvg: await qrSvg(pending.otpauthUri), replacing: false },
        });
      }
      let recoveryCodes: string[] | undefined;
      if (b.enrolmentCode !== undefined) recoveryCodes = (await mfa.confirmEnrolment(actor, { code: b.enrolmentCode })).recoveryCodes;
      const device = b.trustDevice ? await mfa.trustThisDevice(actor, b.trustDevice) : null;
      const session = await mfa.openSession(actor);
      return reply.status(201).send({
        token: session.token,
        expiresAt: isoOf(session.expiresAt),
        user: { id: actor.user.id, email: actor.user.email, name: actor.user.name, role: actor.user.role },
        secondFactor: actor.factor,
        restricted: actor.restriction !== null,
        proven: actor.proven ? { ...actor.proven } : null,
        device: device ? issuedDeviceView(device) : null,
        ...(recoveryCodes ? { recoveryCodes } : {}),
      });
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
