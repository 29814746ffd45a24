-- ============================================================================
-- STAFF: tutors and coordinators, family assignments, the audit log
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Staff
-- ----------------------------------------------------------------------------
create table public.staff (
  id uuid primary key default gen_random_uuid(),
  role text not null check (role in ('tutor', 'coordinator')),
  full_name text not null check (length(full_name) between 1 and 120),
  email text unique check (email is null or email = lower(email)),
  active boolean not null default true,
  created_at timestamptz not null default now()
);
comment on table public.staff is 'Programme staff: tutors follow families, coordinators run the programme.';

-- ----------------------------------------------------------------------------
-- Family to tutor assignment (history kept: a family has at most one current tutor)
-- ----------------------------------------------------------------------------
create table public.family_assignments (
  id uuid primary key default gen_random_uuid(),
  family_id uuid not null references public.families (id) on delete cascade,
  tutor_id uuid not null references public.staff (id),
  assigned_by uuid references public.staff (id),
  assigned_at timestamptz not null default now(),
  ended_at timestamptz,
  constraint family_assignments_period check (ended_at is null or ended_at >= assigned_at)
);
comment on table public.family_assignments is 'Which tutor follows which family, and since when; ended rows keep the history.';
create unique index family_assignments_current_idx on public.family_assignments (family_id) where ended_at is null;
create index family_assignments_tutor_idx on public.family_assignments (tutor_id) where ended_at is null;

-- ----------------------------------------------------------------------------
-- Audit log (no personal data: ids and action names only)
-- ----------------------------------------------------------------------------
create table public.audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  staff_id uuid references public.staff (id) on delete set null,
  action text not null,
  target_kind text,
  target_id uuid,
  details jsonb not null default '{}'::jsonb
);
comment on table public.audit_log is 'Every staff action: who did what to which record; never names or message bodies.';
create index audit_log_at_idx on public.audit_log (at);

-- ----------------------------------------------------------------------------
-- Security
-- ----------------------------------------------------------------------------
alter table public.staff enable row level security;
alter table public.family_assignments enable row level security;
alter table public.audit_log enable row level security;

revoke all on table public.staff, public.family_assignments, public.audit_log from public, anon, authenticated;
grant select, insert, update, delete on table public.staff, public.family_assignments to service_role;
grant select, insert on table public.audit_log to service_role;
