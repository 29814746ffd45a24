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
  end if;
  -- Supabase's default since 2026: new objects are NOT open to the API roles (table CRUD, sequence usage and
  -- function execute revoked), so every grant the app needs is explicit in a migration. Mirrored here so a
  -- missing grant fails locally as it would on Supabase.
  execute 'alter default privileges in schema public revoke all on tables from anon, authenticated, service_role';
  execute 'alter default privileges in schema public revoke all on sequences from anon, authenticated, service_role';
  execute 'alter default privileges in schema public revoke all on functions from anon, authenticated, service_role';
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
