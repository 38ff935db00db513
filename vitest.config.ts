import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The console's component tests (packages/web/test/unit/*.test.tsx) use React's automatic JSX runtime.
  esbuild: { jsx: 'automatic' },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'packages/*/test/**/*.test.tsx', 'test/**/*.test.ts'],
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
