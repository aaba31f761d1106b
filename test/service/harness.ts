/**
 * A service over an in-process portal (test/support/world.ts): the demo accounts, the fake clock,
 * and fastify.inject — or real HTTP on 127.0.0.1 when a test needs a socket.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildService, type ServiceOptions } from '../../src/service/app.js';
import { openWorld, type World } from '../support/world.js';

export interface ServiceWorld extends World {
  app: FastifyInstance;
  /** every log line the service wrote */
  log: string[];
  call(method: string, url: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string>; ip?: string }): Promise<LightMyRequestResponse>;
  /** a session token for a demo account (enrolled: pass its secret) */
  signIn(email: string, secret?: string): Promise<string>;
}

export async function openServiceWorld(url: string, opts: Partial<ServiceOptions> = {}): Promise<ServiceWorld> {
  const world = await openWorld(url);
  const log: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      log.push(
        ...String(chunk)
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  const { settings: _, queuedNotifications: __, ...deps } = world.deps;
  const app = await buildService({
    core: { deps, settings: async () => world.deps.settings },
    version: 'test',
    logger: { level: 'info', stream },
    ...opts,
  });
  await app.ready();
  const call: ServiceWorld['call'] = (method, url, o = {}) =>
    app.inject({
      method: method as 'GET',
      url,
      remoteAddress: o.ip ?? '127.0.0.1',
      headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.headers ?? {}) },
      ...(o.body !== undefined ? { payload: o.body as object } : {}),
    });
  const closeWorld = world.close;
  return Object.assign(world, {
    app,
    log,
    call,
    async signIn(email: string, secret?: string) {
      const begin = await call('POST', '/v1/sign-in', { body: { email, password: world.password(email) } });
      let r = begin;
      if (begin.statusCode === 200) {
        if (!secret) throw new Error(`sign-in of ${email}: a second factor is needed`);
        r = await call('POST', '/v1/sign-in/complete', { body: { challenge: begin.json().challenge, proof: { kind: 'code', code: world.code(secret) } } });
        world.advance(30_000);
      }
      if (r.statusCode !== 201) throw new Error(`sign-in of ${email}: ${r.statusCode} ${r.body}`);
      return r.json().token as string;
    },
    async close() {
      await app.close();
      await closeWorld();
    },
  });
}
