import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonKey, supabaseClient, type Db } from '../../bot/db/client';
import type { SqlExecutor } from '../../bot/db/executor';
import { createRpcTransport } from '../../bot/db/rpc-transport';
import { freshPglite } from '../support/databases';

const SECRET = 'anon-test-secret-0123456789abcdef012345';

describe('as anon (and as a signed-in user)', () => {
  let db: SqlExecutor;
  let anon: Db;
  beforeAll(async () => {
    db = await freshPglite();
    // some data in every table that can hold a person's details
    await db.query(`insert into public.families (id, district_code) values ('00000000-0000-0000-0000-0000000000f1', 'milano-1')`);
    await db.query(`insert into public.children (family_id, name, birth_date) values ('00000000-0000-0000-0000-0000000000f1', 'Amina', '2026-03-12')`);
    await db.query(`insert into public.contacts (channel, provider_id, family_id) values ('whatsapp', '+393331234567', '00000000-0000-0000-0000-0000000000f1')`);
    anon = supabaseClient('http://embedded.local', anonKey(SECRET), createRpcTransport({ executor: db, jwtSecret: SECRET }).fetch);
  });
  afterAll(() => db.close());

  it('sees no row of any table', async () => {
    const tables = await db.query<{ name: string }>(`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r'`);
    expect(tables.length).toBeGreaterThanOrEqual(9);
    for (const role of ['anon', 'authenticated']) {
      for (const { name } of tables) {
        const outcome = await db
          .transaction(async (s) => {
            await s.exec(`set local role ${role}`);
            return (await s.query<{ n: number }>(`select count(*)::int as n from public.${name}`))[0]!.n;
          })
          .catch((err: { code?: string }) => err.code);
        // refused outright: the grants are revoked, and RLS would filter anything that slipped through
        expect([`${role}:${name}`, outcome]).toEqual([`${role}:${name}`, '42501']);
      }
    }
  });

  it('can call no function', async () => {
    const fns = await db.query<{ name: string }>(`select distinct p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public' and p.prorettype <> 'trigger'::regtype`);
    // trigger functions cannot be called at all, by anyone (PostgREST does not expose them)
    expect(fns.length).toBeGreaterThan(0);
    for (const { name } of fns) {
      const res = await anon.rpc(name, {}, { get: true });
      // 401 permission denied; 404 only if the arguments do not match, so try with no arguments first and all-null arguments next
      if (res.status === 404) {
        const argNames = await db.query<{ names: string[] }>(
          `select coalesce(array(select u.n from unnest(proargnames, coalesce(proargmodes::text[], array_fill('i'::text, array[pronargs]))) as u(n, m) where u.m in ('i', 'b', 'v')), '{}') as names
             from pg_proc where proname = $1`,
          [name],
        );
        const args = Object.fromEntries((argNames[0]?.names ?? []).map((n) => [n, null]));
        const again = await anon.rpc(name, args);
        expect([name, again.status, again.error?.code]).toEqual([name, 401, '42501']);
      } else {
        expect([name, res.status, res.error?.code]).toEqual([name, 401, '42501']);
      }
    }
  });
});
