/**
 * The OpenAPI document of the API, as the routes' schemas describe it — without a database
 * (docs/openapi.json is written from it by `npm run openapi`; test/service/openapi.test.ts fails
 * when the checked-in copy is out of date). A running service serves the same at /openapi.json.
 */
import { DEFAULT_SETTINGS } from '../core/settings.js';
import type { Db } from '../db/store.js';
import { buildService } from './app.js';

export async function openApiDocument(version: string): Promise<unknown> {
  const unused = () => {
    throw new Error('the OpenAPI document is made without a database');
  };
  const app = await buildService({
    core: {
      deps: { db: {} as Db, clock: () => 0, random: unused, origin: { host: '', osUser: '' }, keyring: unused },
      settings: async () => DEFAULT_SETTINGS,
    },
    version,
    logger: false,
  });
  await app.ready();
  const doc = app.swagger();
  await app.close();
  return doc;
}
