import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts a throw-away MariaDB (or uses PORTAL_MFA_TEST_MYSQL_URL) shared by all test files.
    globalSetup: ['test/support/globalSetup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Server stop waits up to 10 s for SIGTERM before SIGKILL.
    teardownTimeout: 30_000,
    pool: 'forks',
    // Test files run in parallel, but at most 2 at a time (2-core machine, one MariaDB).
    fileParallelism: true,
    poolOptions: {
      forks: { minForks: 1, maxForks: 2 },
    },
    // describeEachDatabase relies on "after" hooks running in reverse order (DB dropped last).
    sequence: { hooks: 'stack' },
  },
});
