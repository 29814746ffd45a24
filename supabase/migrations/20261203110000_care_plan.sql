-- ============================================================================
-- CARE PLAN: the first plan says apart what is behind her (late) and what the
-- one catch-up summary lists (catchup), so the catch-up and the day's reminders
-- never name the same thing
-- ============================================================================

-- ----------------------------------------------------------------------------
-- plan_store (v2): computed plans. p_plans: [{child_id, planned_for, items:
-- [{code, due_on, window_end, late, catchup}]}]. An item late or in the
-- catch-up is 'overdue' (never reminded one by one); late_at_registration marks
-- the catch-up's items (a plan without "catchup": the late ones). What she said
-- (done, booked) is kept.
-- ----------------------------------------------------------------------------
create or replace function public.plan_store(p_plans jsonb, p_now timestamptz)
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

revoke execute on function public.plan_store(jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.plan_store(jsonb, timestamptz) to service_role;
