import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonKey, serviceKey, supabaseClient, type Db } from '../../bot/db/client';
import type { SqlExecutor } from '../../bot/db/executor';
import { signJwt } from '../../bot/db/jwt';
import { createRpcTransport, durationMs, httpStatusFor, maxRowsFromConfig, supabaseLimits, SUPABASE_STATEMENT_TIMEOUTS, type RpcTransport } from '../../bot/db/rpc-transport';
import { postgresExecutor } from '../../bot/db/executor';
import { RpcError } from '../../bot/db/rpc';
import { databaseUnreachable } from '../../functions/whatsapp-spool';
import { freshPglite, migratedPostgres } from '../support/databases';
import { freePort } from '../support/processes';

const SECRET = 'test-secret-0123456789abcdef0123456789';

/** Functions that exercise every result shape and error path PostgREST has. */
const FIXTURES = `
  create table public.t_items (id int primary key, label text not null);
  alter table public.t_items enable row level security;
  create function public.t_add(a int, b int default 10) returns int language sql immutable as $$ select a + b $$;
  create function public.t_item(p_id int) returns public.t_items language sql stable as $$ select * from public.t_items where id = p_id $$;
  create function public.t_items_upto(p_max int) returns setof public.t_items language sql stable as $$ select * from public.t_items where id <= p_max order by id $$;
  create function public.t_labels() returns setof text language sql stable as $$ select label from public.t_items order by id $$;
  create function public.t_pairs(p_n int) returns table (n int, sq int) language sql immutable as $$ select g, g * g from generate_series(1, p_n) g $$;
  create function public.t_insert(p_id int, p_label text) returns void language sql volatile as $$ insert into public.t_items values (p_id, p_label) $$;
  create function public.t_fail(p_message text) returns void language plpgsql as $$ begin raise exception '%', p_message using detail = 'd', hint = 'h'; end $$;
  create function public.t_teapot() returns void language plpgsql as $$ begin raise exception 'short and stout' using errcode = 'PT418'; end $$;
  create function public.t_write(p_id int) returns int language sql volatile as $$ insert into public.t_items values (p_id, 'x') returning id $$;
  -- declared STABLE but reaches a write: only the read-only transaction stops it
  create function public.t_sneaky_write(p_id int) returns int language sql stable as $$ select public.t_write(p_id) $$;
  create function public.t_whole(jsonb) returns jsonb language sql immutable as $$ select $1 $$;
  create function public.t_tags(p_tags text[], p_meta jsonb) returns jsonb language sql immutable as $$ select jsonb_build_object('n', cardinality(p_tags), 'meta', p_meta) $$;
  create function public.t_who() returns jsonb language sql stable as $$ select jsonb_build_object('role', current_user, 'claims', current_setting('request.jwt.claims', true)::jsonb) $$;
  create function public.t_over(a int) returns int language sql as $$ select 1 $$;
  create function public.t_over(a int, b int default 0) returns int language sql as $$ select 2 $$;
  create function public.t_many(p_n int) returns setof int language sql immutable as $$ select generate_series(1, p_n) $$;
  create function public.t_column(p_n int) returns table (x int) language sql immutable as $$ select generate_series(1, p_n) $$;
  create function public.t_mixed(jsonb) returns text language sql immutable as $$ select 'whole body' $$;
  create function public.t_mixed(p_a int) returns text language sql immutable as $$ select 'named' $$;
  create function public.t_path() returns text language sql stable as $$ select current_setting('search_path') $$;
  create function public.t_sleep(p_s float) returns int language sql volatile as $$ select 1 from pg_sleep(p_s) $$;
  create function public.t_patient(p_s float) returns int language sql volatile set statement_timeout = '5s' as $$ select 1 from pg_sleep(p_s) $$;
  create function public.t_cardinality() returns int language sql stable as $$ select (select id from public.t_items) $$;
  revoke execute on all functions in schema public from public, anon, authenticated;
  grant execute on all functions in schema public to service_role;
  grant select, insert on public.t_items to service_role;
  insert into public.t_items values (1, 'one'), (2, 'two'), (3, 'three');
`;

describe.each([
  ['PGlite', () => freshPglite().then((executor) => ({ executor, close: () => executor.close() }))],
  ['PostgreSQL', () => migratedPostgres()],
] as const)('supabase-js .rpc() through the embedded transport on %s', (_name, open) => {
  let db: { executor: SqlExecutor; close(): Promise<void> };
  let transport: RpcTransport;
  let service: Db;

  beforeAll(async () => {
    db = await open();
    await db.executor.transaction((s) => s.exec(FIXTURES));
    transport = createRpcTransport({ executor: db.executor, jwtSecret: SECRET });
    service = supabaseClient('http://embedded.local', serviceKey(SECRET), transport.fetch);
  });
  afterAll(() => db.close());

  it('returns a scalar as a bare value, with defaults filled in', async () => {
    expect(await service.rpc('t_add', { a: 2, b: 3 })).toMatchObject({ data: 5, status: 200 });
    expect(await service.rpc('t_add', { a: 2 })).toMatchObject({ data: 12, status: 200 });
  });

  it('returns a composite as an object', async () => {
    expect(await service.rpc('t_item', { p_id: 2 })).toMatchObject({ data: { id: 2, label: 'two' }, status: 200 });
  });

  it('returns a set as an array, in order, also for TABLE and SETOF scalar', async () => {
    expect((await service.rpc('t_items_upto', { p_max: 2 })).data).toEqual([{ id: 1, label: 'one' }, { id: 2, label: 'two' }]);
    expect((await service.rpc('t_items_upto', { p_max: 0 })).data).toEqual([]);
    expect((await service.rpc('t_labels')).data).toEqual(['one', 'two', 'three']);
    expect((await service.rpc('t_pairs', { p_n: 3 })).data).toEqual([{ n: 1, sq: 1 }, { n: 2, sq: 4 }, { n: 3, sq: 9 }]);
  });

  it('answers 204 with no body for a void function, and the write is committed', async () => {
    const res = await service.rpc('t_insert', { p_id: 10, p_label: 'ten' });
    expect(res).toMatchObject({ data: null, error: null, status: 204 });
    expect((await service.rpc('t_item', { p_id: 10 })).data).toEqual({ id: 10, label: 'ten' });
  });

  it('takes arguments from the query string on GET, read-only', async () => {
    expect(await service.rpc('t_add', { a: 40, b: 2 }, { get: true })).toMatchObject({ data: 42, status: 200 });
    const write = await service.rpc('t_insert', { p_id: 11, p_label: 'x' }, { get: true });
    expect(write.status).toBe(405);
    expect(write.error?.code).toBe('25006');
  });

  it('passes the whole body to a single unnamed jsonb parameter, and converts arrays and objects', async () => {
    expect((await service.rpc('t_whole', { any: ['thing', 1] })).data).toEqual({ any: ['thing', 1] });
    expect((await service.rpc('t_tags', { p_tags: ['a', 'b'], p_meta: { k: 'v' } })).data).toEqual({ n: 2, meta: { k: 'v' } });
  });

  it('runs as the role in the JWT with its claims visible to SQL', async () => {
    const { data } = await service.rpc('t_who');
    expect(data).toMatchObject({ role: 'service_role', claims: { role: 'service_role' } });
  });

  it.each([
    ['a unique violation', 't_insert', { p_id: 1, p_label: 'dup' }, 409, '23505'],
    ['raise exception', 't_fail', { p_message: 'no way' }, 400, 'P0001'],
    ['an unknown function', 't_missing', { x: 1 }, 404, 'PGRST202'],
    ['an unknown argument name', 't_add', { a: 1, zzz: 2 }, 404, 'PGRST202'],
    ['bad input for the type', 't_add', { a: 'abc' }, 400, '22P02'],
    ['a write inside a STABLE function', 't_sneaky_write', { p_id: 99 }, 405, '25006'],
    ['a custom PT status', 't_teapot', {}, 418, 'PT418'],
    ['an ambiguous overload', 't_over', { a: 1 }, 300, 'PGRST203'],
  ])('maps %s (%s %o) to HTTP %i with code %s', async (_what, fn, args, status, code) => {
    const res = await service.rpc(fn, args);
    expect(res.status).toBe(status);
    expect(res.error).toMatchObject({ code });
    expect(Object.keys(res.error ?? {}).sort()).toEqual(['code', 'details', 'hint', 'message']);
  });

  it('carries message, details and hint of a raised exception', async () => {
    const { error } = await service.rpc('t_fail', { p_message: 'no way' });
    expect(error).toMatchObject({ message: 'no way', details: 'd', hint: 'h' });
  });

  it('refuses anonymous callers with 401 and a forged key with 401 PGRST301', async () => {
    const anon = supabaseClient('http://embedded.local', anonKey(SECRET), transport.fetch);
    const a = await anon.rpc('t_add', { a: 1 });
    expect([a.status, a.error?.code]).toEqual([401, '42501']);
    const forged = supabaseClient('http://embedded.local', signJwt({ role: 'service_role' }, 'not-the-secret'), transport.fetch);
    const f = await forged.rpc('t_add', { a: 1 });
    expect([f.status, f.error?.code]).toEqual([401, 'PGRST301']);
    const expired = supabaseClient('http://embedded.local', signJwt({ role: 'service_role', exp: 1 }, SECRET), transport.fetch);
    expect((await expired.rpc('t_add', { a: 1 })).error?.code).toBe('PGRST303');
  });

  it('answers 403 to a signed-in role without the grant', async () => {
    const user = supabaseClient('http://embedded.local', signJwt({ role: 'authenticated', sub: '00000000-0000-0000-0000-000000000001' }, SECRET), transport.fetch);
    const res = await user.rpc('t_add', { a: 1 });
    expect([res.status, res.error?.code]).toEqual([403, '42501']);
  });

  it('caps a set at max_rows from supabase/config.toml, silently, as PostgREST does', async () => {
    expect(supabaseLimits().maxRows).toBe(1000);
    const res = await transport.handle(new Request('http://embedded.local/rest/v1/rpc/t_many', { method: 'POST', body: JSON.stringify({ p_n: 1500 }), headers: { authorization: `Bearer ${serviceKey(SECRET)}` } }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-range')).toBe('0-999/*');
    const rows = (await res.json()) as number[];
    expect([rows.length, rows[0], rows.at(-1)]).toEqual([1000, 1, 1000]);
    // a jsonb value is one row, whatever it holds
    expect((await service.rpc('t_whole', { rows: Array.from({ length: 1500 }, (_, i) => i) })).data).toMatchObject({ rows: { length: 1500 } });
    expect((await service.rpc('t_many', { p_n: 999 })).data).toHaveLength(999);
  });

  it('returns a one-column TABLE as objects, not bare values', async () => {
    expect((await service.rpc('t_column', { p_n: 2 })).data).toEqual([{ x: 1 }, { x: 2 }]);
  });

  it('prefers the function whose argument names match over one taking the whole body', async () => {
    expect((await service.rpc('t_mixed', { p_a: 1 })).data).toBe('named');
    expect((await service.rpc('t_mixed', { other: 1 })).data).toBe('whole body');
  });

  it('runs each call with search_path "public, extensions"', async () => {
    expect((await service.rpc('t_path')).data).toBe('public, extensions');
  });

  it('maps a cardinality violation to 500 and a role the database lacks to 401', async () => {
    const many = await service.rpc('t_cardinality');
    expect([many.status, many.error?.code]).toEqual([500, '21000']);
    const ghost = supabaseClient('http://embedded.local', signJwt({ role: 'no_such_role' }, SECRET), transport.fetch);
    const res = await ghost.rpc('t_add', { a: 1 });
    expect([res.status, res.error?.code]).toEqual([401, '22023']);
  });

  it("stops a call that runs past the role's statement time-out with 500 57014, unless the function sets its own", async () => {
    const strict = createRpcTransport({ executor: db.executor, jwtSecret: SECRET, limits: { maxRows: 1000, statementTimeout: { service_role: '300ms' } } });
    const client = supabaseClient('http://embedded.local', serviceKey(SECRET), strict.fetch);
    const slow = await client.rpc('t_sleep', { p_s: 0.6 });
    expect([slow.status, slow.error?.code]).toEqual([500, '57014']);
    expect((await client.rpc('t_patient', { p_s: 0.6 })).data).toBe(1);
    expect((await client.rpc('t_sleep', { p_s: 0.05 })).data).toBe(1);
  });

  it('rejects a body that is not a JSON object with PGRST102', async () => {
    const res = await transport.handle(new Request('http://embedded.local/rest/v1/rpc/t_add', { method: 'POST', body: '[1,2]', headers: { authorization: `Bearer ${serviceKey(SECRET)}` } }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('PGRST102');
  });
});

describe('the SQLSTATE to HTTP table', () => {
  it.each([
    ['08006', 503], ['09000', 500], ['0L000', 403], ['0P000', 403], ['23503', 409], ['23505', 409], ['25006', 405], ['25001', 500],
    ['28000', 403], ['2D000', 500], ['38000', 500], ['39000', 500], ['3B000', 500], ['40001', 500], ['53400', 500], ['53100', 503],
    ['54000', 500], ['55000', 500], ['57014', 500], ['58000', 500], ['F0000', 500], ['HV000', 500], ['P0001', 400], ['P0002', 500],
    ['XX000', 500], ['42883', 404], ['42P01', 404], ['42P17', 500], ['22P02', 400], ['23502', 400], ['23514', 400], ['PT402', 402],
    ['21000', 500], ['57P01', 503], ['57P02', 500], ['22023', 400],
  ])('%s → %i', (code, status) => {
    expect(httpStatusFor(code, false)).toBe(status);
  });
  it("a role the JWT names but the database lacks is 401; pg-safeupdate's refusal is 400", () => {
    expect(httpStatusFor('22023', false, 'role "x" does not exist')).toBe(401);
    expect(httpStatusFor('21000', false, 'DELETE requires a WHERE clause')).toBe(400);
  });
  it('42501 is 401 for the anonymous role and 403 otherwise', () => {
    expect([httpStatusFor('42501', true), httpStatusFor('42501', false)]).toEqual([401, 403]);
  });
});

describe('a PostgreSQL that cannot be reached', () => {
  it("answers 503 PGRST000, as PostgREST does, not a client error: callers (the WhatsApp spool) see it as unreachable", async () => {
    const executor = postgresExecutor(`postgres://nobody@127.0.0.1:${await freePort()}/nothing`);
    try {
      const client = supabaseClient('http://embedded.local', serviceKey(SECRET), createRpcTransport({ executor, jwtSecret: SECRET }).fetch);
      const res = await client.rpc('health');
      expect([res.status, res.error?.code, res.error?.message]).toEqual([503, 'PGRST000', 'Could not connect with the database']);
      expect(databaseUnreachable(new RpcError('health', res.error!, res.status))).toBe(true);
    } finally {
      await executor.close();
    }
  });
});

describe("Supabase's limits, as the transport reads them", () => {
  it.each([
    ['[api]\nport = 1\nmax_rows = 250\n[db]\nmax_rows = 9', 250],
    ['[api]\nenabled = true\n', 1000],
    ['[db]\nmax_rows = 9\n', 1000],
  ])('max_rows of %j is %i', (toml, rows) => {
    expect(maxRowsFromConfig(toml)).toBe(rows);
  });
  it('gives service_role 8 s, authenticated 8 s, anon 3 s', () => {
    expect(Object.fromEntries(Object.entries(SUPABASE_STATEMENT_TIMEOUTS).map(([r, v]) => [r, durationMs(v)]))).toEqual({ anon: 3000, authenticated: 8000, service_role: 8000 });
  });
});

describe('the 8-second time-out on a real PostgreSQL', () => {
  it("cancels a service_role call that sleeps 9 s and answers with PostgREST's status", async () => {
    const pg = await migratedPostgres();
    try {
      await pg.executor.transaction((s) => s.exec(`create function public.t_nap() returns int language sql volatile as $$ select 1 from pg_sleep(9) $$;
        revoke execute on function public.t_nap() from public, anon, authenticated; grant execute on function public.t_nap() to service_role;`));
      const client = supabaseClient('http://embedded.local', serviceKey(SECRET), createRpcTransport({ executor: pg.executor, jwtSecret: SECRET }).fetch);
      const started = performance.now();
      const res = await client.rpc('t_nap');
      expect([res.status, res.error?.code]).toEqual([500, '57014']);
      expect(performance.now() - started).toBeLessThan(8900);
    } finally {
      await pg.close();
    }
  }, 20_000);
});
