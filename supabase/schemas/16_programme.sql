-- ============================================================================
-- PROGRAMME: the programme's monitoring figures for a period; counts only,
-- no person
-- ============================================================================

-- ----------------------------------------------------------------------------
-- programme_report: families, children, needs and calls followed in a period,
-- week by week, for the report command
-- ----------------------------------------------------------------------------
create function public.programme_report(p_from date, p_to date, p_now timestamptz)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_from timestamptz := (p_from::timestamp at time zone 'Europe/Rome');
  v_to timestamptz := ((p_to + 1)::timestamp at time zone 'Europe/Rome');
  v_result jsonb;
begin
  with fam as (
    select f.id, f.created_at, coalesce(f.district_code, '-') as district,
           coalesce((select c.language from public.contacts c where c.family_id = f.id order by c.created_at limit 1), '-') as language,
           coalesce((select c.channel from public.contacts c where c.family_id = f.id order by c.created_at limit 1), '-') as channel,
           coalesce((select 'T-' || s.ref from public.family_assignments a join public.staff s on s.id = a.tutor_id
                      where a.family_id = f.id and a.ended_at is null), 'queue') as tutor
      from public.families f where f.status = 'active' and f.created_at < v_to
  ),
  kids as (
    select ch.id, ch.created_at, fam.district, fam.language, fam.channel, fam.tutor
      from public.children ch join fam on fam.id = ch.family_id
     where ch.created_at < v_to and (ch.birth_date is null or ch.birth_date > p_to - interval '72 months')
  ),
  need as (
    select n.category, n.urgency, n.kind, n.created_at, n.taken_at, n.resolved_at,
           extract(epoch from (n.taken_at - n.created_at)) / 3600.0 as take_h,
           extract(epoch from (n.resolved_at - n.created_at)) / 3600.0 as resolve_h
      from public.needs n where n.created_at >= v_from and n.created_at < v_to
  ),
  weeks as (
    select generate_series(date_trunc('week', p_from::timestamp), date_trunc('week', p_to::timestamp), interval '1 week')::date as week
  )
  select jsonb_build_object(
    'period', jsonb_build_object('from', p_from, 'to', p_to),
    'families', jsonb_build_object(
      'total', (select count(*) from fam),
      'new', (select count(*) from fam where fam.created_at >= v_from),
      'by_language', (select coalesce(jsonb_object_agg(x.k, x.n), '{}'::jsonb) from (select fam.language as k, count(*) as n from fam group by 1) x),
      'by_district', (select coalesce(jsonb_object_agg(x.k, x.n), '{}'::jsonb) from (select fam.district as k, count(*) as n from fam group by 1) x),
      'by_tutor', (select coalesce(jsonb_object_agg(x.k, x.n), '{}'::jsonb) from (select fam.tutor as k, count(*) as n from fam group by 1) x),
      'by_channel', (select coalesce(jsonb_object_agg(x.k, x.n), '{}'::jsonb) from (select fam.channel as k, count(*) as n from fam group by 1) x)),
    'children', jsonb_build_object(
      'total', (select count(*) from kids),
      'new', (select count(*) from kids where kids.created_at >= v_from),
      'by_language', (select coalesce(jsonb_object_agg(x.k, x.n), '{}'::jsonb) from (select kids.language as k, count(*) as n from kids group by 1) x),
      'by_district', (select coalesce(jsonb_object_agg(x.k, x.n), '{}'::jsonb) from (select kids.district as k, count(*) as n from kids group by 1) x),
      'by_tutor', (select coalesce(jsonb_object_agg(x.k, x.n), '{}'::jsonb) from (select kids.tutor as k, count(*) as n from kids group by 1) x),
      'by_channel', (select coalesce(jsonb_object_agg(x.k, x.n), '{}'::jsonb) from (select kids.channel as k, count(*) as n from kids group by 1) x)),
    'reminders', jsonb_build_object(
      'sent', (select count(*) from public.outbox o where o.kind = 'reminder' and o.status = 'sent' and o.sent_at >= v_from and o.sent_at < v_to),
      'done', (select count(*) from public.child_plan p where p.status = 'done' and p.done_on between p_from and p_to),
      'mandatory_overdue', (select count(*) from public.child_plan p join public.care_items i on i.code = p.item_code
                              join public.children ch on ch.id = p.child_id join public.families f on f.id = ch.family_id
                             where f.status = 'active' and i.mandatory and p.status in ('planned', 'not_yet', 'overdue') and p.window_end < p_to),
      'children_mandatory_overdue', (select count(distinct p.child_id) from public.child_plan p join public.care_items i on i.code = p.item_code
                              join public.children ch on ch.id = p.child_id join public.families f on f.id = ch.family_id
                             where f.status = 'active' and i.mandatory and p.status in ('planned', 'not_yet', 'overdue') and p.window_end < p_to),
      'weekly', (select coalesce(jsonb_agg(jsonb_build_object('week', w.week,
                   'sent', (select count(*) from public.outbox o where o.kind = 'reminder' and o.status = 'sent'
                             and o.sent_at >= greatest(v_from, w.week::timestamp at time zone 'Europe/Rome')
                             and o.sent_at < least(v_to, (w.week + 7)::timestamp at time zone 'Europe/Rome')),
                   'done', (select count(*) from public.child_plan p where p.status = 'done'
                             and p.done_on >= greatest(p_from, w.week) and p.done_on <= least(p_to, w.week + 6))) order by w.week), '[]'::jsonb) from weeks w)),
    'needs', jsonb_build_object(
      'total', (select count(*) from need where need.kind = 'need'),
      'by_area', (select coalesce(jsonb_object_agg(x.category, x.v), '{}'::jsonb) from (
                   select need.category, jsonb_build_object('total', count(*), 'urgent', count(*) filter (where need.urgency = 'urgent'),
                            'taken', count(need.taken_at), 'resolved', count(need.resolved_at),
                            'median_take_hours', round((percentile_cont(0.5) within group (order by need.take_h))::numeric, 1),
                            'median_resolve_hours', round((percentile_cont(0.5) within group (order by need.resolve_h))::numeric, 1)) as v
                     from need where need.kind = 'need' group by need.category) x),
      'by_urgency', (select coalesce(jsonb_object_agg(x.urgency, x.v), '{}'::jsonb) from (
                   select need.urgency, jsonb_build_object('total', count(*), 'taken', count(need.taken_at), 'resolved', count(need.resolved_at),
                            'median_take_hours', round((percentile_cont(0.5) within group (order by need.take_h))::numeric, 1),
                            'median_resolve_hours', round((percentile_cont(0.5) within group (order by need.resolve_h))::numeric, 1)) as v
                     from need where need.kind = 'need' group by need.urgency) x),
      'weekly', (select coalesce(jsonb_agg(jsonb_build_object('week', w.week, 'areas', (
                   select coalesce(jsonb_object_agg(x.category, x.n), '{}'::jsonb) from (
                     select need.category, count(*) as n from need
                      where need.kind = 'need' and need.created_at >= w.week::timestamp at time zone 'Europe/Rome'
                        and need.created_at < (w.week + 7)::timestamp at time zone 'Europe/Rome' group by 1) x)) || (
                   -- the week's needs taken in charge and resolved, and how long they took
                   select jsonb_build_object('taken', count(need.taken_at), 'resolved', count(need.resolved_at),
                            'median_take_hours', round((percentile_cont(0.5) within group (order by need.take_h))::numeric, 1),
                            'median_resolve_hours', round((percentile_cont(0.5) within group (order by need.resolve_h))::numeric, 1))
                     from need where need.kind = 'need' and need.created_at >= w.week::timestamp at time zone 'Europe/Rome'
                      and need.created_at < (w.week + 7)::timestamp at time zone 'Europe/Rome') order by w.week), '[]'::jsonb) from weeks w)),
    'questions', jsonb_build_object(
      'answered', (select count(*) from public.kb_answers k where k.answered_at >= v_from and k.answered_at < v_to),
      'helped', (select count(*) from public.kb_answers k where k.answered_at >= v_from and k.answered_at < v_to and k.helped),
      'forwarded', (select count(*) from need where need.kind = 'question')),
    'calls', jsonb_build_object(
      'following', (select count(*) from public.call_follows cf join public.families f on f.id = cf.family_id where f.status = 'active' and cf.following),
      'applied', (select count(*) from public.call_follows cf where cf.applied_at >= v_from and cf.applied_at < v_to),
      'by_kind', (select coalesce(jsonb_object_agg(x.kind, x.v), '{}'::jsonb) from (
                   select c.kind, jsonb_build_object('following', count(*) filter (where cf.following),
                            'applied', count(*) filter (where cf.applied_at >= v_from and cf.applied_at < v_to)) as v
                     from public.call_follows cf join public.calls c on c.id = cf.call_id group by c.kind) x)),
    -- every broadcast released in the period, one cancelled while sending too (what it sent did leave);
    -- recipients = skipped + queued, and queued = sent + failed + held + cancelled + waiting (+ erased since)
    'broadcasts', (
      select jsonb_build_object('total', count(*),
               'recipients', coalesce(sum((x.c ->> 'recipients')::int), 0), 'queued', coalesce(sum((x.c ->> 'queued')::int), 0),
               'sent', coalesce(sum((x.c ->> 'sent')::int), 0),
               'delivered', coalesce(sum((x.c ->> 'delivered')::int), 0), 'read', coalesce(sum((x.c ->> 'read')::int), 0),
               'failed', coalesce(sum((x.c ->> 'failed')::int), 0), 'held', coalesce(sum((x.c ->> 'held')::int), 0),
               'cancelled', coalesce(sum((x.c ->> 'cancelled')::int), 0), 'waiting', coalesce(sum((x.c ->> 'waiting')::int), 0),
               'skipped', coalesce(sum((x.c -> 'skipped' ->> 'paused')::int + (x.c -> 'skipped' ->> 'unreachable')::int), 0),
               'fallback', coalesce(sum((x.c ->> 'fallback')::int), 0))
        from (select public.broadcast_counts(b.id) as c from public.broadcasts b
               where b.released_at >= v_from and b.released_at < v_to) x)
  ) into v_result;
  return v_result;
end;
$$;

-- the same figures for a coordinator in chat (audited)
create function public.staff_programme_report(p_contact_id uuid, p_from date, p_to date, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.staff_require(p_contact_id, array['coordinator']);
begin
  insert into public.audit_log (at, staff_id, action, details) values (p_now, v_staff.id, 'report.read', jsonb_build_object('from', p_from, 'to', p_to));
  return public.programme_report(p_from, p_to, p_now);
end;
$$;
