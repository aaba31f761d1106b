import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../app.js';
import { registerHealth } from './health.js';
import { registerReports } from './reports.js';
import { registerSelf } from './self.js';
import { registerSignIn } from './signIn.js';
import { registerSupport } from './support.js';

/** Every endpoint, in the order the OpenAPI document lists them. */
export async function registerRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  registerHealth(app, deps);
  registerSignIn(app, deps);
  registerSelf(app, deps);
  registerSupport(app, deps);
  registerReports(app, deps);
}
