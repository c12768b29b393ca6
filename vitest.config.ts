import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests bind only 127.0.0.1; nothing here may reach the network beyond it.
    env: { NO_PROXY: '127.0.0.1,localhost' },
  },
});
