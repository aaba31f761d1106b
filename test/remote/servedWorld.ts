/**
 * The remote stories' set-up: an in-process portal (test/support/world.ts) and `portal-mfa serve`'s
 * app over it on 127.0.0.1, both on the test clock and one key — so a CLI run locally (the database
 * and the key) and one remotely (only the server's address) act on the same users.
 */
import type { AddressInfo } from 'node:net';
import { generateKeyBase64, keyFromBase64 } from '../../src/core/primitives/secretBox.js';
import { buildService } from '../../src/service/app.js';
import { testNow } from '../support/clock.js';
import { openWorld, type World } from '../support/world.js';

export interface ServedWorld {
  world: World;
  /** http://127.0.0.1:PORT */
  serverUrl: string;
  /** the key the service holds; a local run needs it too (PORTAL_MFA_KEY) */
  keyB64: string;
  close(): Promise<void>;
}

export async function openServedWorld(databaseUrl: string): Promise<ServedWorld> {
  const world = await openWorld(databaseUrl);
  const keyB64 = generateKeyBase64();
  const key = keyFromBase64(keyB64);
  // the service runs on the test clock, as the in-process CLI does
  const { settings: _, queuedNotifications: __, ...deps } = { ...world.deps, clock: testNow, keyring: () => [key] };
  const app = await buildService({ core: { deps, settings: async () => world.deps.settings }, version: 'test' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    world,
    serverUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    keyB64,
    async close() {
      await app.close();
      await world.close();
    },
  };
}
