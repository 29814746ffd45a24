import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supabaseClient } from '../../bot/db/client';
import { attempt, call, RpcError } from '../../bot/db/rpc';
import { pgliteDb, type TestDb } from '../support/door';

/** A function that refuses its argument with a SQLSTATE, as the app's functions do. */
const FIXTURES = `
  create function public.t_rpc_refuse(p_what text) returns void language plpgsql as $$
  begin raise exception 'cannot take %', p_what using errcode = '22023', detail = 'it is too big', hint = 'send less'; end $$;
  create function public.t_rpc_double(p_n int) returns int language sql immutable as $$ select p_n * 2 $$;
  revoke execute on function public.t_rpc_refuse(text), public.t_rpc_double(int) from public, anon, authenticated;
  grant execute on function public.t_rpc_refuse(text), public.t_rpc_double(int) to service_role;
`;

describe('the RPC helper', () => {
  let t: TestDb;

  beforeAll(async () => {
    t = await pgliteDb();
    await t.sql.transaction((s) => s.exec(FIXTURES));
  });
  afterAll(() => t.close());

  it('returns the data of a call that succeeds', async () => {
    expect(await call<number>(t.db, 't_rpc_double', { p_n: 21 })).toBe(42);
    expect(await call<{ ok: boolean }>(t.db, 'health')).toMatchObject({ ok: true });
  });

  it.each([
    {
      what: 'a SQLSTATE the function raised',
      fn: 't_rpc_refuse',
      args: { p_what: 'the sea' },
      expected: { fn: 't_rpc_refuse', code: '22023', status: 400, reason: 'cannot take the sea', details: 'it is too big', hint: 'send less' },
    },
    {
      what: "PostgREST's code for an argument the function does not have",
      fn: 't_rpc_double',
      args: { p_m: 1 },
      expected: { fn: 't_rpc_double', code: 'PGRST202', status: 404 },
    },
  ])('throws $what as an RpcError with its code and HTTP status', async ({ fn, args, expected }) => {
    const err = await call(t.db, fn, args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject(expected);
    expect((err as RpcError).message).toBe(`${fn} failed: ${(err as RpcError).reason}`);
  });

  it('keeps the message text callers and logs already rely on', async () => {
    await expect(call(t.db, 't_rpc_refuse', { p_what: 'it' })).rejects.toThrow(/^t_rpc_refuse failed: cannot take it$/);
  });

  it('hands the error back instead of throwing when attempted', async () => {
    expect(await attempt<number>(t.db, 't_rpc_double', { p_n: 2 })).toEqual({ data: 4 });
    const failed = await attempt(t.db, 't_rpc_refuse', { p_what: 'it' });
    expect('error' in failed && failed.error).toMatchObject({ code: '22023', status: 400, message: 't_rpc_refuse failed: cannot take it' });
  });

  it('has no HTTP status when the request never got an answer', async () => {
    const unreachable = supabaseClient('http://embedded.local', 'key', (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch);
    const err = await call(unreachable, 'health').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ fn: 'health', message: expect.stringMatching(/^health failed: .*fetch failed/) });
    expect((err as RpcError).status).toBeUndefined();
  });
});
