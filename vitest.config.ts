import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/api/src/**/*.test.ts', 'apps/worker/src/**/*.test.ts', 'apps/cli/src/**/*.test.ts', 'demo/**/*.test.ts'],
    globalSetup: ['./packages/db/src/testing/global-setup.ts'],
    // Generous: worker processes compile TypeScript at start, and CI has two shared cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: more workers only add contention for PostgreSQL.
    maxWorkers: 2,
  },
});
