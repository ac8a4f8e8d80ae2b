import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The example models' own suites use node:test (their builds have no node_modules);
    // test/unit/models.test.ts runs them.
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // CDK synth and the local-cloud workflows are slow on a 2-core machine; a timeout
    // here is a hang detector, not a performance assertion.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
