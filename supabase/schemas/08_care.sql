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
-- A child's plan: one row per care item
-- ----------------------------------------------------------------------------
create table public.child_plan (
  child_id uuid not null references public.children (id) on delete cascade,
  item_code text not null references public.care_items (code) on update cascade on delete cascade,
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
create index child_plan_due_idx on public.child_plan (window_end, due_on) where status in ('planned', 'not_yet');
create index child_plan_booked_idx on public.child_plan (booked_on) where status = 'booked';
create index child_plan_late_idx on public.child_plan (updated_at) where status = 'overdue';
alter table public.child_plan enable row level security;

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
-- plan_pending: children whose plan must be (re)computed, with what was done
-- ----------------------------------------------------------------------------
create function public.plan_pending(p_limit int)
returns table (child_id uuid, birth_date date, due_date date, first_plan boolean, done jsonb)
language sql
stable
set search_path = ''
as $$
  select c.id, c.birth_date, c.due_date, c.planned_for is null and not exists (select 1 from public.child_plan p where p.child_id = c.id),
         coalesce((select jsonb_object_agg(p.item_code, p.done_on) from public.child_plan p where p.child_id = c.id and p.status = 'done'), '{}'::jsonb)
    from public.children c
   where c.planned_for is distinct from coalesce(c.birth_date, c.due_date)
   order by c.id
   limit p_limit;
$$;

-- ----------------------------------------------------------------------------
-- plan_store: computed plans. p_plans: [{child_id, planned_for, items:
-- [{code, due_on, window_end, late, catchup}]}]. The first plan says apart what
-- is behind her (late) and what the one catch-up summary lists (catchup), so
-- the catch-up and the day's reminders never name the same thing: an item late
-- or in the catch-up is 'overdue' (never reminded one by one);
-- late_at_registration marks the catch-up's items (a plan without "catchup":
-- the late ones). What she said (done, booked) is kept.
-- ----------------------------------------------------------------------------
create function public.plan_store(p_plans jsonb, p_now timestamptz)
returns int
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_plan jsonb;
  v_n int := 0;
begin
  for v_plan in select e from jsonb_array_elements(p_plans) e loop
    delete from public.child_plan p
     where p.child_id = (v_plan ->> 'child_id')::uuid
       and p.status <> 'done'
       and not exists (select 1 from jsonb_array_elements(v_plan -> 'items') i where i ->> 'code' = p.item_code);
    insert into public.child_plan (child_id, item_code, due_on, window_end, status, late_at_registration, updated_at)
    select (v_plan ->> 'child_id')::uuid, i ->> 'code', (i ->> 'due_on')::date, (i ->> 'window_end')::date,
           case when coalesce((i ->> 'late')::boolean, false) or coalesce((i ->> 'catchup')::boolean, false) then 'overdue' else 'planned' end,
           coalesce((i ->> 'catchup')::boolean, (i ->> 'late')::boolean, false), p_now
      from jsonb_array_elements(v_plan -> 'items') i
    on conflict (child_id, item_code) do update
       set due_on = excluded.due_on, window_end = excluded.window_end, updated_at = p_now
     where public.child_plan.status <> 'done';
    update public.children set planned_for = (v_plan ->> 'planned_for')::date
     where id = (v_plan ->> 'child_id')::uuid;
    v_n := v_n + 1;
  end loop;
  return v_n;
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
-- reminders_enqueue: the job's messages, each once by its key. A message with
-- choices carries its question, which becomes hers when it is sent; a second
-- question for her on the same day waits for the next day, so at most one
-- numbered reminder menu is open at a time.
-- p_messages: [{contact_id, key, kind, payload, not_before, question}]
-- ----------------------------------------------------------------------------
create function public.reminders_enqueue(p_messages jsonb, p_now timestamptz)
returns int
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_m jsonb;
  v_n int := 0;
  v_not_before timestamptz;
  v_count int;
begin
  for v_m in select e from jsonb_array_elements(p_messages) e loop
    v_not_before := (v_m ->> 'not_before')::timestamptz;
    if v_m ? 'question' then
      -- the day (Rome) of her latest question still to send or sent that day: this one comes the day after
      while exists (
        select 1 from public.outbox o
         where o.contact_id = (v_m ->> 'contact_id')::uuid and o.question is not null
           and o.idempotency_key <> v_m ->> 'key'
           and o.status in ('pending', 'sending', 'sent', 'held')
           and (o.not_before at time zone 'Europe/Rome')::date = (v_not_before at time zone 'Europe/Rome')::date) loop
        v_not_before := v_not_before + interval '1 day';
      end loop;
    end if;
    insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, question, not_before, created_at, updated_at)
    select v_m ->> 'key', c.id, c.channel, v_m ->> 'kind', 5, v_m -> 'payload', v_m -> 'question', v_not_before, p_now, p_now
      from public.contacts c where c.id = (v_m ->> 'contact_id')::uuid
    on conflict (idempotency_key) do nothing;
    get diagnostics v_count = row_count;
    v_n := v_n + v_count;
  end loop;
  return v_n;
end;
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
