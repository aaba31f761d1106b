/**
 * Issue 20, library review: every failure the library (`openPortalMfa`, src/index.ts) raises is a
 * PortalMfaError with a stable code — ill-typed arguments (invalid_input, never a TypeError or a
 * bcryptjs error), a bad key (config), a database that cannot be reached when opening or that goes
 * away mid-use (config, never a raw ECONNREFUSED). On SQLite and MariaDB; the outage needs a server.
 */
import { createServer, type Server, type Socket, connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKeyBase64 } from '../../src/core/primitives/secretBox.js';
import { isPortalMfaError, openPortalMfa, type PortalMfaError } from '../../src/index.js';
import { describeEachDatabase } from '../support/databases.js';
import { openWorld, type World } from '../support/world.js';

async function failure(p: Promise<unknown> | (() => unknown)): Promise<PortalMfaError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(isPortalMfaError(e), `not a PortalMfaError: ${String((e as Error)?.stack ?? e)}`).toBe(true);
    return e as PortalMfaError;
  }
  throw new Error('expected a failure, but it succeeded');
}

/** A port nobody listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A TCP proxy to host:port that can be cut, like a database server going away mid-use. */
async function cuttableProxy(host: string, port: number): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, host);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    cut: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

describeEachDatabase('library errors (issue 20)', (getDb) => {
  let w: World;
  let key: string;
  let mfa: Awaited<ReturnType<typeof openPortalMfa>>;

  beforeAll(async () => {
    w = await openWorld(getDb().url);
    key = generateKeyBase64();
    mfa = await openPortalMfa({ databaseUrl: getDb().url, keys: [key], clock: () => w.now() });
  });
  afterAll(async () => {
    await mfa?.close();
    await w?.close();
  });

  it('ill-typed arguments are invalid_input usage errors, not TypeErrors or bcryptjs errors', async () => {
    const email = 'devon@example.com';
    const usage = async (p: () => Promise<unknown>) => {
      const e = await failure(p);
      expect([e.kind, e.code]).toEqual(['usage', 'invalid_input']);
      return e;
    };
    await usage(() => mfa.signIn({ email, password: undefined as unknown as string, action: 'portal.login', secondFactor: {} }));
    await usage(() => mfa.signIn({ email, password: 42 as unknown as string, action: 'portal.login', secondFactor: {} }));
    await usage(() => mfa.signIn({ email: undefined as unknown as string, password: 'x', action: 'portal.login', secondFactor: {} }));
    await usage(() => mfa.signIn(undefined as unknown as Parameters<typeof mfa.signIn>[0]));
    await usage(() => mfa.status(undefined as unknown as Parameters<typeof mfa.status>[0]));
    await usage(() => mfa.status({ user: {} } as unknown as Parameters<typeof mfa.status>[0]));
    const actor = await mfa.signIn({ email, password: w.password(email), action: 'portal.login', secondFactor: {} });
    await usage(() => mfa.disableMfa(actor, undefined as unknown as Parameters<typeof mfa.disableMfa>[1]));
    // nothing was counted against the user by the ill-typed sign-ins
    expect((await w.audit({ target_email: email, outcome: 'failure' })).length).toBe(0);
  });

  it('a bad key is a PortalMfaError (config), and nothing is left open', async () => {
    for (const keys of [['not a key'], [generateKeyBase64().slice(0, 20)], [undefined as unknown as string], 'x' as unknown as string[]]) {
      const e = await failure(() => openPortalMfa({ databaseUrl: getDb().url, keys }));
      expect(['config', 'usage']).toContain(e.kind);
      expect(e.message).not.toContain('not a key');
    }
    const e = await failure(() => openPortalMfa({ databaseUrl: getDb().url, keys: ['not a key'] }));
    expect([e.kind, e.code, e.name]).toEqual(['config', 'config', 'KeyFormatError']);
    await failure(() => openPortalMfa(undefined as unknown as Parameters<typeof openPortalMfa>[0]));
  });

  it('validation at the boundary: audit limits, settings out of range, empty keys, use after close (issue 22)', async () => {
    const email = 'devon@example.com';
    const actor = await mfa.signIn({ email, password: w.password(email), action: 'portal.login', secondFactor: {} });
    for (const limit of [-5, 0, Number.NaN, 1e9, 2.5, '10' as unknown as number, undefined as unknown as number]) {
      const e = await failure(() => mfa.readAuditTrail(actor, { limit }));
      expect([e.code, e.message], String(limit)).toEqual(['invalid_input', expect.stringMatching(/limit/)]);
    }
    for (const since of [Number.NaN, 'yesterday' as unknown as number])
      expect((await failure(() => mfa.readAuditTrail(actor, { limit: 5, since }))).code).toBe('invalid_input');
    expect((await failure(() => mfa.readAuditTrail(actor, { limit: 5, action: 'not an action' }))).code).toBe('invalid_input');
    await failure(() => mfa.beginSignIn({ email, password: 'not-devons' }));
    expect(await mfa.readAuditTrail(actor, { limit: 1 })).toHaveLength(1);
    // settings out of range, unknown or not the client's to set, and empty keys: refused at open, nothing opened
    for (const settings of [{ window: 50 }, { maxFailures: -1 }, { reauthSeconds: Number.NaN }, { trustDays: 0 }, { windw: 1 }, { issuer: '' }]) {
      const e = await failure(() => openPortalMfa({ databaseUrl: getDb().url, keys: [key], settings: settings as never }));
      expect([e.kind, e.code], JSON.stringify(settings)).toEqual(['config', 'invalid_config']);
    }
    for (const keys of [[], [''], ['   ']]) {
      const e = await failure(() => openPortalMfa({ databaseUrl: getDb().url, keys }));
      expect(['invalid_input', 'config']).toContain(e.code);
    }
    // after close(): a clear `closed`, for every method and for an API bound to a request
    const lib = await openPortalMfa({ databaseUrl: getDb().url, keys: [key], clock: () => w.now() });
    const bound = lib.forRequest({ requestId: 'r1' });
    await lib.close();
    for (const call of [
      () => lib.status(actor),
      () => lib.signIn({ email, password: 'x', action: 'portal.login', secondFactor: {} }),
      () => bound.status(actor),
    ]) {
      const e = await failure(call);
      expect([e.code, e.message]).toEqual(['closed', 'this portal-mfa instance is closed']);
    }
    await lib.close(); // closing twice is harmless
  });

  it('every method, given nothing or junk, throws a PortalMfaError with a stable code (issue 22)', async () => {
    const email = 'devon@example.com';
    const actor = await mfa.signIn({ email, password: w.password(email), action: 'portal.login', secondFactor: {} });
    const sam = await mfa.signIn({ email: 'sam@support.example', password: w.password('sam@support.example'), action: 'portal.login', secondFactor: {} });
    const junk: unknown[][] = [[], [undefined], [null], [42], [{}]];
    for (const a of [actor, sam]) junk.push([a], [a, null], [a, 7], [a, { targetEmail: 7, orgSlug: [], password: {}, ids: 'x', emails: 5, change: 1 }]);
    for (const name of Object.keys(mfa) as (keyof typeof mfa)[]) {
      if (name === 'close' || name === 'needsReauthentication') continue;
      for (const args of junk) {
        let outcome: unknown;
        try {
          const r = (mfa[name] as (...a: unknown[]) => unknown)(...args);
          outcome = r instanceof Promise ? await r : r;
          // a stream is read to its end (its errors are the library's too)
          if (outcome && typeof outcome === 'object')
            for (const v of Object.values(outcome))
              if (v && typeof v === 'object' && Symbol.asyncIterator in v) for await (const _ of v as AsyncIterable<unknown>);
        } catch (e) {
          expect(isPortalMfaError(e), `${name}(${args.length} args): ${String((e as Error)?.stack ?? e)}`).toBe(true);
          expect((e as PortalMfaError).code).toMatch(/^[a-z_]+$/);
        }
      }
    }
  });

  it('library errors carry no CLI hints (no flags, no portal-mfa commands)', async () => {
    const email = 'frank@globex.example';
    const actor = await mfa.signIn({ email, password: w.password(email), action: 'portal.login', secondFactor: {} });
    const seen: PortalMfaError[] = [];
    seen.push(await failure(() => mfa.disableMfa(actor, {})));
    seen.push(await failure(() => mfa.startReplacement(actor, { password: w.password(email) })));
    seen.push(await failure(() => mfa.unlock(actor, { targetEmail: 'dave@acme.example' })));
    seen.push(await failure(() => mfa.issueAccessCode(actor, { targetEmail: email, minutes: 0 })));
    seen.push(
      await failure(() =>
        mfa.signIn({ email: 'x@example.com', password: 'p', action: 'portal.login', secondFactor: { proof: { kind: 'access-code', code: 'ABCD' } } }),
      ),
    );
    for (const e of seen) {
      expect(`${e.message} ${e.hint ?? ''}`, e.code).not.toMatch(/--[a-z]|portal-mfa [a-z]|PORTAL_MFA_/);
    }
  });

  it('a database server that cannot be reached, or goes away mid-use, is a PortalMfaError (config)', async (ctx) => {
    if (getDb().dialect !== 'mysql') return ctx.skip();
    const url = new URL(getDb().url);
    // nobody listens: opening fails
    const closed = new URL(url);
    closed.port = String(await closedPort());
    const refused = await failure(() => openPortalMfa({ databaseUrl: closed.toString(), keys: [key] }));
    expect([refused.kind, refused.code]).toEqual(['config', 'config']);
    expect(refused.message).not.toContain(decodeURIComponent(url.password));
    // the server goes away while the library is in use
    const proxy = await cuttableProxy(url.hostname, Number(url.port));
    const through = new URL(url);
    through.port = String(proxy.port);
    const lib = await openPortalMfa({ databaseUrl: through.toString(), keys: [key], clock: () => w.now() });
    try {
      const email = 'frank@globex.example';
      const actor = await lib.signIn({ email, password: w.password(email), action: 'portal.login', secondFactor: {} });
      const bob = await lib.signIn({ email: 'bob@globex.example', password: w.password('bob@globex.example'), action: 'portal.login', secondFactor: {} });
      const before = await lib.listMembers(bob, { orgSlug: 'globex', filter: {} });
      const members: string[] = [];
      for await (const m of before.members) members.push(m.email);
      expect(members).toContain(email);
      // a stream taken before the outage and read after it
      const { members: stream } = await lib.listMembers(bob, { orgSlug: 'globex', filter: {} });
      await proxy.cut();
      const streamed = await failure(async () => {
        for await (const _ of stream.pages());
      });
      expect([streamed.kind, streamed.code]).toEqual(['config', 'config']);
      for (const call of [
        () => lib.signIn({ email, password: w.password(email), action: 'portal.login', secondFactor: {} }),
        () => lib.status(actor),
        () => lib.readAuditTrail(actor, { limit: 5 }),
      ]) {
        const e = await failure(call);
        expect([e.kind, e.code], e.message).toEqual(['config', 'config']);
        expect(e.message).not.toContain(decodeURIComponent(url.password));
      }
    } finally {
      await lib.close().catch(() => undefined);
    }
  }, 60_000);
});
