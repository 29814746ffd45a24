import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

/**
 * `npm run test:contract [-- --url https://<project>.supabase.co --key <service_role key> [--max-rows 1000]]`:
 * PostgREST's contract cases (test/contract) against the embedded transport, or against a staging project once
 * supabase/contract/postgrest.sql is applied there. The key is passed through the environment, never printed.
 */
const { values } = parseArgs({ options: { url: { type: 'string' }, key: { type: 'string' }, 'max-rows': { type: 'string' } } });
if (values.url && !values.key) {
  console.error('usage: npm run test:contract -- --url <project url> --key <service_role key> [--max-rows N]');
  process.exit(2);
}
const env = { ...process.env, ...(values.url ? { CONTRACT_URL: values.url, CONTRACT_KEY: values.key } : {}), ...(values['max-rows'] ? { CONTRACT_MAX_ROWS: values['max-rows'] } : {}) };
const run = spawnSync('npx', ['vitest', 'run', '--project', 'default', 'test/contract'], { stdio: 'inherit', env });
process.exit(run.status ?? 1);
