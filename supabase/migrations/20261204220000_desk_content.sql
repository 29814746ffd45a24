-- The desk's content pages (issue 23, point 3): WhatsApp templates per kind and language, services and the care calendar.

-- ----------------------------------------------------------------------------
-- desk_templates: every WhatsApp template configured, for the desk's list of
-- kinds and languages (coordinators only)
-- ----------------------------------------------------------------------------
create function public.desk_templates(p_staff_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  perform public.coordinator_require(p_staff_id);
  return coalesce((
    select jsonb_agg(jsonb_build_object('kind', t.kind, 'language', t.language, 'content_sid', t.content_sid,
                                        'variables', to_jsonb(t.variables), 'updated_at', t.updated_at)
                     order by t.kind, t.language)
      from public.message_templates t), '[]'::jsonb);
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_template_set: a coordinator sets the template of a kind and language
-- (p_content_sid an HX… Content SID) or clears it (null: such messages are
-- held outside the window again); audited with the SID it replaced.
-- {was: the SID before, or null}
-- ----------------------------------------------------------------------------
create function public.desk_template_set(p_staff_id uuid, p_kind text, p_language text, p_content_sid text, p_variables text[], p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_was text;
begin
  if p_kind is null or p_kind !~ '^[a-z_]{2,40}$' or p_language is null or p_language !~ '^[a-z]{2,3}$' then
    raise exception 'not a message kind and language' using errcode = '22023';
  end if;
  if p_content_sid is not null and p_content_sid !~ '^HX[0-9a-f]{32}$' then
    raise exception 'not a Twilio Content SID' using errcode = '22023';
  end if;
  if exists (select 1 from unnest(coalesce(p_variables, '{}')) v where v is null or v !~ '^[a-z_]{1,40}$') then
    raise exception 'not a payload field' using errcode = '22023';
  end if;
  select t.content_sid into v_was from public.message_templates t where t.kind = p_kind and t.language = p_language for update;
  if p_content_sid is null then
    delete from public.message_templates where kind = p_kind and language = p_language;
  else
    perform public.message_template_upsert(p_kind, p_language, p_content_sid, p_variables, p_now);
  end if;
  insert into public.audit_log (at, staff_id, action, target_kind, details)
  values (p_now, v_staff.id, case when p_content_sid is null then 'desk.template_cleared' else 'desk.template_set' end, 'message_template',
          jsonb_build_object('kind', p_kind, 'language', p_language, 'content_sid', p_content_sid, 'was', v_was,
                             'variables', to_jsonb(coalesce(p_variables, '{}'))));
  return jsonb_build_object('was', v_was);
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
-- desk_calendar: every calendar row, inactive ones too, with each column the
-- CSV has, for the desk's list and forms (coordinators only)
-- ----------------------------------------------------------------------------
create function public.desk_calendar(p_staff_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  perform public.coordinator_require(p_staff_id);
  return coalesce((
    select jsonb_agg(jsonb_build_object(
             'code', i.code, 'kind', i.kind, 'group_key', i.group_key, 'dose', i.dose, 'name_it', i.name_it, 'region', i.region,
             'offset_months', i.offset_months, 'offset_days', i.offset_days, 'window_days', i.window_days, 'min_gap_days', i.min_gap_days,
             'mandatory', i.mandatory, 'verified', i.verified, 'source', i.source, 'checked_on', i.checked_on, 'active', i.active,
             'updated_at', i.updated_at)
           order by i.kind = 'pregnancy' desc, i.offset_months, i.offset_days, i.group_key, i.dose, i.code)
      from public.care_items i), '[]'::jsonb);
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_calendar_save: one calendar row added or edited in the desk's form,
-- written as the CSV import writes it (care_items_upsert: a changed row makes
-- every child be planned again at the next run), audited with the coordinator
-- and the columns that changed; {code, added, changed}
-- ----------------------------------------------------------------------------
create function public.desk_calendar_save(p_staff_id uuid, p_item jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_columns constant text[] := array['kind', 'group_key', 'dose', 'name_it', 'region', 'offset_months', 'offset_days', 'window_days',
                                     'min_gap_days', 'mandatory', 'verified', 'source', 'checked_on', 'active'];
  v_before jsonb;
  v_after jsonb;
  v_changed jsonb;
begin
  select to_jsonb(i) into v_before from public.care_items i where i.code = p_item ->> 'code' for update;
  perform public.care_items_upsert(jsonb_build_array(p_item), p_now);
  select to_jsonb(i) into v_after from public.care_items i where i.code = p_item ->> 'code';
  select coalesce(jsonb_agg(k order by k), '[]'::jsonb) into v_changed from unnest(v_columns) k
   where v_before is not null and v_before -> k is distinct from v_after -> k;
  insert into public.audit_log (at, staff_id, action, target_kind, details)
  values (p_now, v_staff.id, 'desk.calendar_saved', 'care_item',
          jsonb_build_object('code', v_after ->> 'code', 'added', v_before is null, 'changed', v_changed));
  return jsonb_build_object('code', v_after ->> 'code', 'added', v_before is null, 'changed', v_changed);
end;
$$;

revoke execute on function public.desk_templates(uuid), public.desk_template_set(uuid, text, text, text, text[], timestamptz),
  public.desk_services(uuid), public.desk_service_save(uuid, uuid, jsonb, timestamptz),
  public.desk_calendar(uuid), public.desk_calendar_save(uuid, jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.desk_templates(uuid), public.desk_template_set(uuid, text, text, text, text[], timestamptz),
  public.desk_services(uuid), public.desk_service_save(uuid, uuid, jsonb, timestamptz),
  public.desk_calendar(uuid), public.desk_calendar_save(uuid, jsonb, timestamptz) to service_role;
