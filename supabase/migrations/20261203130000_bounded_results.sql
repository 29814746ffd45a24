-- ============================================================================
-- BOUNDED RESULTS AND EXPLICIT GRANTS: what real PostgREST on Supabase needs.
-- PostgREST caps the rows of a set-returning function at max_rows (1000),
-- silently; so no function the app calls returns an unbounded set: a page of
-- one jsonb value with a cursor, a jsonb array, or a set with a p_limit.
-- Supabase no longer grants new objects to the API roles: sequences too are
-- granted here, explicitly, to service_role only.
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Sequences: nextval() behind a serial default or a ref needs USAGE.
-- ----------------------------------------------------------------------------
grant usage, select on sequence public.audit_log_id_seq to service_role;
grant usage, select on sequence public.outbox_id_seq to service_role;
grant usage, select on sequence public.families_ref_seq to service_role;
grant usage, select on sequence public.staff_ref_seq to service_role;
grant usage, select on sequence public.needs_ref_seq to service_role;
grant usage, select on sequence public.need_messages_seq_seq to service_role;
grant usage, select on sequence public.safety_events_id_seq to service_role;
grant usage, select on sequence public.broadcast_recipients_id_seq to service_role;
grant usage, select on sequence public.broadcasts_ref_seq to service_role;

-- ----------------------------------------------------------------------------
-- reminders_candidates: one page of the plan rows a reminder stage can apply
-- to today, for at most p_limit children after p_after (by id), as
-- {"rows": [...], "next": <last child id, or null on the last page>}.
-- A child's rows are never split across pages: its messages group them.
-- ----------------------------------------------------------------------------
drop function public.reminders_candidates(date, int, int);
create function public.reminders_candidates(p_today date, p_before_days int, p_followup_days int, p_after uuid, p_limit int)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with due as (
    -- only rows a stage can apply to today, so the daily cost follows what is due, not every child's history
    -- after the cursor only: each page reads its own children's rows, not every page's again
    select p.* from public.child_plan p
     where (p_after is null or p.child_id > p_after)
       and ((p.status in ('planned', 'not_yet') and p.due_on <= p_today + p_before_days and p.window_end >= p_today - p_followup_days)
        or (p.status = 'booked' and p.booked_on >= p_today)
        or (p.status = 'overdue' and p.late_at_registration and p.updated_at >= p_today - 2))
  ),
  kids as (
    select distinct d.child_id as id
      from due d
      join public.care_items i on i.code = d.item_code and i.active
      join public.children c on c.id = d.child_id and c.reminders
      join public.families f on f.id = c.family_id and f.status = 'active'
     where p_after is null or d.child_id > p_after
     order by 1
     limit greatest(p_limit, 1)
  ),
  page as (
    select c.id as child_id, c.name as child_name, c.birth_date, c.due_date, f.id as family_id, f.ref as family_ref, d.name as district,
           i.code as item_code, i.kind, i.group_key, i.dose, i.name_it, i.mandatory, i.verified,
           p.due_on, p.window_end, p.status, p.booked_on, p.snooze_until, p.late_at_registration,
           coalesce((select jsonb_agg(jsonb_build_object('contact_id', ct.id, 'language', ct.language))
                       from public.contacts ct
                      where ct.family_id = f.id and ct.consent = 'given' and ct.status = 'active'), '[]'::jsonb) as contacts,
           coalesce((select jsonb_agg(jsonb_build_object('contact_id', sc.id, 'language', sc.language))
                       from public.family_assignments a join public.staff s on s.id = a.tutor_id and s.active
                       join public.contacts sc on sc.staff_id = s.id
                      where a.family_id = f.id and a.ended_at is null), '[]'::jsonb) as tutor_contacts
      from kids k
      join due p on p.child_id = k.id
      join public.care_items i on i.code = p.item_code and i.active
      join public.children c on c.id = p.child_id
      join public.families f on f.id = c.family_id
      left join public.districts d on d.code = f.district_code
  )
  select jsonb_build_object(
    'rows', coalesce((select jsonb_agg(to_jsonb(r) order by r.child_id, r.due_on, r.kind, r.group_key) from page r), '[]'::jsonb),
    'next', case when (select count(*) from kids) >= greatest(p_limit, 1) then (select k.id from kids k order by k.id desc limit 1) end
  );
$$;

-- ----------------------------------------------------------------------------
-- calls_notices_due: one page of the open calls that fit each family and the
-- family has not applied to, for at most p_limit active families after
-- p_after (by id), as {"rows": [...], "next": <last family id or null>}.
-- ----------------------------------------------------------------------------
drop function public.calls_notices_due(date);
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
-- broadcasts_due: at most p_limit scheduled broadcasts whose time has come,
-- oldest first; the job releases them and takes the rest on its next run.
-- ----------------------------------------------------------------------------
drop function public.broadcasts_due(timestamptz);
create function public.broadcasts_due(p_now timestamptz, p_limit int)
returns table (id uuid, ref bigint, texts jsonb, audience jsonb)
language sql
stable
set search_path = ''
as $$
  select b.id, b.ref, b.texts, b.audience from public.broadcasts b
   where b.status = 'scheduled' and b.send_at <= p_now
   order by b.send_at, b.ref
   limit least(greatest(p_limit, 1), 100);
$$;

-- ----------------------------------------------------------------------------
-- Short lists as one jsonb array: the care calendar, districts, one day's
-- plan items of a child.
-- ----------------------------------------------------------------------------
drop function public.care_items_list();
create function public.care_items_list()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(to_jsonb(i) order by i.kind, i.group_key, i.dose), '[]'::jsonb)
    from public.care_items i where i.active;
$$;

drop function public.districts_list();
create function public.districts_list()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('code', d.code, 'name', d.name) order by d.sort_order, d.name), '[]'::jsonb)
    from public.districts d where d.active;
$$;

drop function public.plan_items_on(uuid, date);
create function public.plan_items_on(p_child_id uuid, p_due_on date)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('item_code', i.code, 'group_key', i.group_key, 'dose', i.dose, 'name_it', i.name_it) order by i.kind, i.group_key), '[]'::jsonb)
    from public.child_plan p join public.care_items i on i.code = p.item_code
   where p.child_id = p_child_id and p.due_on = p_due_on;
$$;

revoke execute on function public.reminders_candidates(date, int, int, uuid, int) from public, anon, authenticated;
revoke execute on function public.calls_notices_due(date, uuid, int) from public, anon, authenticated;
revoke execute on function public.broadcasts_due(timestamptz, int) from public, anon, authenticated;
revoke execute on function public.care_items_list() from public, anon, authenticated;
revoke execute on function public.districts_list() from public, anon, authenticated;
revoke execute on function public.plan_items_on(uuid, date) from public, anon, authenticated;
grant execute on function public.reminders_candidates(date, int, int, uuid, int) to service_role;
grant execute on function public.calls_notices_due(date, uuid, int) to service_role;
grant execute on function public.broadcasts_due(timestamptz, int) to service_role;
grant execute on function public.care_items_list() to service_role;
grant execute on function public.districts_list() to service_role;
grant execute on function public.plan_items_on(uuid, date) to service_role;
