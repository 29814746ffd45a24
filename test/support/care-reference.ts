/**
 * Today's planner and enqueue path before issue 22, kept as reference oracles for the set-based SQL
 * (test/care/plan-set-based.test.ts): the plan from planChild (bot/care/plan.ts, still the spec of the catch-up)
 * stored the way plan_store stored it, and reminders_enqueue's per-message loop, copied verbatim into a
 * schema of the test database.
 */
import { planChild, type CareItem, type ChildToPlan, type PlanRules } from '../../bot/care/plan';
import type { SqlExecutor } from '../../bot/db/executor';

/** One stored plan row, as compared. */
export interface PlanRow {
  child_id: string;
  code: string;
  due_on: string;
  window_end: string;
  status: string;
  late_at_registration: boolean;
}

/** What plan_pending read: children whose birth (or due) date changed since their last plan, with what was done. */
export async function pendingChildren(sql: SqlExecutor): Promise<ChildToPlan[]> {
  return sql.query<ChildToPlan>(`
    select c.id as child_id, c.birth_date::text, c.due_date::text,
           c.planned_for is null and not exists (select 1 from public.child_plan p where p.child_id = c.id) as first_plan,
           coalesce((select jsonb_object_agg(p.item_code, p.done_on) from public.child_plan p where p.child_id = c.id and p.status = 'done'), '{}'::jsonb) as done
      from public.children c
     where c.planned_for is distinct from coalesce(c.birth_date, c.due_date)
     order by c.id`);
}

export async function planRows(sql: SqlExecutor): Promise<PlanRow[]> {
  return sql.query<PlanRow>(`
    select child_id::text, item_code as code, due_on::text, window_end::text, status, late_at_registration
      from public.child_plan order by child_id, item_code`);
}

const key = (r: { child_id: string; code: string }) => `${r.child_id} ${r.code}`;

/**
 * The plan rows after today's planner ran over `pending` (planChild, then plan_store's rules): an item late or in
 * the catch-up is 'overdue', late_at_registration marks the catch-up; a row already there keeps its status (a done
 * one is not touched); a row not in the plan goes unless done.
 */
export function referencePlan(before: PlanRow[], pending: ChildToPlan[], calendar: CareItem[], today: string, rules: PlanRules): PlanRow[] {
  const rows = new Map(before.map((r) => [key(r), { ...r }]));
  for (const child of pending) {
    const plan = planChild(calendar, child, today, rules);
    const codes = new Set(plan.items.map((i) => i.code));
    for (const [k, r] of rows) if (r.child_id === child.child_id && r.status !== 'done' && !codes.has(r.code)) rows.delete(k);
    for (const i of plan.items) {
      const k = key({ child_id: child.child_id, code: i.code });
      const had = rows.get(k);
      if (had?.status === 'done') continue;
      if (had) rows.set(k, { ...had, due_on: i.due_on, window_end: i.window_end });
      else rows.set(k, { child_id: child.child_id, code: i.code, due_on: i.due_on, window_end: i.window_end, status: i.late || i.catchup ? 'overdue' : 'planned', late_at_registration: i.catchup });
    }
  }
  return [...rows.values()].sort((a, b) => (a.child_id < b.child_id ? -1 : a.child_id > b.child_id ? 1 : a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}

/** reminders_enqueue as it was: one message at a time, in a schema of its own (two statements). */
export const REFERENCE_ENQUEUE_SQL = ['create schema if not exists care_reference', `
create function care_reference.reminders_enqueue(p_messages jsonb, p_now timestamptz)
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
`];
