import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceKey, supabaseClient, type Db } from '../../bot/db/client';
import { SUPABASE_DIR } from '../../bot/db/migrate';
import { createRpcTransport, supabaseLimits } from '../../bot/db/rpc-transport';
import { freshPglite } from '../support/databases';

/**
 * What PostgREST does to an RPC, as cases that run against a target: the embedded transport (default, in
 * `npm test`), or a real Supabase project given by `npm run test:contract -- --url … --key …` (service_role key;
 * apply supabase/contract/postgrest.sql to that project first). The same expectations hold for both.
 */
const remote = process.env.CONTRACT_URL ? { url: process.env.CONTRACT_URL, key: process.env.CONTRACT_KEY ?? '' } : null;
const MAX_ROWS = Number(process.env.CONTRACT_MAX_ROWS ?? supabaseLimits().maxRows ?? 1000);
const SECRET = 'contract-secret-0123456789abcdef0123456789';

describe(`PostgREST's contract, on ${remote ? remote.url : 'the embedded transport'}`, () => {
  let db: Db;
  let close: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (remote) {
      db = supabaseClient(remote.url, remote.key);
      return;
    }
    const sql = await freshPglite();
    await sql.transaction(async (s) => s.exec(await readFile(join(SUPABASE_DIR, 'contract', 'postgrest.sql'), 'utf8')));
    db = supabaseClient('http://embedded.local', serviceKey(SECRET), createRpcTransport({ executor: sql, jwtSecret: SECRET }).fetch);
    close = () => sql.close();
  });
  afterAll(() => close());

  it(`returns at most max_rows (${MAX_ROWS}) rows of a set, silently`, async () => {
    const res = await db.rpc('contract_many', { p_n: MAX_ROWS + 500 });
    expect(res.status).toBe(200);
    expect(res.error).toBeNull();
    expect((res.data as number[]).length).toBe(MAX_ROWS);
  });

  it('returns a one-column TABLE as objects', async () => {
    expect((await db.rpc('contract_column', { p_n: 2 })).data).toEqual([{ x: 1 }, { x: 2 }]);
  });

  it('answers 204 to a void function', async () => {
    expect(await db.rpc('contract_void')).toMatchObject({ status: 204, data: null, error: null });
  });

  it('cancels a call that runs 9 s with 500 and 57014', async () => {
    const res = await db.rpc('contract_nap', { p_seconds: 9 });
    expect([res.status, res.error?.code]).toEqual([500, '57014']);
  }, 20_000);

  it.each([
    ['21000', 500], ['57P01', 503], ['P0001', 400], ['23505', 409], ['42501', 403], ['PT418', 418], ['53100', 503], ['22012', 400],
  ])('maps a raised %s to HTTP %i', async (code, status) => {
    const res = await db.rpc('contract_raise', { p_code: code });
    expect([res.status, res.error?.code]).toEqual([status, code]);
  });
});
