import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { findPostgres15 } from './test/support/postgres-servers';

// test/test-command.test.ts runs a deliberately failing file through this same configuration
const extra = process.env.FAMILYBOT_EXTRA_TEST ? [process.env.FAMILYBOT_EXTRA_TEST] : [];

const ROOT = fileURLToPath(new URL('.', import.meta.url));

/** Test files under `dir` that get their database from `pgliteDb()`, directly or through the Telegram stack. */
function testsOnTheDoor(dir: string): string[] {
  return readdirSync(`${ROOT}${dir}`, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `${dir}/${f}`)
    .filter((f) => /\b(pgliteDb|telegramStack)\(/.test(readFileSync(`${ROOT}${f}`, 'utf8')));
}

const shared = { testTimeout: 30_000, hookTimeout: 60_000, pool: 'forks' } as const;

// The flow suite once more with `pgliteDb()` on PostgreSQL 15: the same tests, another database (issue 19).
const pg15: TestProjectInlineConfiguration = {
  test: { ...shared, name: 'pg15', include: [...testsOnTheDoor('test/features'), ...testsOnTheDoor('test/router'), ...testsOnTheDoor('test/core'), ...testsOnTheDoor('test/functions')], provide: { flowDatabase: 'pg15' } },
};
// As with Chromium: a newcomer without PostgreSQL 15 is told and the pass is left out; under CI the global setup fails instead.
const havePg15 = findPostgres15() !== null || Boolean(process.env.CI);
if (!havePg15) console.warn('PostgreSQL 15 not found (install postgresql-15 or set PG15_BIN): the pg15 pass of the flow tests is skipped');

export default defineConfig({
  test: {
    // Only at the root: vitest runs the root's global setup once, and every project sees what it provides.
    globalSetup: ['test/support/global-setup.ts'],
    projects: [
      { test: { ...shared, name: 'default', include: ['test/**/*.test.ts', ...extra] } },
      ...(havePg15 ? [pg15] : []),
    ],
  },
});
