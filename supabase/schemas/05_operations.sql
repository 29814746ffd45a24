-- ============================================================================
-- OPERATIONS: scheduled job runs, health and housekeeping
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
-- job_run_claim / job_run_finish: a process takes a job's slot (false when
-- another one has it) and records how it went
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
-- housekeeping_prune: forget inbound ids and finished job runs past their use,
-- codes that expired long ago, and a contact who declined or erased her data
-- whose goodbye could never be sent
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
  v_codes int;
  v_forgotten int;
  v_links int;
begin
  delete from public.inbound_log where received_at < p_before;
  get diagnostics v_inbound = row_count;
  delete from public.job_runs where finished_at < p_before;
  get diagnostics v_runs = row_count;
  delete from public.link_codes where expires_at < p_before;
  get diagnostics v_codes = row_count;
  delete from public.contacts
   where consent = 'declined' and family_id is null and staff_id is null and conversation = '{}'::jsonb and updated_at < p_before;
  get diagnostics v_forgotten = row_count;
  delete from public.media_fetches where fetched_at < p_before;
  get diagnostics v_links = row_count;
  return jsonb_build_object('inbound_ids_pruned', v_inbound, 'job_runs_pruned', v_runs, 'codes_pruned', v_codes, 'declined_contacts_deleted', v_forgotten,
                            'media_links_pruned', v_links);
end;
$$;
