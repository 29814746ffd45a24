-- The desk's CSV uploads for the knowledge base, the services and the care calendar (issue 23, point 3): each
-- written as the command-line import writes it, audited with the coordinator who uploaded the file.

-- ----------------------------------------------------------------------------
-- desk_kb_import: a CSV of knowledge-base rows uploaded on the desk (every row
-- checked beforehand, nothing written when one is bad), written as the
-- command-line import writes them (kb_upsert); audited with who uploaded it.
-- p_rows as kb_upsert. {created, updated}
-- ----------------------------------------------------------------------------
create function public.desk_kb_import(p_staff_id uuid, p_rows jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_result jsonb := public.kb_upsert(p_rows, p_now);
begin
  insert into public.audit_log (at, staff_id, action, details)
  values (p_now, v_staff.id, 'desk.kb_imported', jsonb_build_object('rows', jsonb_array_length(p_rows),
          'created', (v_result ->> 'created')::int, 'updated', (v_result ->> 'updated')::int));
  return v_result;
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

-- ----------------------------------------------------------------------------
-- desk_calendar_import: a CSV of calendar rows uploaded on the desk (every row
-- checked beforehand, nothing written when one is bad), written as the
-- command-line import writes them (care_items_upsert: a changed row makes every
-- child be planned again at the next run); audited with who uploaded it.
-- p_items as care_items_upsert. {added, updated, unchanged}
-- ----------------------------------------------------------------------------
create function public.desk_calendar_import(p_staff_id uuid, p_items jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_result jsonb := public.care_items_upsert(p_items, p_now);
begin
  insert into public.audit_log (at, staff_id, action, details)
  values (p_now, v_staff.id, 'desk.calendar_imported', jsonb_build_object('rows', jsonb_array_length(p_items),
          'added', (v_result ->> 'added')::int, 'updated', (v_result ->> 'updated')::int));
  return v_result;
end;
$$;

revoke execute on function public.desk_kb_import(uuid, jsonb, timestamptz), public.desk_services_import(uuid, jsonb, timestamptz),
  public.desk_calendar_import(uuid, jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.desk_kb_import(uuid, jsonb, timestamptz), public.desk_services_import(uuid, jsonb, timestamptz),
  public.desk_calendar_import(uuid, jsonb, timestamptz) to service_role;
