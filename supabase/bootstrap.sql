-- ============================================================================
-- Bootstrap for databases that are NOT Supabase (embedded PGlite, a plain
-- PostgreSQL 15+). Creates Supabase's API roles and the auth helpers the
-- migrations may rely on, each only where missing, so it is a no-op on Supabase.
-- Never listed in supabase/migrations: `supabase db push` does not see it.
-- ============================================================================

do $bootstrap$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
    -- Supabase's own default: new objects in public are open to the API roles,
    -- so migrations must revoke explicitly. Reproduced here to keep tests honest.
    execute 'alter default privileges in schema public grant all on tables to anon, authenticated, service_role';
    execute 'alter default privileges in schema public grant all on functions to anon, authenticated, service_role';
    execute 'alter default privileges in schema public grant all on sequences to anon, authenticated, service_role';
  end if;
end
$bootstrap$;

-- The connecting role switches to the API roles with SET ROLE, as PostgREST's authenticator does.
grant anon, authenticated, service_role to current_user;
grant usage on schema public to anon, authenticated, service_role;

create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

do $auth$
begin
  if to_regprocedure('auth.jwt()') is null then
    execute $f$
      create function auth.jwt() returns jsonb language sql stable set search_path = '' as
      $$ select coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb $$
    $f$;
  end if;
  if to_regprocedure('auth.role()') is null then
    execute $f$
      create function auth.role() returns text language sql stable set search_path = '' as
      $$ select auth.jwt() ->> 'role' $$
    $f$;
  end if;
  if to_regprocedure('auth.uid()') is null then
    execute $f$
      create function auth.uid() returns uuid language sql stable set search_path = '' as
      $$ select nullif(auth.jwt() ->> 'sub', '')::uuid $$
    $f$;
  end if;
end
$auth$;
