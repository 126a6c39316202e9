import { defineConfig } from 'vitest/config';

// The unit tier: no broker, so no global setup starting one; every spec but the *.int.spec.ts.
export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts', 'examples/*.spec.ts'],
    exclude: ['**/node_modules/**', 'test/**/*.int.spec.ts'],
    setupFiles: ['test/fast-check-seed.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    reporters: ['default'],
  },
});
