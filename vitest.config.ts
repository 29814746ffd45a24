import { defineConfig } from 'vitest/config';

// test/test-command.test.ts runs a deliberately failing file through this same configuration
const extra = process.env.FAMILYBOT_EXTRA_TEST ? [process.env.FAMILYBOT_EXTRA_TEST] : [];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', ...extra],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
  },
});
