-- ============================================================================
-- OPERATIONS: health, scheduled-job runs, housekeeping
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Job runs: one row per job and slot, so N processes run each slot once
-- ----------------------------------------------------------------------------
create table public.job_runs (
  job text not null check (job ~ '^[a-z_-]{2,40}$'),
  -- the period the run covers, e.g. 2026-11-23T10:00 for an hourly job
  slot text not null,
  started_at timestamptz not null,
  finished_at timestamptz,
  summary jsonb,
  primary key (job, slot)
);
comment on table public.job_runs is 'Each scheduled job run by slot: the unique key lets only one process run a slot.';

alter table public.job_runs enable row level security;
revoke all on table public.job_runs from public, anon, authenticated;
grant select, insert, update, delete on table public.job_runs to service_role;

-- ----------------------------------------------------------------------------
-- health(): the database answers, and which migration it is at
-- ----------------------------------------------------------------------------
create function public.health()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_version text;
begin
  -- the Supabase CLI and the embedded runner both record migrations here
  if to_regclass('supabase_migrations.schema_migrations') is not null then
    execute 'select max(version) from supabase_migrations.schema_migrations' into v_version;
  end if;
  return jsonb_build_object('ok', true, 'schema_version', v_version);
end;
$$;

-- ----------------------------------------------------------------------------
-- Job runs
-- ----------------------------------------------------------------------------
create function public.job_run_claim(p_job text, p_slot text, p_now timestamptz)
returns boolean
language sql
volatile
set search_path = ''
as $$
  with claimed as (
    insert into public.job_runs (job, slot, started_at)
    values (p_job, p_slot, p_now)
    on conflict (job, slot) do nothing
    returning 1
  )
  select exists (select 1 from claimed);
$$;

create function public.job_run_finish(p_job text, p_slot text, p_now timestamptz, p_summary jsonb)
returns void
language sql
volatile
set search_path = ''
as $$
  update public.job_runs
     set finished_at = p_now, summary = p_summary
   where job = p_job and slot = p_slot;
$$;

-- ----------------------------------------------------------------------------
-- Housekeeping: forget inbound ids and finished job runs past their use
-- ----------------------------------------------------------------------------
create function public.housekeeping_prune(p_before timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_inbound int;
  v_runs int;
begin
  delete from public.inbound_log where received_at < p_before;
  get diagnostics v_inbound = row_count;
  delete from public.job_runs where finished_at < p_before;
  get diagnostics v_runs = row_count;
  return jsonb_build_object('inbound_ids_pruned', v_inbound, 'job_runs_pruned', v_runs);
end;
$$;

-- ----------------------------------------------------------------------------
-- Grants
-- ----------------------------------------------------------------------------
revoke execute on function public.health() from public, anon, authenticated;
revoke execute on function public.job_run_claim(text, text, timestamptz) from public, anon, authenticated;
revoke execute on function public.job_run_finish(text, text, timestamptz, jsonb) from public, anon, authenticated;
revoke execute on function public.housekeeping_prune(timestamptz) from public, anon, authenticated;
grant execute on function public.health() to service_role;
grant execute on function public.job_run_claim(text, text, timestamptz) to service_role;
grant execute on function public.job_run_finish(text, text, timestamptz, jsonb) to service_role;
grant execute on function public.housekeeping_prune(timestamptz) to service_role;
