-- ============================================================================
-- CARE: the care items and each child's plan, and the reminders
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Care items: one row per vaccine dose, check-up or pregnancy step
-- ----------------------------------------------------------------------------
create table public.care_items (
  code text primary key check (code ~ '^[a-z0-9-]{2,40}$'),
  kind text not null check (kind in ('vaccine', 'checkup', 'pregnancy')),
  -- the label group in locales (care.item.<group>); unknown groups show name_it
  group_key text not null check (group_key ~ '^[a-z0-9_]{2,30}$'),
  dose int not null default 1 check (dose between 1 and 9),
  name_it text not null,
  region text not null default 'lombardia',
  -- from the birth (or, for pregnancy steps, from the due date); months first, then days
  offset_months int not null default 0,
  offset_days int not null default 0,
  window_days int not null check (window_days between 0 and 730),
  -- at least this many days after the previous dose of the same group was done
  min_gap_days int check (min_gap_days is null or min_gap_days > 0),
  mandatory boolean not null default false,
  verified boolean not null default true,
  source text not null,
  checked_on date not null,
  active boolean not null default true,
  updated_at timestamptz not null default now()
);
comment on table public.care_items is 'The calendar as data: vaccines, check-ups and pregnancy steps with offset, window, mandatory, source and date checked.';
alter table public.care_items enable row level security;

-- ----------------------------------------------------------------------------
-- A child's plan: one row per care item. Its child and item are held by the
-- triggers below, not by foreign keys: a key's check per row cost more than
-- writing the row (23 rows a child), and the one writer, care_plan_children,
-- takes them from the children and the calendar it has just read and holds.
-- ----------------------------------------------------------------------------
create table public.child_plan (
  -- public.children (id): erased with her (child_plan_erase)
  child_id uuid not null,
  -- public.care_items (code): follows it, and goes with it (care_items_cascade)
  item_code text not null,
  due_on date not null,
  window_end date not null,
  status text not null default 'planned' check (status in ('planned', 'booked', 'done', 'not_yet', 'overdue')),
  booked_on date,
  done_on date,
  snooze_until date,
  -- already past its window when the child was first planned: in the catch-up summary, never reminded one by one
  late_at_registration boolean not null default false,
  updated_at timestamptz not null default now(),
  primary key (child_id, item_code)
);
comment on table public.child_plan is 'Each child''s vaccinations and check-ups: due date, window, and what the mother said (done, booked, not yet).';
-- what a reminder stage can apply to, child first: the daily job reads a page of children by their own rows
create index child_plan_due_idx on public.child_plan (child_id, due_on, window_end) where status in ('planned', 'not_yet');
create index child_plan_booked_idx on public.child_plan (child_id, booked_on) where status = 'booked';
create index child_plan_late_idx on public.child_plan (child_id, updated_at) where status = 'overdue' and late_at_registration;
alter table public.child_plan enable row level security;

-- a child erased (or her family) takes her plan with it, as a cascading key would: once per statement
create function private.child_plan_erase()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  delete from public.child_plan p using gone g where p.child_id = g.id;
  return null;
end;
$$;

create trigger child_plan_erase after delete on public.children referencing old table as gone for each statement execute function private.child_plan_erase();

-- a calendar item renamed or deleted: its plan rows follow it, as a key on update and delete cascade would
create function private.care_items_cascade()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' then
    delete from public.child_plan where item_code = old.code;
    return old;
  end if;
  if new.code is distinct from old.code then
    update public.child_plan set item_code = new.code where item_code = old.code;
  end if;
  return new;
end;
$$;

create trigger care_items_cascade after update of code or delete on public.care_items for each row execute function private.care_items_cascade();

-- ----------------------------------------------------------------------------
-- care_items_list: the active calendar, as one jsonb array
-- ----------------------------------------------------------------------------
create function public.care_items_list()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(to_jsonb(i) order by i.kind, i.group_key, i.dose), '[]'::jsonb)
    from public.care_items i where i.active;
$$;

-- ----------------------------------------------------------------------------
-- care_plan_children: the plans of the given children whose birth (or due)
-- date changed since their last plan, set-based over the calendar and the
-- children (one statement for them all, no loop per child); returns how
-- many were planned. Each item sits at
-- its offset from the birth (a pregnancy's steps from the due date: months
-- first, then days), never sooner than min_gap_days after the previous dose of
-- its group (done or planned). On a child's first plan, what is already past
-- its window is late (behind her, never reminded one by one) and the one
-- catch-up summary lists (late_at_registration): every late vaccine dose, with
-- it the open doses due the same day and the later doses of its series due
-- within p_soon_days (the reminders' "before" days); of the check-ups only the
-- latest missed, unless the next one is due within 30 days. What she said
-- (done, booked) is kept; an item no longer in the calendar leaves the plan
-- unless done. The job plans a page at a time (care_plan_pending); a single
-- child is the same function with one id.
-- ----------------------------------------------------------------------------
create function public.care_plan_children(p_child_ids uuid[], p_today date, p_soon_days int, p_now timestamptz)
returns int
language plpgsql
volatile
set search_path = ''
-- a page is tens of thousands of rows: sorted in memory, no JIT compilation costing more than the statement, and
-- each statement planned for the page it is given (a cached generic plan guesses ten children and loops over them)
set work_mem = '64MB'
set jit = off
set plan_cache_mode = 'force_custom_plan'
as $$
declare
  v_ids uuid[];
  v_anchors date[];
  v_born boolean[];
  v_first boolean[];
begin
  -- the children to plan: new, or their birth (or due) date changed since their last plan; held (a child erased
  -- meanwhile goes once her plan is stored, and takes it with her)
  select coalesce(array_agg(c.id), '{}'), coalesce(array_agg(coalesce(c.birth_date, c.due_date)), '{}'), coalesce(array_agg(c.birth_date is not null), '{}'),
         coalesce(array_agg(c.planned_for is null and not exists (select 1 from public.child_plan p where p.child_id = c.id)), '{}')
    into v_ids, v_anchors, v_born, v_first
    from (select c.* from unnest(p_child_ids) u (id)
            join public.children c on c.id = u.id
           where c.planned_for is distinct from coalesce(c.birth_date, c.due_date)
             for key share of c) c;
  if cardinality(v_ids) = 0 then
    return 0;
  end if;
  -- held, as a foreign key's check would hold them, until the plans are stored: no item or child goes meanwhile
  perform 1 from public.care_items i where i.active for key share;

  -- an item no longer in her calendar (inactive, or a pregnancy's step once born) leaves the plan unless done
  delete from public.child_plan d
   using unnest(v_ids, v_born) k (id, born)
   where d.child_id = any (v_ids)
     and d.child_id = k.id
     and d.status <> 'done'
     and not exists (select 1 from public.care_items i where i.code = d.item_code and i.active and (i.kind = 'pregnancy') = not k.born);

  -- the page's plans, one row per child and item, then the first plan's one catch-up summary, stored in the same
  -- statement: what she said (done, booked) is kept. Late or in the catch-up: 'overdue', never reminded one by one;
  -- late_at_registration: in the catch-up.
  insert into public.child_plan (child_id, item_code, due_on, window_end, status, late_at_registration, updated_at)
  with recursive calendar as (
    -- a born child's items, or a pregnancy's steps; each group's doses in order
    select i.code, i.kind, i.group_key, i.dose, i.offset_months, i.offset_days, i.window_days, i.min_gap_days,
           row_number() over (partition by i.kind = 'pregnancy', i.group_key order by i.dose, i.code) as rank
      from public.care_items i
     where i.active
  ),
  item as (
    -- each item at its offset (months first, then days); a series starts again at its first dose, at a dose
    -- without a minimum gap and after a dose done; gaps: the minimum gaps of the series so far
    select k.id as child_id, k.first_plan, i.code, i.kind, i.group_key, i.dose, i.rank, i.window_days, i.min_gap_days,
           (k.anchor + make_interval(months => i.offset_months))::date + i.offset_days as at_offset, d.done_on,
           count(*) filter (where i.rank = 1 or i.min_gap_days is null or d.done_on is not null) over series as restart,
           (sum(coalesce(i.min_gap_days, 0)) over series)::int as gaps
      from unnest(v_ids, v_anchors, v_born, v_first) k (id, anchor, born, first_plan)
      join calendar i on (i.kind = 'pregnancy') = not k.born
      left join public.child_plan d on d.child_id = k.id and d.item_code = i.code and d.status = 'done'
    window series as (partition by k.id, i.group_key order by i.rank)
  ),
  reach as (
    -- how far each dose pushes the later ones of its stretch: the day it was done (else at its offset), less the gaps so far
    select t.*, max(coalesce(t.done_on, t.at_offset) - t.gaps) over (partition by t.child_id, t.group_key, t.restart order by t.rank) as reach
      from item t
  ),
  planned as materialized (
    -- a dose at its offset, or its gap after the previous dose (done, else planned), whichever is later
    select r.child_id, r.first_plan, r.code, r.kind, r.group_key, r.dose, x.due_on, x.due_on + r.window_days as window_end,
           r.done_on is not null as done, r.first_plan and r.done_on is null and x.due_on + r.window_days < p_today as late
      from (select r.*, lag(r.reach) over (partition by r.child_id, r.group_key order by r.rank) as reached from reach r) r
      cross join lateral (select case when r.min_gap_days is null or r.reached is null then r.at_offset
                                      else greatest(r.at_offset, r.reached + r.gaps) end as due_on) x
  ),
  early as (
    -- all the catch-up can take in of the vaccines: open doses due by p_today + p_soon_days
    select p.child_id, p.code, p.late, p.due_on, p.group_key, dense_rank() over (partition by p.child_id, p.group_key order by p.dose) as dose_rank
      from planned p
     where p.first_plan and p.kind = 'vaccine' and not p.done and p.due_on <= p_today + p_soon_days
  ),
  pulls as materialized (
    -- a dose in it takes in the doses of the same day, and the next doses of its series
    select a.child_id, a.code as from_code, b.code as to_code
      from early a join early b on b.child_id = a.child_id and b.due_on = a.due_on and b.code <> a.code
    union all
    select a.child_id, a.code, b.code
      from early a join early b on b.child_id = a.child_id and b.group_key = a.group_key and b.dose_rank = a.dose_rank + 1
  ),
  vaccines as (
    -- every dose past its window, and what they take in
    select e.child_id, e.code from early e where e.late
    union
    select p.child_id, p.to_code from vaccines v join pulls p on p.child_id = v.child_id and p.from_code = v.code
  ),
  checkups as (
    select p.child_id, p.code, p.late, p.due_on,
           max(p.due_on) filter (where p.late) over (partition by p.child_id) as missed_until,
           p.late and row_number() over (partition by p.child_id, p.late order by p.due_on desc, p.group_key collate "C" desc, p.dose desc, p.code collate "C" desc) = 1 as latest_missed
      from planned p
     where p.first_plan and p.kind = 'checkup'
  ),
  caught as (
    select v.child_id, v.code from vaccines v
    union
    -- of the check-ups only the latest missed, unless the next one is due within 30 days: that visit covers it
    select c.child_id, c.code
      from (select c.*, bool_or(not c.late and c.due_on > c.missed_until and c.due_on <= p_today + 30) over (partition by c.child_id) as covered
              from checkups c) c
     where c.latest_missed and not c.covered
  )
  select p.child_id, p.code, p.due_on, p.window_end, case when p.late or c.code is not null then 'overdue' else 'planned' end, c.code is not null, p_now
    from planned p
    left join caught c on c.child_id = p.child_id and c.code = p.code
  on conflict (child_id, item_code) do update
     set due_on = excluded.due_on, window_end = excluded.window_end, updated_at = p_now
   where public.child_plan.status <> 'done';
  update public.children c set planned_for = k.anchor
    from unnest(v_ids, v_anchors) k (id, anchor)
   where c.id = k.id;
  return cardinality(v_ids);
end;
$$;

-- ----------------------------------------------------------------------------
-- care_plan_pending: one page of the children to plan (new, or whose birth or
-- due date changed), after p_after in id order, planned by
-- care_plan_children: {planned, next}, next null on the last page. Each page
-- is one short call, whatever the programme's size.
-- ----------------------------------------------------------------------------
create function public.care_plan_pending(p_after uuid, p_limit int, p_today date, p_soon_days int, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  select array_agg(s.id order by s.id) into v_ids
    from (select c.id from public.children c
           where (p_after is null or c.id > p_after)
             and c.planned_for is distinct from coalesce(c.birth_date, c.due_date)
           order by c.id
           limit greatest(p_limit, 1)) s;
  return jsonb_build_object(
    'planned', case when v_ids is null then 0 else public.care_plan_children(v_ids, p_today, p_soon_days, p_now) end,
    'next', case when cardinality(v_ids) >= greatest(p_limit, 1) then v_ids[cardinality(v_ids)] end);
end;
$$;

-- ----------------------------------------------------------------------------
-- reminders_candidates: open plan rows worth a look today, with the child, the
-- family's contacts and tutor; the job decides the stage
-- ----------------------------------------------------------------------------
create function public.reminders_candidates(p_today date, p_before_days int, p_followup_days int, p_after uuid, p_limit int)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with kids as (
    -- a page is the next p_limit children by id, each read by its own rows (the partial indexes lead with the
    -- child), so it costs what it returns whatever the programme's size
    (select c.id from public.children c where p_after is null order by c.id limit greatest(p_limit, 1))
    union all
    (select c.id from public.children c where c.id > p_after order by c.id limit greatest(p_limit, 1))
  ),
  due as (
    -- only rows a stage can apply to today, so the daily cost follows what is due, not every child's history:
    -- each stage by its own index, looked up child by child
    select p.* from public.child_plan p
     where p.child_id = any (array(select k.id from kids k))
       and p.status in ('planned', 'not_yet') and p.due_on <= p_today + p_before_days and p.window_end >= p_today - p_followup_days
    union all
    select p.* from public.child_plan p
     where p.child_id = any (array(select k.id from kids k))
       and p.status = 'booked' and p.booked_on >= p_today
    union all
    select p.* from public.child_plan p
     where p.child_id = any (array(select k.id from kids k))
       and p.status = 'overdue' and p.late_at_registration and p.updated_at >= p_today - 2
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
      from due p
      join public.care_items i on i.code = p.item_code and i.active
      join public.children c on c.id = p.child_id and c.reminders
      join public.families f on f.id = c.family_id and f.status = 'active'
      left join public.districts d on d.code = f.district_code
  )
  select jsonb_build_object(
    'rows', coalesce((select jsonb_agg(to_jsonb(r) order by r.child_id, r.due_on, r.kind, r.group_key) from page r), '[]'::jsonb),
    'next', case when (select count(*) from kids) >= greatest(p_limit, 1) then (select k.id from kids k order by k.id desc limit 1) end
  );
$$;

-- ----------------------------------------------------------------------------
-- reminders_enqueue: the job's messages, each once by its key, in one
-- statement. A message with choices carries its question, which becomes hers
-- when it is sent; a second question for her on the same day waits for the
-- next free day (in the order given), so at most one numbered reminder menu
-- is open at a time. Returns how many were queued.
-- p_messages: [{contact_id, key, kind, payload, not_before, question}]
-- ----------------------------------------------------------------------------
create function public.reminders_enqueue(p_messages jsonb, p_now timestamptz)
returns int
language sql
volatile
set search_path = ''
as $$
  with recursive message as (
    select e.ord, e.m ->> 'key' as key, (e.m ->> 'contact_id')::uuid as contact_id, e.m ->> 'kind' as kind,
           e.m -> 'payload' as payload, e.m -> 'question' as question, e.m ? 'question' as asks,
           (e.m ->> 'not_before')::timestamptz as not_before
      from jsonb_array_elements(p_messages) with ordinality e (m, ord)
  ),
  fresh as (
    -- what is queued: the first message of each key not queued before, to a contact that exists
    select distinct on (m.key) m.*, c.channel
      from message m
      join public.contacts c on c.id = m.contact_id
     where not exists (select 1 from public.outbox o where o.idempotency_key = m.key)
     order by m.key, m.ord
  ),
  asking as (
    select f.key, f.contact_id, f.not_before, row_number() over (partition by f.contact_id order by f.ord) as n
      from fresh f
     where f.asks
  ),
  busy as (
    -- the days (Rome) on which a question for her is still to send or was sent
    select o.contact_id, array_agg(distinct (o.not_before at time zone 'Europe/Rome')::date) as days
      from public.outbox o
     where o.contact_id in (select a.contact_id from asking a)
       and o.question is not null
       and o.status in ('pending', 'sending', 'sent', 'held')
     group by o.contact_id
  ),
  placed as (
    -- her questions one after the other: each on the first of its day and the next ones that is still free
    select a.contact_id, a.n, a.key, s.shift, b.days || ((a.not_before + s.shift * interval '1 day') at time zone 'Europe/Rome')::date as days
      from asking a
      cross join lateral (select coalesce((select y.days from busy y where y.contact_id = a.contact_id), '{}') as days) b
      cross join lateral (select min(g) as shift from generate_series(0, cardinality(b.days)) g
                           where not ((a.not_before + g * interval '1 day') at time zone 'Europe/Rome')::date = any (b.days)) s
     where a.n = 1
    union all
    select a.contact_id, a.n, a.key, s.shift, p.days || ((a.not_before + s.shift * interval '1 day') at time zone 'Europe/Rome')::date
      from placed p
      join asking a on a.contact_id = p.contact_id and a.n = p.n + 1
      cross join lateral (select min(g) as shift from generate_series(0, cardinality(p.days)) g
                           where not ((a.not_before + g * interval '1 day') at time zone 'Europe/Rome')::date = any (p.days)) s
  ),
  queued as (
    insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, question, not_before, created_at, updated_at)
    select f.key, f.contact_id, f.channel, f.kind, 5, f.payload, f.question, f.not_before + coalesce(p.shift, 0) * interval '1 day', p_now, p_now
      from fresh f
      left join placed p on p.key = f.key
     order by f.ord
    on conflict (idempotency_key) do nothing
    returning 1
  )
  select count(*)::int from queued;
$$;

-- ----------------------------------------------------------------------------
-- staff_family_plan: a family's children and their plans, for its tutor or a
-- coordinator (audited)
-- ----------------------------------------------------------------------------
create function public.staff_family_plan(p_contact_id uuid, p_family_ref bigint, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_card jsonb := public.staff_family_lookup(p_contact_id, p_family_ref, p_now);
begin
  if v_card is null then
    return null;
  end if;
  return v_card || jsonb_build_object('plans', coalesce((
    select jsonb_agg(jsonb_build_object('child_id', c.id, 'name', c.name, 'birth_date', c.birth_date, 'reminders', c.reminders,
             'items', coalesce((select jsonb_agg(jsonb_build_object('code', i.code, 'group_key', i.group_key, 'dose', i.dose, 'name_it', i.name_it,
                                  'due_on', p.due_on, 'status', p.status, 'done_on', p.done_on, 'booked_on', p.booked_on) order by p.due_on, i.group_key)
                                  from public.child_plan p join public.care_items i on i.code = p.item_code
                                 where p.child_id = c.id and i.kind <> 'pregnancy'), '[]'::jsonb))
           order by c.birth_date)
      from public.children c where c.family_id = (v_card ->> 'id')::uuid and c.birth_date is not null), '[]'::jsonb));
end;
$$;

-- ----------------------------------------------------------------------------
-- care_items_upsert: the calendar edited by a coordinator (CSV); a changed row
-- makes every child be planned again at the next run
-- ----------------------------------------------------------------------------
create function public.care_items_upsert(p_items jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_added int;
  v_changed int;
begin
  select count(*) into v_added from jsonb_array_elements(p_items) e
   where not exists (select 1 from public.care_items i where i.code = e ->> 'code');
  with incoming as (
    select * from jsonb_populate_recordset(null::public.care_items, p_items)
  ), changed as (
    insert into public.care_items (code, kind, group_key, dose, name_it, region, offset_months, offset_days, window_days, min_gap_days, mandatory, verified, source, checked_on, active, updated_at)
    select code, kind, group_key, dose, name_it, region, offset_months, offset_days, window_days, min_gap_days, mandatory, verified, source, checked_on, active, p_now from incoming
    on conflict (code) do update
       set kind = excluded.kind, group_key = excluded.group_key, dose = excluded.dose, name_it = excluded.name_it, region = excluded.region,
           offset_months = excluded.offset_months, offset_days = excluded.offset_days, window_days = excluded.window_days,
           min_gap_days = excluded.min_gap_days, mandatory = excluded.mandatory, verified = excluded.verified, source = excluded.source,
           checked_on = excluded.checked_on, active = excluded.active, updated_at = p_now
     where (public.care_items.kind, public.care_items.group_key, public.care_items.dose, public.care_items.name_it, public.care_items.region,
            public.care_items.offset_months, public.care_items.offset_days, public.care_items.window_days, public.care_items.min_gap_days,
            public.care_items.mandatory, public.care_items.verified, public.care_items.source, public.care_items.checked_on, public.care_items.active)
           is distinct from
           (excluded.kind, excluded.group_key, excluded.dose, excluded.name_it, excluded.region, excluded.offset_months, excluded.offset_days,
            excluded.window_days, excluded.min_gap_days, excluded.mandatory, excluded.verified, excluded.source, excluded.checked_on, excluded.active)
    returning 1
  )
  select count(*) into v_changed from changed;
  if v_changed > 0 then
    update public.children set planned_for = null where planned_for is not null;
  end if;
  insert into public.audit_log (at, action, details) values (p_now, 'calendar.imported', jsonb_build_object('rows', jsonb_array_length(p_items), 'changed', v_changed));
  return jsonb_build_object('added', v_added, 'updated', v_changed - v_added, 'unchanged', jsonb_array_length(p_items) - v_changed);
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

-- ----------------------------------------------------------------------------
-- plan_items_on: the items of one child due on one day (what a reminder
-- listed), as one jsonb array
-- ----------------------------------------------------------------------------
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

-- ----------------------------------------------------------------------------
-- care_effect_apply: her answers to a reminder (done, booked, not yet, stop
-- these reminders, "I need help"), always about a child of her family. Called
-- by effect_apply for `care.<verb>`; false on a verb it does not know.
-- ----------------------------------------------------------------------------
create function public.care_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_verb text := split_part(p_effect ->> 'op', '.', 2);
  v_child uuid := (p_effect ->> 'child_id')::uuid;
begin
  if v_verb not in ('plan_done', 'plan_book', 'plan_wait', 'reminders', 'need') then
    return false;
  end if;
  if not exists (select 1 from public.children where id = v_child and family_id = p_family_id) then
    raise exception 'child not in this family' using errcode = 'P0002';
  end if;
  case v_verb
  when 'plan_done' then
    update public.child_plan set status = 'done', done_on = (p_effect ->> 'done_on')::date, booked_on = null, snooze_until = null, updated_at = p_now
     where child_id = v_child and due_on = (p_effect ->> 'due_on')::date and status <> 'done';
    update public.children set planned_for = null where id = v_child;
  when 'plan_book' then
    update public.child_plan set status = 'booked', booked_on = (p_effect ->> 'booked_on')::date, updated_at = p_now
     where child_id = v_child and due_on = (p_effect ->> 'due_on')::date and status <> 'done';
  when 'plan_wait' then
    update public.child_plan set status = 'not_yet', snooze_until = (p_effect ->> 'until')::date, updated_at = p_now
     where child_id = v_child and due_on = (p_effect ->> 'due_on')::date and status <> 'done';
  when 'reminders' then
    update public.children set reminders = (p_effect ->> 'on')::boolean, updated_at = p_now where id = v_child;
  when 'need' then
    -- a reminder's "I need help" is a need like the others
    insert into public.needs (id, ref, family_id, child_id, kind, category, source, details, language, created_at, updated_at)
    values (coalesce((p_effect ->> 'id')::uuid, gen_random_uuid()),
            coalesce((p_effect ->> 'ref')::bigint, nextval(pg_get_serial_sequence('public.needs', 'ref'))),
            p_family_id, v_child, 'need', p_effect ->> 'category', p_effect ->> 'source',
            coalesce(p_effect -> 'details', '{}'::jsonb), p_effect ->> 'language', p_now, p_now)
    on conflict (id) do nothing;
  end case;
  return true;
end;
$$;
