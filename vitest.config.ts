import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts', 'examples/*.spec.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/fast-check-seed.ts'],
    // librdkafka is a native addon with its own threads: one process per test file.
    pool: 'forks',
    // Integration tests share one broker and two cores; running files one at a time keeps
    // timings honest and failures readable.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
