-- ============================================================================
-- Care plans faster (issue 22, item 3): child_plan's child and item are held
-- by triggers instead of foreign keys (a key's check per row cost more than
-- writing the row; the one writer takes both from what it has just read and
-- holds); the reminder indexes lead with the child, so the daily job reads a
-- page of children by their own rows; care_plan_children plans, takes in the
-- catch-up and stores a page in one statement, without a temporary table.
-- Only the new and changed definitions.
-- ============================================================================

alter table public.child_plan drop constraint child_plan_child_id_fkey, drop constraint child_plan_item_code_fkey;
drop index public.child_plan_due_idx;
drop index public.child_plan_booked_idx;
drop index public.child_plan_late_idx;
-- what a reminder stage can apply to, child first: the daily job reads a page of children by their own rows
create index child_plan_due_idx on public.child_plan (child_id, due_on, window_end) where status in ('planned', 'not_yet');
create index child_plan_booked_idx on public.child_plan (child_id, booked_on) where status = 'booked';
create index child_plan_late_idx on public.child_plan (child_id, updated_at) where status = 'overdue' and late_at_registration;

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
create or replace function public.care_plan_children(p_child_ids uuid[], p_today date, p_soon_days int, p_now timestamptz)
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
-- reminders_candidates: open plan rows worth a look today, with the child, the
-- family's contacts and tutor; the job decides the stage
-- ----------------------------------------------------------------------------
create or replace function public.reminders_candidates(p_today date, p_before_days int, p_followup_days int, p_after uuid, p_limit int)
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

revoke execute on function private.child_plan_erase(), private.care_items_cascade() from public, anon, authenticated;
