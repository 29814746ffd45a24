-- ============================================================================
-- CALLS: public calls (nursery places, bonuses) and her progress on them
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Calls: one row per call or standing measure, edited by coordinators
-- ----------------------------------------------------------------------------
create table public.calls (
  id uuid primary key default gen_random_uuid(),
  -- short and stable: it travels in buttons and staff commands
  code text not null unique check (code ~ '^[a-z0-9-]{3,32}$'),
  kind text not null check (kind in ('nido', 'primavera', 'bonus_nido', 'nidi_gratis', 'sap', 'sat', 'rent_support', 'arrears', 'dote')),
  area text not null generated always as (case when kind in ('nido', 'primavera', 'bonus_nido', 'nidi_gratis') then 'nido' else 'housing' end) stored,
  title_it text not null check (length(title_it) between 3 and 120),
  -- both null: always open (a standing measure)
  opens_on date,
  closes_on date,
  -- empty: the whole city
  districts text[] not null default '{}',
  -- a child must be at least min and under max months old on age_on (null: on the day she looks)
  child_min_months int check (child_min_months between 0 and 216),
  child_max_months int check (child_max_months between 1 and 216),
  age_on date,
  isee_max numeric(10, 2) check (isee_max > 0),
  residence text check (residence in ('milan', 'lombardy')),
  permit text check (permit in ('sap')),
  documents text[] not null default '{}',
  apply_how text[] not null default '{}',
  apply_url text check (apply_url ~ '^https://'),
  source text not null,
  checked_on date not null,
  -- shown with "check with the service"
  unverified boolean not null default false,
  closed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (opens_on is null or closes_on is null or opens_on <= closes_on),
  check (child_min_months is null or child_max_months is null or child_min_months < child_max_months)
);
comment on table public.calls is 'Nido and housing calls and measures: dates, districts, who they are for, documents, how to apply, source and date checked.';
alter table public.calls enable row level security;

-- ----------------------------------------------------------------------------
-- Call follows: a family's progress on one call
-- ----------------------------------------------------------------------------
create table public.call_follows (
  family_id uuid not null references public.families (id) on delete cascade,
  call_id uuid not null references public.calls (id) on delete cascade,
  following boolean not null default false,
  -- the documents she has ready (codes from calls.documents)
  docs text[] not null default '{}',
  -- her answers to "are you likely eligible?": {question: yes|no|unsure}
  answers jsonb not null default '{}'::jsonb,
  applied_at timestamptz,
  outcome text check (outcome in ('admitted', 'ranked', 'refused')),
  ranking int check (ranking > 0),
  help_need_id uuid references public.needs (id) on delete set null,
  updated_at timestamptz not null default now(),
  primary key (family_id, call_id)
);
comment on table public.call_follows is 'A family''s progress on a call: reminders on, documents ready, eligibility answers, applied, outcome.';
create index call_follows_call_idx on public.call_follows (call_id);
alter table public.call_follows enable row level security;

-- ----------------------------------------------------------------------------
-- calls_fitting: the calls open or upcoming today that fit each family (one, or
-- all when p_family_id is null), with the children they fit
-- ----------------------------------------------------------------------------
create function public.calls_fitting(p_today date, p_family_id uuid)
returns table (call_id uuid, family_id uuid, children uuid[])
language sql
stable
set search_path = ''
as $$
  select c.id, f.id, fit.children
    from public.calls c
    join public.families f on f.status = 'active' and (p_family_id is null or f.id = p_family_id)
    cross join lateral (
      select coalesce(array_agg(ch.id order by coalesce(ch.birth_date, ch.due_date)), '{}') as children
        from public.children ch
        cross join lateral (select coalesce(ch.birth_date, ch.due_date) as born, coalesce(c.age_on, p_today) as on_day) d
       where ch.family_id = f.id and d.born <= d.on_day and (c.child_min_months is not null or c.child_max_months is not null)
         and (extract(year from age(d.on_day, d.born)) * 12 + extract(month from age(d.on_day, d.born)))
             between coalesce(c.child_min_months, 0) and coalesce(c.child_max_months, 1000) - 1
    ) fit
   where c.closed_at is null
     and (c.closes_on is null or c.closes_on >= p_today)
     and (cardinality(c.districts) = 0 or f.district_code = any (c.districts))
     and (c.child_min_months is null and c.child_max_months is null or cardinality(fit.children) > 0);
$$;

-- ----------------------------------------------------------------------------
-- calls_for_family: what her nido or housing menu shows: the fitting calls,
-- her progress on each, and (nido) mandatory vaccinations past their window
-- ----------------------------------------------------------------------------
create function public.calls_for_family(p_family_id uuid, p_today date, p_area text)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', c.id, 'code', c.code, 'kind', c.kind, 'area', c.area, 'title_it', c.title_it, 'opens_on', c.opens_on, 'closes_on', c.closes_on,
           'districts', c.districts, 'child_min_months', c.child_min_months, 'child_max_months', c.child_max_months, 'age_on', c.age_on,
           'isee_max', c.isee_max, 'residence', c.residence, 'permit', c.permit, 'documents', c.documents, 'apply_how', c.apply_how,
           'apply_url', c.apply_url, 'source', c.source, 'checked_on', c.checked_on, 'unverified', c.unverified,
           'children', coalesce((
             select jsonb_agg(jsonb_build_object('id', ch.id, 'name', ch.name, 'birth_date', ch.birth_date, 'due_date', ch.due_date,
                      'missing_vaccines', coalesce((
                        select jsonb_agg(jsonb_build_object('code', i.code, 'group_key', i.group_key, 'dose', i.dose, 'name_it', i.name_it) order by p.due_on, i.group_key)
                          from public.child_plan p join public.care_items i on i.code = p.item_code and i.active
                         where c.area = 'nido' and p.child_id = ch.id and i.kind = 'vaccine' and i.mandatory
                           and p.status in ('planned', 'not_yet', 'overdue') and p.window_end < p_today), '[]'::jsonb))
                    order by coalesce(ch.birth_date, ch.due_date))
               from public.children ch where ch.id = any (fit.children)), '[]'::jsonb),
           'follow', (select jsonb_build_object('following', cf.following, 'docs', cf.docs, 'answers', cf.answers, 'applied_at', cf.applied_at,
                               'outcome', cf.outcome, 'ranking', cf.ranking,
                               'help_need', (select jsonb_build_object('id', n.id, 'ref', n.ref) from public.needs n
                                              where n.id = cf.help_need_id and n.status <> 'resolved'))
                        from public.call_follows cf where cf.family_id = p_family_id and cf.call_id = c.id))
         order by c.closes_on nulls last, c.opens_on nulls last, c.kind, c.code), '[]'::jsonb)
    from public.calls_fitting(p_today, p_family_id) fit
    join public.calls c on c.id = fit.call_id
   where p_area is null or c.area = p_area;
$$;

-- ----------------------------------------------------------------------------
-- calls_notices_due: one page of the open calls that fit each family and the
-- family has not applied to, for at most p_limit active families after
-- p_after (by id), as {"rows": [...], "next": <last family id or null>}.
-- ----------------------------------------------------------------------------
create function public.calls_notices_due(p_today date, p_after uuid, p_limit int)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with fams as (
    select f.id from public.families f
     where f.status = 'active' and (p_after is null or f.id > p_after)
     order by f.id
     limit greatest(p_limit, 1)
  ),
  page as (
    select c.id as call_id, c.code, c.kind, c.title_it, c.closes_on, fit.family_id, coalesce(cf.following, false) as following,
           coalesce((select jsonb_agg(jsonb_build_object('contact_id', ct.id, 'language', ct.language) order by ct.created_at)
                       from public.contacts ct
                      where ct.family_id = fit.family_id and ct.consent = 'given' and ct.status = 'active'), '[]'::jsonb) as contacts
      from fams
      cross join lateral public.calls_fitting(p_today, fams.id) fit
      join public.calls c on c.id = fit.call_id
      left join public.call_follows cf on cf.family_id = fit.family_id and cf.call_id = c.id
     where c.opens_on <= p_today and c.closes_on >= p_today
       and cf.applied_at is null
  )
  select jsonb_build_object(
    'rows', coalesce((select jsonb_agg(to_jsonb(r) order by r.code, r.family_id) from page r), '[]'::jsonb),
    'next', case when (select count(*) from fams) >= greatest(p_limit, 1) then (select f.id from fams f order by f.id desc limit 1) end
  );
$$;

-- ----------------------------------------------------------------------------
-- calls_cancel_notices: her pending notices about a call (all families when
-- p_family_id is null) are not sent any more
-- ----------------------------------------------------------------------------
create function public.calls_cancel_notices(p_call_id uuid, p_family_id uuid, p_now timestamptz)
returns int
language sql
volatile
set search_path = ''
as $$
  with cancelled as (
    update public.outbox o set status = 'cancelled', updated_at = p_now
     where o.status in ('pending', 'held')
       and o.idempotency_key like 'call:' || p_call_id::text || ':%'
       and (p_family_id is null or o.contact_id in (select id from public.contacts where family_id = p_family_id))
    returning 1
  )
  select count(*)::int from cancelled;
$$;

-- ----------------------------------------------------------------------------
-- staff_calls: calls not closed or past, with how many families follow and
-- applied (counts only), for any staff member
-- ----------------------------------------------------------------------------
create function public.staff_calls(p_contact_id uuid, p_today date)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  perform public.staff_require(p_contact_id, array['tutor', 'coordinator']);
  return coalesce((
    select jsonb_agg(jsonb_build_object('code', c.code, 'kind', c.kind, 'title_it', c.title_it, 'opens_on', c.opens_on, 'closes_on', c.closes_on,
             'unverified', c.unverified,
             'following', (select count(*) from public.call_follows cf where cf.call_id = c.id and cf.following),
             'applied', (select count(*) from public.call_follows cf where cf.call_id = c.id and cf.applied_at is not null))
           order by c.area, c.closes_on nulls last, c.code)
      from public.calls c
     where c.closed_at is null and (c.closes_on is null or c.closes_on >= p_today)), '[]'::jsonb);
end;
$$;

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
create function public.calls_upsert(p_rows jsonb, p_now timestamptz)
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
create function public.calls_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
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

-- ----------------------------------------------------------------------------
-- calls_export: for a family's data export, her progress on calls
-- ----------------------------------------------------------------------------
create function public.calls_export(p_family_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object('calls', coalesce((
    select jsonb_agg(jsonb_build_object('call', cl.title_it, 'kind', cl.kind, 'isee_max', cl.isee_max, 'documents', cl.documents,
             'reminders', cf.following, 'documents_ready', cf.docs,
             'eligibility_answers', cf.answers, 'applied_at', cf.applied_at, 'outcome', cf.outcome, 'ranking', cf.ranking)
             order by cl.code)
      from public.call_follows cf join public.calls cl on cl.id = cf.call_id where cf.family_id = p_family_id), '[]'::jsonb));
$$;
