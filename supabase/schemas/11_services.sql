-- ============================================================================
-- SERVICES: the local services directory
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Local services directory
-- ----------------------------------------------------------------------------
create table public.services (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 2 and 160),
  category text not null check (category in ('health', 'education', 'protection', 'parenting', 'housing', 'work', 'documents', 'other')),
  -- null: serves the whole city
  district_code text references public.districts (code) on update cascade,
  address text,
  hours text,
  phone text,
  languages text[] not null default '{it}',
  unverified boolean not null default false,
  source text,
  active boolean not null default true,
  updated_at timestamptz not null default now()
);
comment on table public.services is 'Local services by area and district, with address, hours, phone and languages spoken; edited by coordinators.';
create unique index services_name_district_key on public.services (name, coalesce(district_code, ''));
alter table public.services enable row level security;

-- ----------------------------------------------------------------------------
-- Services: the ones near her for an area (her district first, then citywide),
-- and edits
-- ----------------------------------------------------------------------------
create function public.services_near(p_category text, p_district text, p_limit int)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(x), '[]'::jsonb) from (
    select jsonb_build_object('name', s.name, 'address', s.address, 'hours', s.hours, 'phone', s.phone, 'languages', s.languages,
                              'unverified', s.unverified, 'district', d.name) as x
      from public.services s left join public.districts d on d.code = s.district_code
     where s.active and s.category = p_category and (s.district_code is null or s.district_code = p_district)
     order by (s.district_code is not null) desc, s.name
     limit p_limit
  ) near;
$$;

-- p_rows: [{name, category, district_code?, address?, hours?, phone?, languages?, unverified?, source?, active?}]
create function public.services_upsert(p_rows jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_row jsonb;
  v_inserted boolean;
  v_created int := 0;
  v_updated int := 0;
begin
  for v_row in select * from jsonb_array_elements(p_rows) loop
    insert into public.services (name, category, district_code, address, hours, phone, languages, unverified, source, active, updated_at)
    values (v_row ->> 'name', v_row ->> 'category', v_row ->> 'district_code', v_row ->> 'address', v_row ->> 'hours', v_row ->> 'phone',
            coalesce((select array_agg(x) from jsonb_array_elements_text(v_row -> 'languages') x), '{it}'),
            coalesce((v_row ->> 'unverified')::boolean, false), v_row ->> 'source', coalesce((v_row ->> 'active')::boolean, true), p_now)
    on conflict (name, coalesce(district_code, '')) do update
       set category = excluded.category, address = excluded.address, hours = excluded.hours, phone = excluded.phone,
           languages = excluded.languages, unverified = excluded.unverified, source = excluded.source, active = excluded.active, updated_at = p_now
    returning (xmax = 0) into v_inserted;
    if v_inserted then v_created := v_created + 1; else v_updated := v_updated + 1; end if;
  end loop;
  return jsonb_build_object('created', v_created, 'updated', v_updated);
end;
$$;
