-- ============================================================================
-- FAMILIES: districts, families and their children
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Districts
-- ----------------------------------------------------------------------------
create table public.districts (
  code text primary key check (code ~ '^[a-z0-9-]{2,40}$'),
  name text not null,
  city text not null,
  sort_order int not null default 0,
  active boolean not null default true
);
comment on table public.districts is 'Municipalities or city districts a family can live in; seeded, editable by coordinators.';

-- ----------------------------------------------------------------------------
-- Families
-- ----------------------------------------------------------------------------
create table public.families (
  id uuid primary key default gen_random_uuid(),
  district_code text references public.districts (code) on update cascade,
  status text not null default 'active' check (status in ('active', 'closed')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.families is 'A household followed by the programme; people reach it through one or more contacts.';

-- ----------------------------------------------------------------------------
-- Children
-- ----------------------------------------------------------------------------
create table public.children (
  id uuid primary key default gen_random_uuid(),
  family_id uuid not null references public.families (id) on delete cascade,
  name text not null check (length(name) between 1 and 60),
  birth_date date,
  due_date date,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint children_born_or_expected check (birth_date is not null or due_date is not null)
);
comment on table public.children is 'A child (first name or nickname and birth date) or a pregnancy (expected due date) of a family.';
create index children_family_idx on public.children (family_id);

-- ----------------------------------------------------------------------------
-- Security: reachable only through functions run by service_role
-- ----------------------------------------------------------------------------
alter table public.districts enable row level security;
alter table public.families enable row level security;
alter table public.children enable row level security;

revoke all on table public.districts, public.families, public.children from public, anon, authenticated;
grant select, insert, update, delete on table public.districts, public.families, public.children to service_role;
