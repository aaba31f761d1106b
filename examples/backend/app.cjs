'use strict';
/**
 * A small portal backend (node:http, no framework) that uses portal-mfa the way docs/library.md
 * recommends: the portal keeps its own session (a cookie naming a server-side record, as Laravel or
 * Django do); portal-mfa never sees that session and the backend never keeps a password.
 *
 *   POST /login            { email, password }          password page: signed in, or a challenge cookie
 *   POST /login/code       { code | recoveryCode, trustDevice }  code page: completes the challenge
 *   POST /logout
 *   GET  /me                                            the user's MFA state
 *   POST /confirm-password { password }                 Fortify's "confirm password": a re-auth token
 *   POST /mfa/enrol                                     otpauth URI (the page draws the QR)
 *   POST /mfa/confirm      { code }                     recovery codes, shown once
 *   POST /admin/disable    { email, org? }              an org admin removes a member's MFA
 *   GET  /admin/audit                                   what the admin may see of the audit trail
 *
 * Written once as CommonJS and started from an ES module (server.mjs: `import 'portal-mfa'`) or
 * from CommonJS (server.cjs: `require('portal-mfa')`): both hand their portal-mfa API to createApp.
 */
const { randomBytes, randomUUID } = require('node:crypto');
const http = require('node:http');

/** Who vouches, on every audit row of a user the portal signed in (portal-mfa records it). */
const VOUCHED_BY = 'example-portal';

function createApp(mfa, { isPortalMfaError, trustDays = 30 }) {
  /** The portal's own sessions: sid → { userId, email, reauthToken? }. In memory for the example. */
  const sessions = new Map();

  async function route(req, res, body) {
    const cookies = parseCookies(req.headers.cookie);
    // every call of this request is recorded with its address, user agent and request id
    const api = mfa.forRequest({
      ip: req.socket.remoteAddress.replace(/^::ffff:/, ''),
      userAgent: String(req.headers['user-agent'] ?? '').slice(0, 1024),
      requestId: String(req.headers['x-request-id'] ?? randomUUID()),
    });
    const session = cookies.sid ? sessions.get(cookies.sid) : undefined;
    /** The acting user for this request: the portal signed them in, so it vouches. */
    const actor = async () => {
      if (!session) throw Object.assign(new Error('not signed in'), { status: 401 });
      const a = await api.actorFor({ userId: session.userId, vouchedBy: VOUCHED_BY });
      // the password confirmed on an earlier request (Fortify's auth.password_confirmed_at)
      if (session.reauthToken) {
        try {
          await api.reauthenticate(a, { reauthToken: session.reauthToken });
        } catch (e) {
          if (!isPortalMfaError(e) || e.code !== 'reauth_invalid') throw e;
          session.reauthToken = undefined; // expired: the page asks for the password again
        }
      }
      return a;
    };
    const signedIn = (a) => {
      const sid = randomBytes(32).toString('base64url');
      sessions.set(sid, { userId: a.user.id, email: a.user.email });
      cookie(res, 'sid', sid, { maxAge: 8 * 3600 });
      cookie(res, 'login', '', { maxAge: 0 });
      return { status: 'signed-in', email: a.user.email };
    };

    switch (`${req.method} ${new URL(req.url, 'http://x').pathname}`) {
      case 'POST /login': {
        const step = await api.beginSignIn({ email: body.email, password: body.password, action: 'portal.login' });
        if (step.status === 'signed-in') return signedIn(step.actor);
        // this browser was trusted before: its device cookie completes the challenge by itself
        if (cookies.device && step.factors.includes('device')) {
          try {
            const done = await api.completeSignIn({ challenge: step.challenge, proof: { kind: 'device', token: cookies.device } });
            return signedIn(done.actor);
          } catch (e) {
            if (!isPortalMfaError(e) || e.code !== 'device_not_trusted') throw e;
            cookie(res, 'device', '', { maxAge: 0 }); // revoked or expired: forget it, ask for a code
            // the challenge was not used up by the refused token: continue with it below
          }
        }
        cookie(res, 'login', step.challenge, { maxAge: Math.floor((step.expiresAt - Date.now()) / 1000) });
        return { status: 'code-needed', factors: step.factors.filter((f) => f !== 'device') };
      }
      case 'POST /login/code': {
        const proof = body.recoveryCode ? { kind: 'recovery-code', code: body.recoveryCode } : { kind: 'code', code: String(body.code ?? '') };
        const done = await api.completeSignIn({
          challenge: cookies.login ?? '',
          proof,
          trustDevice: body.trustDevice ? { label: String(req.headers['user-agent'] ?? 'browser').slice(0, 100), previousToken: cookies.device } : undefined,
        });
        if (done.device) cookie(res, 'device', done.device.token, { maxAge: trustDays * 86400 });
        return signedIn(done.actor);
      }
      case 'POST /logout':
        if (cookies.sid) sessions.delete(cookies.sid);
        cookie(res, 'sid', '', { maxAge: 0 });
        return { status: 'signed-out' };
      case 'GET /me': {
        const s = await api.status(await actor(), {});
        return { email: s.email, mfa: s.mfa ?? s.state, recoveryCodesLeft: s.recoveryCodesLeft };
      }
      case 'POST /confirm-password': {
        const grant = await api.reauthenticate(await actor(), { password: body.password });
        session.reauthToken = grant.reauthToken;
        return { confirmedUntil: new Date(grant.expiresAt).toISOString() };
      }
      case 'POST /mfa/enrol': {
        const pending = await api.startEnrolment(await actor(), {});
        return { otpauthUri: pending.otpauthUri, secret: pending.secret };
      }
      case 'POST /mfa/confirm': {
        const done = await api.confirmEnrolment(await actor(), { code: String(body.code ?? '') });
        return { recoveryCodes: done.recoveryCodes };
      }
      case 'POST /admin/disable': {
        const result = await api.disableMfa(await actor(), { targetEmail: body.email, orgSlug: body.org });
        return { disabled: body.email, result: summarise(result) };
      }
      case 'GET /admin/audit': {
        const events = await api.readAuditTrail(await actor(), { limit: 50 });
        return { events: events.map((e) => ({ action: e.action, outcome: e.outcome, actor: e.actor, target: e.target, request: e.request })) };
      }
      default:
        throw Object.assign(new Error('not found'), { status: 404 });
    }
  }

  return http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      raw += chunk;
      if (raw.length > 16_384) req.destroy();
    });
    req.on('end', async () => {
      let status = 200;
      let payload;
      try {
        payload = await route(req, res, raw ? JSON.parse(raw) : {});
      } catch (e) {
        // portal-mfa's errors carry a stable code; the page decides what to say
        status = e.status ?? (isPortalMfaError(e) ? statusOf(e) : 500);
        payload = { error: isPortalMfaError(e) ? { code: e.code, message: e.message } : { code: 'internal', message: status === 500 ? 'internal error' : e.message } };
        if (status === 500) console.error(e);
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    });
  });
}

/** The HTTP status of a portal-mfa error, by its kind. */
function statusOf(e) {
  return { rejected: 401, usage: 400, not_found: 404, locked: 429, forbidden: 403, wrong_state: 409, config: 503, cancelled: 400 }[e.kind] ?? 500;
}

function summarise(result) {
  return result && typeof result === 'object' ? Object.fromEntries(Object.entries(result).filter(([, v]) => typeof v !== 'object' || v === null)) : result;
}

function parseCookies(header) {
  const out = {};
  for (const part of String(header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function cookie(res, name, value, { maxAge }) {
  // HttpOnly: scripts never read the challenge, session or device token; SameSite=Strict: no cross-site use
  const line = `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`;
  const previous = res.getHeader('set-cookie') ?? [];
  res.setHeader('set-cookie', [...previous, line]);
}

module.exports = { createApp };
