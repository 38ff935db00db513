import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The suites mostly wait on git, child processes and sockets, so more workers than cores pays.
    maxWorkers: 4,
    minWorkers: 1,
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default'],
  },
});
