-- ============================================================================
-- CARE: the vaccination and check-up calendar (data, editable), each child's
-- plan, the needs a reminder can raise for the tutor
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

-- the birth (or due) date the current plan was computed from; null: plan again
alter table public.children add column planned_for date;

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

-- ----------------------------------------------------------------------------
-- Needs: what a family asks her tutor for (issue 6 grows this)
-- ----------------------------------------------------------------------------
create table public.needs (
  id uuid primary key default gen_random_uuid(),
  family_id uuid not null references public.families (id) on delete cascade,
  child_id uuid references public.children (id) on delete set null,
  kind text not null default 'need' check (kind in ('need', 'question')),
  category text not null check (category in ('health', 'education', 'protection', 'parenting', 'housing', 'work', 'documents', 'other')),
  urgency text not null default 'normal' check (urgency in ('normal', 'urgent')),
  source text not null check (source in ('reminder', 'menu', 'text')),
  details jsonb not null default '{}'::jsonb,
  status text not null default 'open' check (status in ('open', 'in_charge', 'resolved')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.needs is 'A need or question of a family for her tutor: category, urgency, details, and where it stands.';
create index needs_family_idx on public.needs (family_id);

alter table public.care_items enable row level security;
alter table public.child_plan enable row level security;
alter table public.needs enable row level security;
revoke all on table public.care_items, public.child_plan, public.needs from public, anon, authenticated;
grant select, insert, update, delete on table public.care_items, public.child_plan, public.needs to service_role;

-- ----------------------------------------------------------------------------
-- care_items_list: the active calendar
-- ----------------------------------------------------------------------------
create function public.care_items_list()
returns setof public.care_items
language sql
stable
set search_path = ''
as $$
  select * from public.care_items where active order by kind, group_key, dose;
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
-- plan_store: computed plans. p_plans: [{child_id, planned_for, items: [{code,
-- due_on, window_end, late}]}]. What she said (done, booked) is kept.
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
           case when (i ->> 'late')::boolean then 'overdue' else 'planned' end, (i ->> 'late')::boolean, p_now
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
create function public.reminders_candidates(p_today date, p_before_days int, p_followup_days int)
returns table (
  child_id uuid, child_name text, birth_date date, due_date date, family_id uuid, family_ref bigint, district text,
  item_code text, kind text, group_key text, dose int, name_it text, mandatory boolean, verified boolean,
  due_on date, window_end date, status text, booked_on date, snooze_until date, late_at_registration boolean,
  contacts jsonb, tutor_contacts jsonb
)
language sql
stable
set search_path = ''
as $$
  select c.id, c.name, c.birth_date, c.due_date, f.id, f.ref, d.name,
         i.code, i.kind, i.group_key, i.dose, i.name_it, i.mandatory, i.verified,
         p.due_on, p.window_end, p.status, p.booked_on, p.snooze_until, p.late_at_registration,
         coalesce((select jsonb_agg(jsonb_build_object('contact_id', ct.id, 'language', ct.language))
                     from public.contacts ct
                    where ct.family_id = f.id and ct.consent = 'given' and ct.status = 'active'), '[]'::jsonb),
         coalesce((select jsonb_agg(jsonb_build_object('contact_id', sc.id, 'language', sc.language))
                     from public.family_assignments a join public.staff s on s.id = a.tutor_id and s.active
                     join public.contacts sc on sc.staff_id = s.id
                    where a.family_id = f.id and a.ended_at is null), '[]'::jsonb)
    from public.child_plan p
    join public.care_items i on i.code = p.item_code and i.active
    join public.children c on c.id = p.child_id and c.reminders
    join public.families f on f.id = c.family_id and f.status = 'active'
    left join public.districts d on d.code = f.district_code
   -- only rows a stage can apply to today, so the daily cost follows what is due, not every child's history
   where (p.status in ('planned', 'not_yet') and p.due_on <= p_today + p_before_days and p.window_end >= p_today - p_followup_days)
      or (p.status = 'booked' and p.booked_on >= p_today)
      or (p.status = 'overdue' and p.late_at_registration and p.updated_at >= p_today - 2)
   order by c.id, p.due_on, i.kind, i.group_key;
$$;

-- ----------------------------------------------------------------------------
-- reminders_enqueue: the job's messages, each once by its key. A message with
-- choices becomes her current question when she is not in the middle of another.
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
  v_inserted boolean;
begin
  for v_m in select e from jsonb_array_elements(p_messages) e loop
    with queued as (
      insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before, created_at, updated_at)
      select v_m ->> 'key', c.id, c.channel, v_m ->> 'kind', 5, v_m -> 'payload', (v_m ->> 'not_before')::timestamptz, p_now, p_now
        from public.contacts c where c.id = (v_m ->> 'contact_id')::uuid
      on conflict (idempotency_key) do nothing
      returning 1
    )
    select exists (select 1 from queued) into v_inserted;
    if v_inserted then
      v_n := v_n + 1;
      if v_m ? 'question' then
        update public.contacts
           set conversation = v_m -> 'question', updated_at = p_now
         where id = (v_m ->> 'contact_id')::uuid
           and coalesce(conversation ->> 'step', 'menu') in ('menu', 'care');
      end if;
    end if;
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
-- plan_items_on: the items of one child due on one day (what a reminder listed)
-- ----------------------------------------------------------------------------
create function public.plan_items_on(p_child_id uuid, p_due_on date)
returns table (item_code text, group_key text, dose int, name_it text)
language sql
stable
set search_path = ''
as $$
  select i.code, i.group_key, i.dose, i.name_it
    from public.child_plan p join public.care_items i on i.code = p.item_code
   where p.child_id = p_child_id and p.due_on = p_due_on
   order by i.kind, i.group_key;
$$;

-- ----------------------------------------------------------------------------
-- care_effect_apply: her answers to a reminder (called by effect_apply). The
-- child must be of her family.
-- ----------------------------------------------------------------------------
create function public.care_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_child uuid := (p_effect ->> 'child_id')::uuid;
begin
  if not exists (select 1 from public.children where id = v_child and family_id = p_family_id) then
    raise exception 'child not in this family' using errcode = 'P0002';
  end if;
  case p_effect ->> 'op'
  when 'plan_done' then
    update public.child_plan set status = 'done', done_on = (p_effect ->> 'done_on')::date, booked_on = null, snooze_until = null, updated_at = p_now
     where child_id = v_child and due_on = (p_effect ->> 'due_on')::date and status <> 'done';
    -- the next doses keep their spacing from the day this one was done
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
    insert into public.needs (family_id, child_id, kind, category, source, details, created_at, updated_at)
    values (p_family_id, v_child, 'need', p_effect ->> 'category', p_effect ->> 'source', coalesce(p_effect -> 'details', '{}'::jsonb), p_now, p_now);
  else
    raise exception 'unknown effect %', p_effect ->> 'op' using errcode = '22023';
  end case;
end;
$$;

-- ----------------------------------------------------------------------------
-- Grants
-- ----------------------------------------------------------------------------
revoke execute on function public.plan_items_on(uuid, date) from public, anon, authenticated;
revoke execute on function public.care_items_upsert(jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.care_items_upsert(jsonb, timestamptz) to service_role;
revoke execute on function public.care_effect_apply(uuid, uuid, jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.plan_items_on(uuid, date) to service_role;
grant execute on function public.care_effect_apply(uuid, uuid, jsonb, timestamptz) to service_role;
revoke execute on function public.care_items_list() from public, anon, authenticated;
revoke execute on function public.plan_pending(int) from public, anon, authenticated;
revoke execute on function public.plan_store(jsonb, timestamptz) from public, anon, authenticated;
revoke execute on function public.reminders_candidates(date, int, int) from public, anon, authenticated;
revoke execute on function public.reminders_enqueue(jsonb, timestamptz) from public, anon, authenticated;
revoke execute on function public.staff_family_plan(uuid, bigint, timestamptz) from public, anon, authenticated;
grant execute on function public.care_items_list() to service_role;
grant execute on function public.plan_pending(int) to service_role;
grant execute on function public.plan_store(jsonb, timestamptz) to service_role;
grant execute on function public.reminders_candidates(date, int, int) to service_role;
grant execute on function public.reminders_enqueue(jsonb, timestamptz) to service_role;
grant execute on function public.staff_family_plan(uuid, bigint, timestamptz) to service_role;
