/**
 * The CLI's remote mode (issue 24 item 3): the PortalMfa interface the commands use, over the
 * HTTP API of `portal-mfa serve` (docs/service-api.md) instead of the database. The commands do not
 * know which they hold; src/cli/actor.ts picks this one when a server is configured.
 *
 * An actor here is a handle: after the password step it holds the service's challenge (never the
 * password), after the second factor the bearer session the service opened. A `--as` command's
 * session is ended when the command ends; `login` keeps it (openSession). What the service cannot be
 * asked for (database and key administration, reports that are not implemented here yet) is a
 * one-line usage error, exit 2.
 */
import { hostname } from 'node:os';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { PortalMfa } from '../../core/api.js';
import { forbidden, isPortalMfaError, usageError, wrongState, type PortalMfaError } from '../../core/errors.js';
import type { Actor, SecondFactorSource, SignInAction } from '../../core/rules/actor.js';
import type { SecondFactorProof, ProvenFactor } from '../../core/rules/secondFactor.js';
import type { IssuedDevice } from '../../core/rules/trustedDevices.js';
import type { PortalUser } from '../../core/domain.js';
import type { CommandContext } from '../context.js';
import { call, streamLines } from './http.js';
import type { RowStream } from '../../core/usecases/organisations.js';
import type { ChangeOnUserRequest } from '../../core/usecases/changeOnUser.js';
import { accessCodeTerms } from '../../core/usecases/support.js';

/** Commands that need the database or the secrets key themselves: never over a server. */
const LOCAL_ONLY = ['db', 'keys', 'demo', 'serve', 'service-key', 'notify', 'policy'];

/** The command's path below the program, e.g. "devices list". */
function commandPath(cmd: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c?.parent; c = c.parent as CommandUnknownOpts | null) names.unshift(c.name());
  return names.join(' ');
}

interface RemoteCommand {
  path: string;
  options: Record<string, unknown>;
}
const commands = new WeakMap<CommandContext, RemoteCommand>();

/** Before a command runs in remote mode: refuse what the service does not offer, before anything is asked. */
export function prepareRemoteCommand(ctx: CommandContext, cmd: CommandUnknownOpts): void {
  const path = commandPath(cmd);
  const top = path.split(' ')[0]!;
  if (LOCAL_ONLY.includes(top)) {
    throw usageError(`${path} is not available with a server (${ctx.server!.origin}): it works on the database directly`, {
      hint: 'run it where the database URL and key are configured, without --server / PORTAL_MFA_SERVER',
    });
  }
  const options = cmd.opts() as Record<string, unknown>;
  // polling the trail every second is a job for the database's side, not for a session's rate limit
  if (path === 'audit' && options.follow === true) {
    throw usageError(`audit --follow is not available with a server (${ctx.server!.origin})`, {
      hint: 'run audit without --follow, or --follow where the database URL and key are configured',
    });
  }
  // the service's bulk disable always leaves the caller's own account out (skipped-self)
  if (path === 'org disable-mfa' && options.includeSelf === true) {
    throw usageError(`org disable-mfa --include-self is not available with a server (${ctx.server!.origin})`, {
      hint: 'disable your own MFA with portal-mfa disable, or run it where the database URL and key are configured',
    });
  }
  commands.set(ctx, { path, options });
}

/** What this process knows about one actor; never a password. */
interface Handle {
  email: string;
  /** the session the service opened for this actor (bearer token) */
  token?: string;
  /** the session outlives the command (login) */
  kept?: boolean;
  /** password checked, second factor still to come (verify on self, enrol with --as) */
  challenge?: string;
  /** a trusted device issued with the sign-in (login --trust-device) */
  device?: IssuedDevice;
  /** the sign-in asked for device trust and the service refused it: trust is off */
  trustOff?: boolean;
  /** the password of this sign-in, carried as the service's re-authentication token */
  reauth?: { token: string; until: number };
  /** when the service's session ends */
  sessionExpiresAt?: number;
}

const ms = (iso: unknown): number | null => (typeof iso === 'string' ? Date.parse(iso) : null);
const msOf = (iso: unknown): number => Date.parse(String(iso));
const issued = (d: Record<string, unknown>): IssuedDevice => ({
  token: String(d.token),
  id: Number(d.id),
  expiresAt: msOf(d.expiresAt),
  replacedDeviceId: (d.replacedDeviceId as number | null) ?? null,
});

/** Sign-in actions that never lead to a sensitive call: no re-authentication token is fetched for them. */
const READ_ONLY: SignInAction[] = ['mfa.status', 'device.list', 'mfa.verify', 'session.login'];

export function remotePortalMfa(ctx: CommandContext): PortalMfa {
  const server = ctx.server!;
  const handles = new WeakMap<Actor, Handle>();
  const opened: Handle[] = [];
  /** a challenge whose proof was refused: a retry of the same sign-in (login's prompt) completes it again */
  let retry: { email: string; challenge: string; expiresAt: number } | undefined;

  const handle = (actor: Actor): Handle => {
    const h = handles.get(actor);
    if (!h) throw new TypeError('not an actor of this remote client');
    return h;
  };
  const makeActor = (user: PortalUser, a: Pick<Actor, 'via' | 'factor' | 'restriction'> & { proven?: ProvenFactor }, h: Handle): Actor => {
    const actor = Object.freeze({ user: Object.freeze(user), sessionId: null, vouchedBy: null, ...a }) as Actor;
    handles.set(actor, h);
    return actor;
  };
  const userOf = (u: Record<string, unknown>): PortalUser => ({
    id: String(u.id),
    email: String(u.email),
    name: String(u.name ?? ''),
    role: u.role as PortalUser['role'],
    active: true,
  });
  /** the session's bearer token: a deferred actor has none until its code is verified */
  const bearer = (actor: Actor): string => {
    const h = handle(actor);
    if (h.token === undefined) {
      throw usageError(`${h.email} has MFA: a code is needed`, {
        code: 'second_factor_required',
        hint: 'pass --code CODE (or --code - for stdin), or log in first with portal-mfa login',
      });
    }
    return h.token;
  };
  /**
   * The password again, as the service's re-authentication token: exchanged once, so the next
   * sensitive call of this command (the confirmation after the QR code) needs no password — as
   * locally, where the actor keeps the moment the password was re-entered.
   */
  const reauthBody = async (actor: Actor, password: string | undefined) => {
    if (password !== undefined) await reauthFor(actor, password);
    const r = handle(actor).reauth;
    return r && ctx.clock() < r.until ? { reauthToken: r.token } : {};
  };
  const signedIn = (body: Record<string, unknown>, extra: Partial<Handle> = {}): Actor => {
    const user = userOf(body.user as Record<string, unknown>);
    const h: Handle = { email: user.email, token: String(body.token), sessionExpiresAt: msOf(body.expiresAt), ...extra };
    if (body.device) h.device = issued(body.device as Record<string, unknown>);
    opened.push(h);
    const proven = body.proven ? (Object.fromEntries(Object.entries(body.proven as object).filter(([, v]) => v !== null)) as ProvenFactor) : undefined;
    return makeActor(
      user,
      {
        via: 'password',
        factor: String(body.secondFactor) as Actor['factor'],
        restriction: body.restricted ? 'access-code' : null,
        ...(proven ? { proven } : {}),
      },
      h,
    );
  };

  /** Complete a challenge; with device trust when the command asked for it (login --trust-device). */
  async function complete(challenge: string, proof: SecondFactorProof | { kind: 'device'; token: string }, trust?: { label: string; previousToken?: string }) {
    const send = (trustDevice?: typeof trust) =>
      call(server, 'POST', '/v1/sign-in/complete', { body: { challenge, proof, ...(trustDevice ? { trustDevice } : {}) } });
    if (!trust || (proof.kind !== 'code' && proof.kind !== 'recovery-code')) return { reply: await send(), trustOff: false };
    try {
      return { reply: await send(trust), trustOff: false };
    } catch (e) {
      // refused before anything is used (rules/challenge.ts): the sign-in goes on without trust
      if (isPortalMfaError(e) && e.code === 'device_trust_off') return { reply: await send(), trustOff: true };
      throw e;
    }
  }

  async function reauthFor(actor: Actor, password: string): Promise<void> {
    const r = await call(server, 'POST', '/v1/reauth', { token: bearer(actor), body: { password } });
    handle(actor).reauth = { token: String(r.body.reauthToken), until: msOf(r.body.expiresAt) };
  }

  const signIn: PortalMfa['signIn'] = async (req) => {
    const sf: SecondFactorSource = req.secondFactor;
    const command = commands.get(ctx);
    const wantsTrust = req.action === 'session.login' && command?.options.trustDevice === true;
    let challenge: string;
    let factors: string[] = [];
    if (retry && retry.email === req.email && retry.expiresAt > ctx.clock() + 5_000) {
      challenge = retry.challenge;
      factors = ['code', 'recovery-code', 'access-code'];
    } else {
      const begin = await call(server, 'POST', '/v1/sign-in', { body: { email: req.email, password: req.password } });
      if (begin.status === 201) {
        // no MFA: the password was the whole sign-in, and the service opened the session
        const actor = signedIn(begin.body);
        if (!READ_ONLY.includes(req.action)) await reauthFor(actor, req.password);
        return actor;
      }
      challenge = String(begin.body.challenge);
      factors = (begin.body.factors as string[]) ?? [];
      retry = undefined;
    }
    const email = req.email;
    let proof = sf.proof;
    if (proof?.kind === 'access-code' && !sf.accessCodeAllowed) {
      throw usageError('a temporary access code is only accepted at login', {
        code: 'invalid_input',
        hint: 'run portal-mfa login and type it at the code prompt',
      });
    }
    if (sf.deferred && proof === undefined) {
      return makeActor(
        { id: '', email, name: '', role: 'user' as PortalUser['role'], active: true },
        { via: 'password', factor: 'deferred', restriction: null },
        {
          email,
          challenge,
        },
      );
    }
    if (proof === undefined && sf.deviceToken !== undefined) {
      if (!factors.includes('device')) sf.onDeviceRefused?.('trust-off');
      else {
        try {
          const { reply } = await complete(challenge, { kind: 'device', token: sf.deviceToken });
          return await finish(reply.body, req);
        } catch (e) {
          if (!isPortalMfaError(e) || e.code !== 'device_not_trusted') throw e;
          sf.onDeviceRefused?.((e.details?.reason as 'unknown') ?? 'unknown');
        }
      }
    }
    if (proof === undefined && sf.ask) {
      proof = await sf.ask();
      if (proof.kind === 'access-code' && !sf.accessCodeAllowed)
        throw usageError('a temporary access code is only accepted at login', { code: 'invalid_input' });
    }
    if (proof === undefined) {
      throw usageError(`${email} has MFA: a code is needed`, {
        code: 'second_factor_required',
        hint: 'pass --code CODE (or --code - for stdin), or log in first with portal-mfa login',
      });
    }
    const trust = wantsTrust ? { label: String(command?.options.label ?? hostname()), previousToken: undefined as string | undefined } : undefined;
    try {
      const { reply, trustOff } = await complete(challenge, proof, trust && { ...trust, previousToken: sf.deviceToken });
      retry = undefined;
      return await finish(reply.body, req, { trustOff });
    } catch (e) {
      // a wrong proof leaves the challenge: the next try (login's prompt) completes it without the password again
      if (isPortalMfaError(e) && e.kind === 'rejected' && e.code !== 'challenge_invalid') retry = { email, challenge, expiresAt: ctx.clock() + 4 * 60_000 };
      throw e;
    }
  };

  /** A change on another user: the password again (unless a dry run), the target and its context. */
  async function changeOnUser(actor: Actor, path: string, req: ChangeOnUserRequest, extra: Record<string, unknown> = {}) {
    const body = {
      ...extra,
      ...(req.targetEmail !== undefined ? { user: req.targetEmail } : {}),
      ...(req.orgSlug !== undefined ? { org: req.orgSlug } : {}),
      ...(req.ticket !== undefined ? { ticket: req.ticket } : {}),
      ...(req.reason !== undefined ? { reason: req.reason } : {}),
      ...(req.dryRun ? { dryRun: true } : await reauthBody(actor, req.password)),
    };
    return call(server, 'POST', path, { token: bearer(actor), body });
  }

  /**
   * No organisation named: the one the actor administers, as locally (authoriseOrganisation); the
   * service's route names one, so the choice is made here from the caller's organisations.
   */
  async function onlyOrganisationAdministered(actor: Actor): Promise<string> {
    const r = await call(server, 'GET', '/v1/organisations', { token: bearer(actor) });
    const admin = (r.body.organisations as { slug: string; role: string }[]).filter((o) => o.role === 'admin').map((o) => o.slug);
    const email = handle(actor).email;
    if (admin.length === 1) return admin[0]!;
    if (admin.length > 1) {
      throw usageError(`${email} administers several organisations: ${admin.join(', ')}`, {
        code: 'ambiguous_organisation',
        hint: `name one with --org ${admin[0]!}`,
        details: { organisations: admin },
      });
    }
    if (actor.user.role === 'support')
      throw usageError('name the organisation', { code: 'missing_input', hint: 'pass --org SLUG (portal-mfa org list shows them)' });
    throw forbidden(`${email} is not an admin of any organisation`);
  }

  async function finish(body: Record<string, unknown>, req: Parameters<PortalMfa['signIn']>[0], extra: Partial<Handle> = {}): Promise<Actor> {
    const actor = signedIn(body, extra);
    if (!READ_ONLY.includes(req.action)) await reauthFor(actor, req.password);
    return actor;
  }

  const unsupported = (what: string) => () =>
    Promise.reject(
      usageError(`${what} is not available with a server yet`, { hint: 'run it where the database URL and key are configured, without --server' }),
    );

  const api = {
    signIn,
    async resumeSession(token: string) {
      try {
        const r = await call(server, 'GET', '/v1/status', { token });
        const user: PortalUser = {
          id: '',
          email: String(r.body.email),
          name: String(r.body.name ?? ''),
          role: r.body.role as PortalUser['role'],
          active: true,
        };
        return makeActor(user, { via: 'session', factor: 'session', restriction: null }, { email: user.email, token, kept: true });
      } catch (e) {
        if (isPortalMfaError(e) && (e.code as string) === 'unauthenticated') return null;
        // a session restricted by an access code may read nothing but enrol: it is still a session
        if (isPortalMfaError(e) && e.code === 'enrolment_required') {
          return makeActor(
            { id: '', email: '', name: '', role: 'user' as PortalUser['role'], active: true },
            { via: 'session', factor: 'session', restriction: 'access-code' },
            {
              email: '',
              token,
              kept: true,
            },
          );
        }
        throw e;
      }
    },
    async openSession(actor: Actor) {
      const h = handle(actor);
      // the service opened it with the sign-in: it is kept past this command now
      h.kept = true;
      return { token: bearer(actor), expiresAt: h.sessionExpiresAt ?? ctx.clock() };
    },
    async closeSession(token: string) {
      await call(server, 'DELETE', '/v1/sessions/current', { token });
      return true;
    },
    needsReauthentication(actor: Actor) {
      const r = handle(actor).reauth;
      return !(r && ctx.clock() < r.until);
    },
    /** The password typed again at a prompt: checked by the service now (so a wrong one is asked again), kept as its token. */
    async reenterPassword(actor: Actor, password: string) {
      await reauthFor(actor, password);
    },
    /**
     * The early checks a command runs before asking for the password again: the service runs the
     * same checks in the call itself, so remotely a refusal comes after the password (documented).
     */
    async precheck() {},
    async status(actor: Actor, req: { targetEmail?: string; orgSlug?: string } = {}) {
      const r = await call(server, 'GET', '/v1/status', { token: bearer(actor), query: { user: req.targetEmail, org: req.orgSlug } });
      const s = r.body as Record<string, unknown>;
      const access = s.accessCode as { expiresAt: string; usesLeft: number } | null;
      return {
        email: String(s.email),
        name: String(s.name ?? ''),
        role: String(s.role),
        state: s.mfa as 'none' | 'pending' | 'active',
        enrolledAt: ms(s.enrolledAt),
        confirmedAt: ms(s.confirmedAt),
        lastUsedAt: ms(s.lastUsedAt),
        pendingSince: ms(s.pendingSince),
        consecutiveFailures: Number(s.consecutiveFailures),
        lockedUntil: ms(s.lockedUntil),
        hardLocked: Boolean(s.hardLocked),
        trustedDevices: Number(s.trustedDevices),
        recoveryCodesLeft: Number(s.recoveryCodesLeft),
        accessCode: access ? { expiresAt: msOf(access.expiresAt), usesLeft: access.usesLeft } : null,
        enrolmentDeadlines: (s.enrolmentDeadlines as { organisation: string; deadline: string | null }[]).map((d) => ({
          organisation: d.organisation,
          deadline: ms(d.deadline),
        })),
      };
    },
    async startEnrolment(actor: Actor, req: { password?: string } = {}) {
      if (handle(actor).challenge !== undefined) throw alreadyActive(handle(actor).email);
      const r = await call(server, 'POST', '/v1/enrolment', { token: bearer(actor), body: await reauthBody(actor, req.password) });
      return pendingOf(r.body);
    },
    async startReplacement(actor: Actor, req: { password?: string; oldDeviceCode?: string }) {
      const body = { ...(await reauthBody(actor, req.password)), ...(req.oldDeviceCode !== undefined ? { oldDeviceCode: req.oldDeviceCode } : {}) };
      const r = await call(server, 'POST', '/v1/replacement', { token: bearer(actor), body });
      return pendingOf(r.body);
    },
    async confirmEnrolment(actor: Actor, req: { code: string; password?: string }) {
      const r = await call(server, 'POST', '/v1/enrolment/confirm', {
        token: bearer(actor),
        body: { code: req.code, ...(await reauthBody(actor, req.password)) },
      });
      const b = r.body;
      return {
        email: String(b.email),
        driftSteps: Number(b.driftSteps),
        replaced: Boolean(b.replaced),
        trustedDevicesRevoked: Number(b.trustedDevicesRevoked),
        sessionsEnded: Number(b.sessionsEnded),
        recoveryCodes: (b.recoveryCodes as string[]) ?? [],
      };
    },
    async verifyCode(
      actor: Actor,
      req: { targetEmail?: string; orgSlug?: string; proof: SecondFactorProof; trustDevice?: { label: string; previousToken?: string } },
    ) {
      const h = handle(actor);
      const self = req.targetEmail === undefined || req.targetEmail.trim().toLowerCase() === h.email.toLowerCase();
      if (h.challenge !== undefined && self) {
        // the deferred sign-in's second factor is this very code (verify --as on oneself)
        const { reply, trustOff } = await complete(h.challenge, req.proof, req.trustDevice);
        if (trustOff && req.trustDevice) throw trustOffError(h.email);
        h.challenge = undefined;
        const done = signedIn(reply.body);
        Object.assign(h, handle(done));
        const p = (reply.body.proven ?? {}) as { driftSteps?: number; recoveryCodesLeft?: number };
        return {
          email: h.email,
          driftSteps: req.proof.kind === 'code' ? (p.driftSteps ?? 0) : null,
          recoveryCodesLeft: req.proof.kind === 'recovery-code' ? (p.recoveryCodesLeft ?? 0) : null,
          device: h.device ?? null,
        };
      }
      const body = {
        ...(req.targetEmail !== undefined ? { user: req.targetEmail } : {}),
        ...(req.orgSlug !== undefined ? { org: req.orgSlug } : {}),
        ...(req.proof.kind === 'recovery-code' ? { recoveryCode: req.proof.code } : { code: req.proof.code }),
        ...(req.trustDevice ? { trustDevice: req.trustDevice } : {}),
      };
      const r = await call(server, 'POST', '/v1/verify', { token: bearer(actor), body });
      const b = r.body;
      return {
        email: String(b.email),
        driftSteps: (b.driftSteps as number | null) ?? null,
        recoveryCodesLeft: (b.recoveryCodesLeft as number | null) ?? null,
        device: b.device ? issued(b.device as Record<string, unknown>) : null,
      };
    },
    async diagnoseClock(actor: Actor, req: { targetEmail?: string; orgSlug?: string; code: string }) {
      const body = {
        code: req.code,
        ...(req.targetEmail !== undefined ? { user: req.targetEmail } : {}),
        ...(req.orgSlug !== undefined ? { org: req.orgSlug } : {}),
      };
      const r = await call(server, 'POST', '/v1/diagnose', { token: bearer(actor), body });
      return r.body as never;
    },
    async trustThisDevice(actor: Actor) {
      const h = handle(actor);
      if (h.device) return h.device;
      if (h.trustOff) throw trustOffError(h.email);
      throw usageError('over a server a device is trusted as part of the sign-in', { code: 'second_factor_required', hint: 'portal-mfa login --trust-device' });
    },
    async regenerateRecoveryCodes(actor: Actor, req: { password?: string } = {}) {
      const r = await call(server, 'POST', '/v1/recovery-codes', { token: bearer(actor), body: await reauthBody(actor, req.password) });
      return { email: String(r.body.email), codes: r.body.codes as string[] };
    },
    async listDevices(actor: Actor, req: { targetEmail?: string; orgSlug?: string; all?: boolean; machineToken?: string } = {}) {
      const r = await call(server, 'GET', '/v1/devices', {
        token: bearer(actor),
        query: { user: req.targetEmail, org: req.orgSlug, all: req.all ? true : undefined },
        headers: req.machineToken ? { 'x-device-token': req.machineToken } : {},
      });
      const devices = (r.body.devices as Record<string, unknown>[]).map((d) => ({
        id: Number(d.id),
        label: String(d.label),
        state: d.state as 'active' | 'expired' | 'revoked',
        createdAt: msOf(d.createdAt),
        lastUsedAt: ms(d.lastUsedAt),
        expiresAt: msOf(d.expiresAt),
        revokedAt: ms(d.revokedAt),
        thisMachine: Boolean(d.thisMachine),
      }));
      return { email: String(r.body.email), devices };
    },
    async revokeDevices(
      actor: Actor,
      req: { ids?: number[]; targetEmail?: string; orgSlug?: string; ticket?: string; reason?: string; password?: string; dryRun?: boolean },
    ) {
      const body = {
        ...(req.ids ? { ids: req.ids } : { all: true }),
        ...(req.targetEmail !== undefined ? { user: req.targetEmail } : {}),
        ...(req.orgSlug !== undefined ? { org: req.orgSlug } : {}),
        ...(req.ticket !== undefined ? { ticket: req.ticket } : {}),
        ...(req.reason !== undefined ? { reason: req.reason } : {}),
        ...(req.dryRun ? { dryRun: true } : await reauthBody(actor, req.password)),
      };
      const r = await call(server, 'POST', '/v1/devices/revoke', { token: bearer(actor), body });
      return r.body as never;
    },
    async readAuditTrail(actor: Actor, req: { userEmail?: string; orgSlug?: string; action?: string; since?: number; limit?: number; afterId?: number }) {
      const r = await call(server, 'GET', '/v1/audit', {
        token: bearer(actor),
        query: {
          user: req.userEmail,
          org: req.orgSlug,
          action: req.action,
          since: req.since === undefined ? undefined : new Date(req.since).toISOString(),
          limit: req.limit,
          afterId: req.afterId,
        },
      });
      return (r.body.events as Record<string, unknown>[]).map((e) => ({ ...e, time: msOf(e.time) })) as never;
    },
    async listMembers(actor: Actor, req: { orgSlug?: string; filter: { mfa?: string; role?: string } }) {
      const slug = req.orgSlug ?? (await onlyOrganisationAdministered(actor));
      const pages = await streamLines(server, `/v1/organisations/${encodeURIComponent(slug)}/users`, {
        token: bearer(actor),
        query: { mfa: req.filter.mfa, role: req.filter.role, format: 'ndjson' },
      });
      const members = rowStream(pages, (m) => ({ ...m, enrolledAt: ms(m.enrolledAt), lastUsedAt: ms(m.lastUsedAt), deadline: ms(m.deadline) }));
      return { organisation: slug, members } as never;
    },
    async listUsers(actor: Actor, req: { mfa?: string; orgSlug?: string; role?: string; locked?: boolean }) {
      const pages = await streamLines(server, '/v1/users', {
        token: bearer(actor),
        query: { mfa: req.mfa, org: req.orgSlug, role: req.role, locked: req.locked, format: 'ndjson' },
      });
      // the service sends the lock as 'hard', the time it ends, or null: back to the core's two fields
      return rowStream(pages, (u) => ({
        ...u,
        enrolledAt: ms(u.enrolledAt),
        lastUsedAt: ms(u.lastUsedAt),
        hardLocked: u.locked === 'hard',
        lockedUntil: u.locked === 'hard' ? null : ms(u.locked),
      })) as never;
    },
    async showPortalPolicy(actor: Actor) {
      const r = await call(server, 'GET', '/v1/policy', { token: bearer(actor) });
      return { ...r.body, requiredSince: ms(r.body.requiredSince) } as never;
    },
    async unlock(actor: Actor, req: ChangeOnUserRequest) {
      const r = await withPickedOrganisation(req, (org) => changeOnUser(actor, '/v1/unlock', { ...req, orgSlug: org }));
      return { ...r.body, lockedUntil: ms(r.body.lockedUntil) } as never;
    },
    async disableMfa(actor: Actor, req: ChangeOnUserRequest & { confirm?: (p: Record<string, unknown>) => Promise<boolean> }) {
      const preview = (b: Record<string, unknown>) => {
        const { mfa, ...rest } = b.wouldRemove as Record<string, unknown>;
        return { ...rest, state: mfa };
      };
      return withPickedOrganisation(req, async (org) => {
        const at = { ...req, orgSlug: org };
        if (req.dryRun) {
          const r = await changeOnUser(actor, '/v1/disable', at);
          return { ...r.body, wouldRemove: preview(r.body) } as never;
        }
        if (req.confirm) {
          // the service cannot ask: its dry run gives what will go, the question is asked here, then the change
          const dry = await changeOnUser(actor, '/v1/disable', { ...at, dryRun: true });
          if (!(await req.confirm(preview(dry.body)))) return { kind: 'cancelled', email: String(dry.body.email) } as never;
        }
        const r = await changeOnUser(actor, '/v1/disable', at);
        return r.body as never;
      });
    },
    async listOrganisations(actor: Actor) {
      const r = await call(server, 'GET', '/v1/organisations', { token: bearer(actor) });
      return r.body.organisations as never;
    },
    async showPolicy(actor: Actor, req: { orgSlug?: string }) {
      const slug = req.orgSlug ?? (await onlyOrganisationAdministered(actor));
      const r = await call(server, 'GET', `/v1/organisations/${encodeURIComponent(slug)}/policy`, { token: bearer(actor) });
      const lacking = r.body.lacking as { email: string; deadline: string | null }[];
      return { ...r.body, requiredSince: ms(r.body.requiredSince), lacking: lacking.map((l) => ({ email: l.email, deadline: ms(l.deadline) })) } as never;
    },
    // (includeSelf is refused before this is reached, and a service run cannot be stopped part-way: signal unused)
    async disableMembers(actor: Actor, req: Parameters<PortalMfa['disableMembers']>[1]) {
      const slug = req.orgSlug ?? (await onlyOrganisationAdministered(actor));
      const path = `/v1/organisations/${encodeURIComponent(slug)}/disable-mfa`;
      const base = {
        users: req.emails,
        ...(req.ticket !== undefined ? { ticket: req.ticket } : {}),
        ...(req.reason !== undefined ? { reason: req.reason } : {}),
      };
      /** the service's answer as the core's run: the results (all committed) streamed back one by one */
      const runOf = (b: Record<string, unknown>) => {
        const results = (b.results as { email: string; outcome: string; error: string | null; message: string }[]).map((r) => ({
          email: r.email,
          outcome: r.outcome,
          errorKind: r.error,
          message: r.message,
        }));
        async function* each() {
          yield* results;
        }
        const self = results.some((r) => r.outcome === 'skipped-self') ? ('skipped' as const) : null;
        return { organisation: String(b.organisation), total: Number(b.total), self, results: each() };
      };
      if (req.dryRun) return runOf((await call(server, 'POST', path, { token: bearer(actor), body: { ...base, dryRun: true } })).body) as never;
      // the password first, as locally; then the service's dry run gives the count for the question asked here
      const reauth = await reauthBody(actor, req.password);
      if (req.confirm) {
        const dry = runOf((await call(server, 'POST', path, { token: bearer(actor), body: { ...base, dryRun: true } })).body);
        if (!(await req.confirm(dry.total - (dry.self === 'skipped' ? 1 : 0), dry.organisation, dry.self))) return { kind: 'cancelled' } as never;
      }
      return runOf((await call(server, 'POST', path, { token: bearer(actor), body: { ...base, ...reauth } })).body) as never;
    },
    async setPolicy(
      actor: Actor,
      req: {
        orgSlug?: string;
        change: { require?: boolean; graceDays?: number | null; deviceTrust?: boolean };
        password?: string;
        dryRun?: boolean;
        confirm?: (impact: { lacking: { total: number; admins: number }; requiring: boolean }) => Promise<boolean>;
      },
    ) {
      const slug = req.orgSlug ?? (await onlyOrganisationAdministered(actor));
      const path = `/v1/organisations/${encodeURIComponent(slug)}/policy`;
      const { require, graceDays, deviceTrust } = req.change;
      const change = {
        ...(require !== undefined ? { require } : {}),
        ...(graceDays !== undefined ? { graceDays } : {}),
        ...(deviceTrust !== undefined ? { deviceTrust } : {}),
      };
      const put = async (extra: Record<string, unknown>) =>
        (await call(server, 'PUT', path, { token: bearer(actor), body: { ...change, ...extra } })).body as {
          before: { mfaRequired: boolean };
          after: { mfaRequired: boolean };
          membersWithoutMfa: { total: number; admins: number };
        };
      if (req.dryRun) return (await put({ dryRun: true })) as never;
      // the password first, as locally; then the service's dry run gives the impact for the question asked here
      const reauth = await reauthBody(actor, req.password);
      if (req.confirm) {
        const dry = await put({ dryRun: true });
        // the core's rule (usecases/organisations.ts setPolicy): a requirement newly switched on or its grace changed
        const requiring = dry.after.mfaRequired && (!dry.before.mfaRequired || graceDays !== undefined);
        if (!(await req.confirm({ lacking: dry.membersWithoutMfa, requiring }))) return { ...dry, kind: 'cancelled' } as never;
      }
      return (await put(reauth)) as never;
    },
    async remindMembers(actor: Actor, req: { orgSlug?: string; dryRun?: boolean }) {
      const slug = req.orgSlug ?? (await onlyOrganisationAdministered(actor));
      const r = await call(server, 'POST', `/v1/organisations/${encodeURIComponent(slug)}/remind`, {
        token: bearer(actor),
        body: req.dryRun ? { dryRun: true } : {},
      });
      const members = r.body.members as { email: string; deadline: string | null }[];
      return { ...r.body, members: members.map((m) => ({ email: m.email, deadline: ms(m.deadline) })) } as never;
    },
    async issueAccessCode(actor: Actor, req: ChangeOnUserRequest & { minutes?: number; uses?: number }) {
      const terms = accessCodeTerms(req);
      const r = await withPickedOrganisation(req, (org) => changeOnUser(actor, '/v1/access-codes', { ...req, orgSlug: org }, terms));
      return { ...r.body, expiresAt: msOf(r.body.expiresAt) } as never;
    },
    async revokeAccessCode(actor: Actor, req: ChangeOnUserRequest) {
      const r = await withPickedOrganisation(req, (org) => changeOnUser(actor, '/v1/access-codes/revoke', { ...req, orgSlug: org }));
      return r.body as never;
    },
    async close() {
      // a --as command's sign-in opened a session on the service: it ends with the command
      for (const h of opened) if (!h.kept && h.token) await call(server, 'DELETE', '/v1/sessions/current', { token: h.token }).catch(() => undefined);
    },
  };

  const names: (keyof PortalMfa)[] = ['beginSignIn', 'completeSignIn', 'actorFor', 'reauthenticate', 'forRequest', 'listOutbox', 'setPortalPolicy'];
  const rest = Object.fromEntries(names.map((n) => [n, unsupported(n)]));
  ctx.onClose(() => api.close());
  return { ...rest, ...api } as unknown as PortalMfa;
}

const pendingOf = (b: Record<string, unknown>) => ({
  email: String(b.email),
  secret: String(b.secret),
  otpauthUri: String(b.otpauthUri),
  replacing: Boolean(b.replacing),
});

function alreadyActive(email: string): PortalMfaError {
  return wrongState(`MFA is already active for ${email}`, { code: 'mfa_already_active', hint: 'to move to a new phone: portal-mfa replace' });
}

function trustOffError(email: string): PortalMfaError {
  return forbidden(`device trust is turned off by an organisation of ${email}`, { code: 'device_trust_off', hint: 'a code is needed at every login' });
}

/**
 * An admin of several of the target's organisations who named none: the service refuses with the
 * choices (it cannot ask); they are asked here, as locally, and the call is made again for the one picked.
 */
async function withPickedOrganisation<T>(req: ChangeOnUserRequest, run: (orgSlug: string | undefined) => Promise<T>): Promise<T> {
  try {
    return await run(req.orgSlug);
  } catch (e) {
    const slugs = isPortalMfaError(e) && e.code === 'ambiguous_organisation' ? (e.details?.organisations as string[] | undefined) : undefined;
    if (!slugs || !req.pickOrganisation || req.orgSlug !== undefined) throw e;
    return run(await req.pickOrganisation(slugs.map((slug) => ({ slug, name: slug }))));
  }
}

/** The service's NDJSON pages as the core's report stream: iterated row by row or page by page, once. */
function rowStream<T>(pages: AsyncIterable<Record<string, unknown>[]>, row: (r: Record<string, unknown>) => T): RowStream<T> {
  async function* mapped() {
    for await (const page of pages) yield page.map(row);
  }
  const once = mapped();
  return {
    pages: () => once,
    async *[Symbol.asyncIterator]() {
      for await (const page of once) yield* page;
    },
  };
}
