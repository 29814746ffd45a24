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

-- ----------------------------------------------------------------------------
-- desk_services: every service, inactive ones too, with each column the CSV
-- has, for the desk's list and forms (coordinators only)
-- ----------------------------------------------------------------------------
create function public.desk_services(p_staff_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  perform public.coordinator_require(p_staff_id);
  return coalesce((
    select jsonb_agg(jsonb_build_object(
             'id', s.id, 'name', s.name, 'category', s.category, 'district_code', s.district_code, 'address', s.address, 'hours', s.hours,
             'phone', s.phone, 'languages', to_jsonb(s.languages), 'unverified', s.unverified, 'source', s.source, 'active', s.active,
             'updated_at', s.updated_at)
           order by s.category, s.name, s.district_code nulls first)
      from public.services s), '[]'::jsonb);
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_service_save: one service added (p_id null) or edited by id in the
-- desk's form (its name and district may change: unique_violation when another
-- service has them), audited with the columns that changed; {id, added}.
-- p_row as one row of services_upsert.
-- ----------------------------------------------------------------------------
create function public.desk_service_save(p_staff_id uuid, p_id uuid, p_row jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_columns constant text[] := array['name', 'category', 'district_code', 'address', 'hours', 'phone', 'languages', 'unverified', 'source', 'active'];
  v_before jsonb;
  v_after jsonb;
  v_id uuid;
begin
  if p_id is not null then
    select to_jsonb(s) into v_before from public.services s where s.id = p_id for update;
    if v_before is null then raise exception 'no such service' using errcode = 'P0002'; end if;
    update public.services
       set name = p_row ->> 'name', category = p_row ->> 'category', district_code = p_row ->> 'district_code', address = p_row ->> 'address',
           hours = p_row ->> 'hours', phone = p_row ->> 'phone',
           languages = coalesce((select array_agg(x) from jsonb_array_elements_text(p_row -> 'languages') x), '{it}'),
           unverified = coalesce((p_row ->> 'unverified')::boolean, false), source = p_row ->> 'source',
           active = coalesce((p_row ->> 'active')::boolean, true), updated_at = p_now
     where id = p_id
    returning id into v_id;
  else
    insert into public.services (name, category, district_code, address, hours, phone, languages, unverified, source, active, updated_at)
    values (p_row ->> 'name', p_row ->> 'category', p_row ->> 'district_code', p_row ->> 'address', p_row ->> 'hours', p_row ->> 'phone',
            coalesce((select array_agg(x) from jsonb_array_elements_text(p_row -> 'languages') x), '{it}'),
            coalesce((p_row ->> 'unverified')::boolean, false), p_row ->> 'source', coalesce((p_row ->> 'active')::boolean, true), p_now)
    returning id into v_id;
  end if;
  select to_jsonb(s) into v_after from public.services s where s.id = v_id;
  insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
  values (p_now, v_staff.id, 'desk.service_saved', 'service', v_id,
          jsonb_build_object('added', v_before is null,
            'changed', (select coalesce(jsonb_agg(k order by k), '[]'::jsonb) from unnest(v_columns) k
                         where v_before is not null and v_before -> k is distinct from v_after -> k)));
  return jsonb_build_object('id', v_id, 'added', v_before is null);
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_services_import: a CSV of services uploaded on the desk (every row
-- checked beforehand, nothing written when one is bad), written as the
-- command-line import writes them (services_upsert); audited with who uploaded
-- it. p_rows as services_upsert. {created, updated}
-- ----------------------------------------------------------------------------
create function public.desk_services_import(p_staff_id uuid, p_rows jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_result jsonb := public.services_upsert(p_rows, p_now);
begin
  insert into public.audit_log (at, staff_id, action, details)
  values (p_now, v_staff.id, 'desk.services_imported', jsonb_build_object('rows', jsonb_array_length(p_rows),
          'created', (v_result ->> 'created')::int, 'updated', (v_result ->> 'updated')::int));
  return v_result;
end;
$$;
