-- ============================================================================
-- The desk's calls: a call added, edited or closed in a form, and a CSV of
-- calls uploaded, by a coordinator signed in to the desk (audited with who she
-- is). calls_write is now the one write path of the CSV import and the form;
-- /closecall and the desk's button close a call through calls_close. Only the
-- new and changed definitions.
-- ============================================================================

-- ----------------------------------------------------------------------------
-- calls_write: calls added or edited, found by code (a closed call edited is
-- open again), as {added, updated}. The one way calls are written: by the CSV
-- import and by the desk's form, each auditing its own way.
-- p_rows: [{code, kind, title_it, opens_on, closes_on, districts, child_min_months,
-- child_max_months, age_on, isee_max, residence, permit, documents, apply_how,
-- apply_url, source, checked_on, unverified}]
-- ----------------------------------------------------------------------------
create function public.calls_write(p_rows jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_added int;
  v_n int := jsonb_array_length(p_rows);
begin
  select count(*) into v_added from jsonb_array_elements(p_rows) e where not exists (select 1 from public.calls c where c.code = e ->> 'code');
  insert into public.calls (code, kind, title_it, opens_on, closes_on, districts, child_min_months, child_max_months, age_on, isee_max,
                            residence, permit, documents, apply_how, apply_url, source, checked_on, unverified, closed_at, created_at, updated_at)
  select r.code, r.kind, r.title_it, r.opens_on, r.closes_on, coalesce(r.districts, '{}'), r.child_min_months, r.child_max_months, r.age_on, r.isee_max,
         r.residence, r.permit, coalesce(r.documents, '{}'), coalesce(r.apply_how, '{}'), r.apply_url, r.source, r.checked_on, coalesce(r.unverified, false),
         null, p_now, p_now
    from jsonb_populate_recordset(null::public.calls, p_rows) r
  on conflict (code) do update
     set kind = excluded.kind, title_it = excluded.title_it, opens_on = excluded.opens_on, closes_on = excluded.closes_on,
         districts = excluded.districts, child_min_months = excluded.child_min_months, child_max_months = excluded.child_max_months,
         age_on = excluded.age_on, isee_max = excluded.isee_max, residence = excluded.residence, permit = excluded.permit,
         documents = excluded.documents, apply_how = excluded.apply_how, apply_url = excluded.apply_url, source = excluded.source,
         checked_on = excluded.checked_on, unverified = excluded.unverified, closed_at = null, updated_at = p_now;
  return jsonb_build_object('added', v_added, 'updated', v_n - v_added);
end;
$$;

-- ----------------------------------------------------------------------------
-- calls_upsert: calls added or edited by a coordinator (CSV, command line),
-- found by code; audited as one import. p_rows as calls_write.
-- ----------------------------------------------------------------------------
create or replace function public.calls_upsert(p_rows jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_result jsonb := public.calls_write(p_rows, p_now);
begin
  insert into public.audit_log (at, action, details)
  values (p_now, 'calls.imported', jsonb_build_object('rows', jsonb_array_length(p_rows), 'added', (v_result ->> 'added')::int));
  return v_result;
end;
$$;

-- ----------------------------------------------------------------------------
-- calls_coordinator: the active coordinator behind a desk action on calls;
-- anyone else is refused like staff_require (42501)
-- ----------------------------------------------------------------------------
create function public.calls_coordinator(p_staff_id uuid)
returns public.staff
language plpgsql
stable
set search_path = ''
as $$
declare
  v_staff public.staff;
begin
  select s.* into v_staff from public.staff s where s.id = p_staff_id and s.active and s.role = 'coordinator';
  if not found then
    raise exception 'staff action not allowed' using errcode = '42501';
  end if;
  return v_staff;
end;
$$;

-- ----------------------------------------------------------------------------
-- calls_close: a coordinator closes a call before its date: families stop
-- seeing it and its pending notices are not sent (the chat's /closecall and
-- the desk's button)
-- ----------------------------------------------------------------------------
create function public.calls_close(p_staff_id uuid, p_code text, p_now timestamptz)
returns uuid
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.calls_coordinator(p_staff_id);
  v_call uuid;
begin
  select id into v_call from public.calls where code = p_code;
  if v_call is null then raise exception 'no such call' using errcode = 'P0002'; end if;
  update public.calls set closed_at = coalesce(closed_at, p_now), updated_at = p_now where id = v_call;
  perform public.calls_cancel_notices(v_call, null, p_now);
  insert into public.audit_log (at, staff_id, action, target_kind, target_id) values (p_now, v_staff.id, 'call.closed', 'call', v_call);
  return v_call;
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_calls: every call, closed and past ones too, with each column the CSV
-- has, for the desk's list and forms (coordinators only): nido first
-- ----------------------------------------------------------------------------
create function public.desk_calls(p_staff_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  perform public.calls_coordinator(p_staff_id);
  return coalesce((
    select jsonb_agg(jsonb_build_object(
             'code', c.code, 'kind', c.kind, 'area', c.area, 'title_it', c.title_it, 'opens_on', c.opens_on, 'closes_on', c.closes_on,
             'districts', c.districts, 'child_min_months', c.child_min_months, 'child_max_months', c.child_max_months, 'age_on', c.age_on,
             'isee_max', c.isee_max, 'residence', c.residence, 'permit', c.permit, 'documents', c.documents, 'apply_how', c.apply_how,
             'apply_url', c.apply_url, 'source', c.source, 'checked_on', c.checked_on, 'unverified', c.unverified,
             'closed_at', c.closed_at, 'updated_at', c.updated_at)
           order by c.area = 'housing', c.closes_on nulls last, c.opens_on nulls last, c.code)
      from public.calls c), '[]'::jsonb);
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_call_save: one call added or edited in the desk's form (found by code,
-- reopened if it was closed), audited with the columns that changed;
-- {code, added, reopened}. p_call as one row of calls_write.
-- ----------------------------------------------------------------------------
create function public.desk_call_save(p_staff_id uuid, p_call jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.calls_coordinator(p_staff_id);
  v_columns constant text[] := array['kind', 'title_it', 'opens_on', 'closes_on', 'districts', 'child_min_months', 'child_max_months', 'age_on',
                                     'isee_max', 'residence', 'permit', 'documents', 'apply_how', 'apply_url', 'source', 'checked_on', 'unverified'];
  v_before jsonb;
  v_after jsonb;
begin
  select to_jsonb(c) into v_before from public.calls c where c.code = p_call ->> 'code';
  perform public.calls_write(jsonb_build_array(p_call), p_now);
  select to_jsonb(c) into v_after from public.calls c where c.code = p_call ->> 'code';
  insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
  values (p_now, v_staff.id, 'desk.call_saved', 'call', (v_after ->> 'id')::uuid,
          jsonb_build_object('code', v_after ->> 'code', 'added', v_before is null, 'reopened', v_before ->> 'closed_at' is not null,
            'changed', (select coalesce(jsonb_agg(k order by k), '[]'::jsonb) from unnest(v_columns) k
                         where v_before is not null and v_before -> k is distinct from v_after -> k)));
  return jsonb_build_object('code', v_after ->> 'code', 'added', v_before is null, 'reopened', v_before ->> 'closed_at' is not null);
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_calls_import: a CSV of calls uploaded on the desk, every row checked
-- beforehand; audited with who uploaded it. p_rows as calls_write.
-- ----------------------------------------------------------------------------
create function public.desk_calls_import(p_staff_id uuid, p_rows jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.calls_coordinator(p_staff_id);
  v_result jsonb := public.calls_write(p_rows, p_now);
begin
  insert into public.audit_log (at, staff_id, action, details)
  values (p_now, v_staff.id, 'desk.calls_imported', jsonb_build_object('rows', jsonb_array_length(p_rows), 'added', (v_result ->> 'added')::int));
  return v_result;
end;
$$;

-- ----------------------------------------------------------------------------
-- calls_effect_apply: her progress on a call, and staff marking an application
-- and its outcome (access checked through the need) or closing a call. Called
-- by effect_apply for `calls.<verb>`; false on a verb it does not know.
-- ----------------------------------------------------------------------------
create or replace function public.calls_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_verb text := split_part(p_effect ->> 'op', '.', 2);
  v_call uuid := (p_effect ->> 'call_id')::uuid;
  v_staff public.staff;
  v_need public.needs;
begin
  if v_verb in ('follow', 'docs', 'answers', 'applied', 'help') then
    if p_family_id is null then raise exception 'no family for contact' using errcode = 'P0002'; end if;
    if not exists (select 1 from public.calls where id = v_call) then raise exception 'no such call' using errcode = 'P0002'; end if;
    insert into public.call_follows (family_id, call_id, updated_at) values (p_family_id, v_call, p_now)
    on conflict (family_id, call_id) do nothing;
  elsif v_verb in ('staff_applied', 'outcome') then
    v_staff := public.need_access(p_contact_id, (p_effect ->> 'need_id')::uuid);
    select * into v_need from public.needs where id = (p_effect ->> 'need_id')::uuid;
    v_call := (select id from public.calls where id = (v_need.details ->> 'call_id')::uuid);
    if v_call is null then raise exception 'need is not about a call' using errcode = 'P0002'; end if;
    insert into public.call_follows (family_id, call_id, help_need_id, updated_at) values (v_need.family_id, v_call, v_need.id, p_now)
    on conflict (family_id, call_id) do nothing;
  end if;

  case v_verb
  when 'follow' then
    update public.call_follows set following = (p_effect ->> 'on')::boolean, updated_at = p_now where family_id = p_family_id and call_id = v_call;
    if not (p_effect ->> 'on')::boolean then
      perform public.calls_cancel_notices(v_call, p_family_id, p_now);
    end if;

  when 'docs' then
    -- only documents the call asks for
    update public.call_follows
       set docs = array(select d from jsonb_array_elements_text(p_effect -> 'docs') d
                         where d = any (coalesce((select documents from public.calls where id = v_call), '{}'::text[])) order by d),
           updated_at = p_now
     where family_id = p_family_id and call_id = v_call;

  when 'answers' then
    update public.call_follows set answers = coalesce(p_effect -> 'answers', '{}'::jsonb), updated_at = p_now
     where family_id = p_family_id and call_id = v_call;

  when 'applied' then
    update public.call_follows set applied_at = coalesce(applied_at, p_now), following = false, updated_at = p_now
     where family_id = p_family_id and call_id = v_call;
    perform public.calls_cancel_notices(v_call, p_family_id, p_now);

  when 'help' then
    update public.call_follows
       set help_need_id = (select id from public.needs where id = (p_effect ->> 'need_id')::uuid and family_id = p_family_id), updated_at = p_now
     where family_id = p_family_id and call_id = v_call;

  when 'staff_applied', 'outcome' then
    -- an outcome means she applied
    update public.call_follows
       set applied_at = coalesce(applied_at, p_now), following = false, updated_at = p_now,
           outcome = case when v_verb = 'outcome' then p_effect ->> 'outcome' else outcome end,
           ranking = case when v_verb = 'outcome' then case when p_effect ->> 'outcome' = 'ranked' then (p_effect ->> 'ranking')::int end else ranking end
     where family_id = v_need.family_id and call_id = v_call;
    perform public.calls_cancel_notices(v_call, v_need.family_id, p_now);
    insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
    values (p_now, v_staff.id, case when v_verb = 'outcome' then 'call.outcome' else 'call.applied' end, 'need', v_need.id,
            jsonb_strip_nulls(jsonb_build_object('call_id', v_call, 'outcome', p_effect ->> 'outcome')));

  when 'close' then
    v_staff := public.staff_require(p_contact_id, array['coordinator']);
    perform public.calls_close(v_staff.id, p_effect ->> 'code', p_now);

  else
    return false;
  end case;
  return true;
end;
$$;

revoke execute on function public.calls_write(jsonb, timestamptz), public.calls_coordinator(uuid), public.calls_close(uuid, text, timestamptz),
  public.desk_calls(uuid), public.desk_call_save(uuid, jsonb, timestamptz), public.desk_calls_import(uuid, jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.calls_write(jsonb, timestamptz), public.calls_coordinator(uuid), public.calls_close(uuid, text, timestamptz),
  public.desk_calls(uuid), public.desk_call_save(uuid, jsonb, timestamptz), public.desk_calls_import(uuid, jsonb, timestamptz) to service_role;
