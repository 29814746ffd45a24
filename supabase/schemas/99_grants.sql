-- ============================================================================
-- GRANTS: the one place privileges are given. The API roles (anon,
-- authenticated) get nothing; service_role, the app's only role, gets what it
-- uses. Applied to every object the area files created; then default
-- privileges, so a function added by a later migration is never callable by
-- anon, authenticated or PUBLIC: that migration grants service_role what it
-- adds (the schema test fails if it does not, as the schema lint does).
-- ============================================================================

-- ----------------------------------------------------------------------------
-- What exists: every table, sequence and function of public; trigger
-- functions in private run only as triggers (nobody is granted them)
-- ----------------------------------------------------------------------------
-- the private schema holds trigger functions: nobody but its owner uses it
revoke all on schema private from public, anon, authenticated;

do $grants$
declare
  -- append-only: the app reads and adds, never changes or deletes
  v_append_only constant text[] := array['audit_log'];
  v_object record;
begin
  for v_object in
    select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'S') order by c.relkind, c.relname
  loop
    if v_object.relkind = 'S' then
      execute format('revoke all on sequence public.%I from public, anon, authenticated', v_object.relname);
      execute format('grant usage, select on sequence public.%I to service_role', v_object.relname);
    else
      execute format('revoke all on table public.%I from public, anon, authenticated', v_object.relname);
      execute format('grant %s on table public.%I to service_role',
                     case when v_object.relname = any (v_append_only) then 'select, insert' else 'select, insert, update, delete' end,
                     v_object.relname);
    end if;
  end loop;

  for v_object in
    select p.oid::regprocedure as signature, n.nspname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname in ('public', 'private') order by 1
  loop
    execute format('revoke execute on function %s from public, anon, authenticated', v_object.signature);
    if v_object.nspname = 'public' then
      execute format('grant execute on function %s to service_role', v_object.signature);
    end if;
  end loop;
end
$grants$;

-- ----------------------------------------------------------------------------
-- What later migrations add (objects created by the role that runs them).
-- PUBLIC's execute on new functions can only be revoked globally. service_role
-- gets no default: the local bootstrap revokes its defaults at every start.
-- ----------------------------------------------------------------------------
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke all on tables from anon, authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;
alter default privileges in schema public revoke all on functions from anon, authenticated;
