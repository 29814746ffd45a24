import { addDays, addMonths, format, max, parseISO } from 'date-fns';

/** A row of the calendar (care_items). */
export interface CareItem {
  code: string;
  kind: 'vaccine' | 'checkup' | 'pregnancy';
  group_key: string;
  dose: number;
  name_it: string;
  offset_months: number;
  offset_days: number;
  window_days: number;
  min_gap_days: number | null;
  mandatory: boolean;
  verified: boolean;
}

export interface ChildToPlan {
  child_id: string;
  birth_date: string | null;
  due_date: string | null;
  first_plan: boolean;
  /** item code → the day it was done */
  done: Record<string, string>;
}

export interface PlannedItem {
  code: string;
  due_on: string;
  window_end: string;
  late: boolean;
}

export interface ChildPlan {
  child_id: string;
  planned_for: string;
  items: PlannedItem[];
}

const day = (d: Date) => format(d, 'yyyy-MM-dd');

/**
 * A child's plan from the calendar: each item at its offset from the birth (a pregnancy's steps from the due
 * date), never sooner than the minimum gap after the previous dose (done or planned). On the first plan, an
 * item whose window has already closed is "late": it goes in one catch-up summary, not in reminders.
 */
export function planChild(calendar: CareItem[], child: ChildToPlan, today: string): ChildPlan {
  const born = child.birth_date !== null;
  const anchor = parseISO((child.birth_date ?? child.due_date)!);
  const items = calendar
    .filter((i) => (born ? i.kind !== 'pregnancy' : i.kind === 'pregnancy'))
    .sort((a, b) => a.group_key.localeCompare(b.group_key) || a.dose - b.dose);
  const previous = new Map<string, Date>();
  const out: PlannedItem[] = [];
  for (const item of items) {
    let due = addDays(addMonths(anchor, item.offset_months), item.offset_days);
    const prev = previous.get(item.group_key);
    if (prev && item.min_gap_days) due = max([due, addDays(prev, item.min_gap_days)]);
    const windowEnd = addDays(due, item.window_days);
    const done = child.done[item.code];
    previous.set(item.group_key, done ? parseISO(done) : due);
    out.push({ code: item.code, due_on: day(due), window_end: day(windowEnd), late: child.first_plan && !done && day(windowEnd) < today });
  }
  out.sort((a, b) => a.due_on.localeCompare(b.due_on) || a.code.localeCompare(b.code));
  return { child_id: child.child_id, planned_for: (child.birth_date ?? child.due_date)!, items: out };
}
