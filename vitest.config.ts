import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

const UNIT = 'test/unit/**/*.test.ts';
const CLUSTER = 'test/cluster/**/*.test.ts';
const SHAPES = 'test/shapes/**/*.test.ts';
const PACKAGE = 'test/package/**/*.test.ts';
const REMOTE = 'test/remote/**/*.test.ts';
const SERVICE = ['test/service/**/*.test.ts', 'test/examples/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Server stop waits up to 10 s for SIGTERM before SIGKILL.
    teardownTimeout: 30_000,
    pool: 'forks',
    // PORTAL_MFA_TEST_CPU=FILE logs each test's CPU (test/support/cpuProbe.ts; node scripts/test-cost.mjs FILE)
    setupFiles: process.env.PORTAL_MFA_TEST_CPU ? ['test/support/cpuProbe.ts'] : [],
    fileParallelism: true,
    poolOptions: {
      // One more worker than cores: the files still wait on MariaDB and on the subprocesses they
      // start (races, faults, PTY), so a third file fills the idle time. More would only contend.
      forks: { minForks: 1, maxForks: Math.max(2, availableParallelism() + 1) },
    },
    // describeEachDatabase relies on "after" hooks running in reverse order (DB dropped last).
    sequence: { hooks: 'stack' },
    projects: [
      // Pure functions: no database, no server, no build (`npx vitest run --project unit`).
      { extends: true, test: { name: 'unit', include: [UNIT] } },
      {
        extends: true,
        test: {
          name: 'db',
          include: ['test/**/*.test.ts'],
          exclude: [UNIT, CLUSTER, SHAPES, PACKAGE, REMOTE, ...SERVICE],
          // Starts a throw-away MariaDB (or uses PORTAL_MFA_TEST_MYSQL_URL) shared by this project's files.
          globalSetup: ['test/support/globalSetup.ts'],
        },
      },
      // The 3-node Galera cluster (`npm run test:cluster`): it starts its own three servers, and their
      // state transfers alone take longer on a 2-core machine than the rest of the suite, so it is
      // not part of `npm test`; `npm run test:ci` (what CI runs) runs both.
      { extends: true, test: { name: 'cluster', include: [CLUSTER] } },
      // Existing portals (Laravel + Jetstream, Django + django-organizations, a custom schema) on both
      // databases, with a least-privilege account on MariaDB (`npm run test:shapes`; part of test:ci).
      { extends: true, test: { name: 'shapes', include: [SHAPES], globalSetup: ['test/support/globalSetup.ts'] } },
      // The remote CLI (issue 24): the developer's stories run locally and against `serve` over the same
      // database (`npm run test:remote`; part of test:ci), kept out of `npm test` for its time.
      { extends: true, test: { name: 'remote', include: [REMOTE], globalSetup: ['test/support/globalSetup.ts'] } },
      // The HTTP side (issues 22, 24): the service's API on both databases, `serve` as a process with
      // the Python client, and the example portal backend driven over HTTP (`npm run test:service`;
      // part of test:ci) — servers and child processes, kept out of `npm test` for its time.
      { extends: true, test: { name: 'service', include: SERVICE, globalSetup: ['test/support/globalSetup.ts'] } },
      // The packed tarball installed into a fresh MySQL-only project, used from CommonJS and ESM
      // (`npm run test:package`; part of test:ci): it needs the npm registry or its cache.
      { extends: true, test: { name: 'package', include: [PACKAGE], globalSetup: ['test/support/globalSetup.ts'] } },
    ],
  },
});
