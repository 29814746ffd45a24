-- ============================================================================
-- CONTRACT FIXTURES: functions that show what PostgREST does to an RPC (row cap,
-- time-out, result shapes, status codes). Not a migration: the contract suite
-- applies them to the embedded database itself; an operator applies them once
-- to a STAGING project (SQL editor or psql) before `npm run test:contract`.
-- ============================================================================

create or replace function public.contract_many(p_n int)
returns setof int
language sql
immutable
set search_path = ''
as $$ select generate_series(1, p_n) $$;

create or replace function public.contract_column(p_n int)
returns table (x int)
language sql
immutable
set search_path = ''
as $$ select generate_series(1, p_n) $$;

create or replace function public.contract_void()
returns void
language sql
volatile
set search_path = ''
as $$ select null::void $$;

create or replace function public.contract_nap(p_seconds float)
returns int
language sql
volatile
set search_path = ''
as $$ select 1 from pg_catalog.pg_sleep(p_seconds) $$;

create or replace function public.contract_raise(p_code text)
returns void
language plpgsql
volatile
set search_path = ''
as $$ begin raise exception 'contract error %', p_code using errcode = p_code; end $$;

revoke execute on function public.contract_many(int) from public, anon, authenticated;
revoke execute on function public.contract_column(int) from public, anon, authenticated;
revoke execute on function public.contract_void() from public, anon, authenticated;
revoke execute on function public.contract_nap(float) from public, anon, authenticated;
revoke execute on function public.contract_raise(text) from public, anon, authenticated;
grant execute on function public.contract_many(int) to service_role;
grant execute on function public.contract_column(int) to service_role;
grant execute on function public.contract_void() to service_role;
grant execute on function public.contract_nap(float) to service_role;
grant execute on function public.contract_raise(text) to service_role;
