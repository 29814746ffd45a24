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
alter table public.districts enable row level security;

-- ----------------------------------------------------------------------------
-- Families
-- ----------------------------------------------------------------------------
create table public.families (
  id uuid primary key default gen_random_uuid(),
  district_code text references public.districts (code) on update cascade,
  status text not null default 'active' check (status in ('active', 'closed')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- the short reference staff can type: F-12
  ref bigint generated always as identity,
  -- the first name she asked her tutor to use (asked once, when she first writes to her tutor)
  caller_name text check (caller_name is null or length(caller_name) between 1 and 40),
  -- the quarterly check-in: on unless she switches it off; when it was last offered
  checkin_on boolean not null default true,
  checkin_at timestamptz,
  constraint families_ref_key unique (ref)
);
comment on table public.families is 'A household followed by the programme; people reach it through one or more contacts.';
alter table public.families enable row level security;

-- ----------------------------------------------------------------------------
-- Children
-- ----------------------------------------------------------------------------
create table public.children (
  id uuid primary key default gen_random_uuid(),
  family_id uuid not null references public.families (id) on delete cascade,
  -- a pregnancy has no name yet; a born child has one
  name text check (length(name) between 1 and 60),
  birth_date date,
  due_date date,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint children_born_or_expected check (birth_date is not null or due_date is not null),
  -- she can turn a child's reminders off ("stop these reminders") and on again
  reminders boolean not null default true,
  -- the birth (or due) date the current plan was computed from; null: plan again
  planned_for date,
  constraint children_born_named check (birth_date is null or name is not null)
);
comment on table public.children is 'A child (first name or nickname and birth date) or a pregnancy (expected due date) of a family.';
create index children_family_idx on public.children (family_id);
alter table public.children enable row level security;

-- ----------------------------------------------------------------------------
-- districts_list: the choices for "where do you live", as one jsonb array
-- ----------------------------------------------------------------------------
create function public.districts_list()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('code', d.code, 'name', d.name) order by d.sort_order, d.name), '[]'::jsonb)
    from public.districts d where d.active;
$$;

-- ----------------------------------------------------------------------------
-- family_ref_next: the number a family opened for her safety will have (F-12),
-- so the alert to staff can name it before the family row is written
-- ----------------------------------------------------------------------------
create function public.family_ref_next()
returns bigint
language sql
volatile
set search_path = ''
as $$
  select nextval(pg_get_serial_sequence('public.families', 'ref'));
$$;

-- ----------------------------------------------------------------------------
-- families_export: for her data export, her family and children
-- ----------------------------------------------------------------------------
create function public.families_export(p_family_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'ref', 'F-' || f.ref, 'district', d.name, 'created_at', f.created_at, 'name_for_tutor', f.caller_name,
    'checkin', f.checkin_on,
    'children', coalesce((
      select jsonb_agg(jsonb_build_object('name', ch.name, 'birth_date', ch.birth_date, 'due_date', ch.due_date, 'added_at', ch.created_at)
                       order by coalesce(ch.birth_date, ch.due_date))
        from public.children ch where ch.family_id = f.id), '[]'::jsonb))
    from public.families f left join public.districts d on d.code = f.district_code
   where f.id = p_family_id;
$$;

-- ----------------------------------------------------------------------------
-- families_erase: her erasure: the family goes, audited, and with it by
-- cascade its children, needs and their threads, plans, calls followed, codes
-- ----------------------------------------------------------------------------
create function public.families_erase(p_family_id uuid, p_now timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  if p_family_id is null then
    return;
  end if;
  insert into public.audit_log (at, action, target_kind, target_id) values (p_now, 'privacy.erased', 'family', p_family_id);
  delete from public.families where id = p_family_id;
end;
$$;
