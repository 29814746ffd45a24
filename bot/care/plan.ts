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
  /** first plan only: its window had already closed */
  late: boolean;
  /** first plan only: listed in the one catch-up summary, never reminded one by one */
  catchup: boolean;
}

export interface ChildPlan {
  child_id: string;
  planned_for: string;
  items: PlannedItem[];
}

/** How the plan meets the reminders: what counts as "soon" must be what the reminders announce. */
export interface PlanRules {
  /** days before its due day an item is first reminded (the reminders' beforeDays) */
  soonDays: number;
}

export const DEFAULT_PLAN_RULES: PlanRules = { soonDays: 7 };

/** A missed check-up is not made up when the next check-up is due within this many days: that visit covers it. */
export const NEXT_CHECKUP_COVERS_DAYS = 30;

const day = (d: Date) => format(d, 'yyyy-MM-dd');
const addDaysIso = (d: string, n: number) => day(addDays(parseISO(d), n));

interface Slot {
  item: CareItem;
  planned: PlannedItem;
}

/**
 * A child's plan from the calendar: each item at its offset from the birth (a pregnancy's steps from the due
 * date), never sooner than the minimum gap after the previous dose (done or planned). On the first plan, what is
 * already behind goes in one catch-up summary (see catchUp), and nothing in it is ever reminded one by one.
 * The job plans in the database (care_plan_children, set-based); this is the reference it is tested against
 * (test/care/plan-set-based.test.ts), and the spec of the rules.
 */
export function planChild(calendar: CareItem[], child: ChildToPlan, today: string, rules: PlanRules = DEFAULT_PLAN_RULES): ChildPlan {
  const born = child.birth_date !== null;
  const anchor = parseISO((child.birth_date ?? child.due_date)!);
  const items = calendar
    .filter((i) => (born ? i.kind !== 'pregnancy' : i.kind === 'pregnancy'))
    .sort((a, b) => a.group_key.localeCompare(b.group_key) || a.dose - b.dose);
  const previous = new Map<string, Date>();
  const slots: Slot[] = [];
  for (const item of items) {
    let due = addDays(addMonths(anchor, item.offset_months), item.offset_days);
    const prev = previous.get(item.group_key);
    if (prev && item.min_gap_days) due = max([due, addDays(prev, item.min_gap_days)]);
    const windowEnd = addDays(due, item.window_days);
    const done = child.done[item.code];
    previous.set(item.group_key, done ? parseISO(done) : due);
    const late = child.first_plan && !done && day(windowEnd) < today;
    slots.push({ item, planned: { code: item.code, due_on: day(due), window_end: day(windowEnd), late, catchup: false } });
  }
  if (child.first_plan) catchUp(slots, child.done, today, rules);
  const out = slots.map((s) => s.planned);
  out.sort((a, b) => a.due_on.localeCompare(b.due_on) || a.code.localeCompare(b.code));
  return { child_id: child.child_id, planned_for: (child.birth_date ?? child.due_date)!, items: out };
}

/**
 * What the first plan's catch-up lists, so that it never contradicts a reminder of the same days:
 * - a vaccine dose whose window has closed;
 * - with it, the vaccines due the same day (one visit) and the later doses of its series already due or due soon
 *   (the pediatrician plans the rest of a series that is behind: a reminder for dose 2 beside "dose 1 is missing"
 *   would say the opposite);
 * - a check-up cannot be made up the way a vaccine can: only the latest missed one, and only when the next one is
 *   more than NEXT_CHECKUP_COVERS_DAYS away; an earlier one is just behind her (late, in no message).
 * A pregnancy step past its window is behind her too.
 */
function catchUp(slots: Slot[], done: Record<string, string>, today: string, rules: PlanRules): void {
  const soon = addDaysIso(today, rules.soonDays);
  const open = (s: Slot) => !done[s.item.code];
  const vaccines = slots.filter((s) => s.item.kind === 'vaccine' && open(s));
  for (const s of vaccines) if (s.planned.late) s.planned.catchup = true;
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of vaccines) {
      if (s.planned.catchup) continue;
      const sameVisit = vaccines.some((o) => o.planned.catchup && o.planned.due_on === s.planned.due_on);
      const seriesBehind = s.planned.due_on <= soon && vaccines.some((o) => o.planned.catchup && o.item.group_key === s.item.group_key && o.item.dose < s.item.dose);
      if (sameVisit || seriesBehind) {
        s.planned.catchup = true;
        changed = true;
      }
    }
  }

  const checkups = slots.filter((s) => s.item.kind === 'checkup').sort((a, b) => a.planned.due_on.localeCompare(b.planned.due_on));
  const missed = checkups.filter((s) => s.planned.late);
  const latest = missed.at(-1);
  if (latest) {
    const next = checkups.find((s) => s.planned.due_on > latest.planned.due_on && !s.planned.late);
    const covered = next !== undefined && next.planned.due_on <= addDaysIso(today, NEXT_CHECKUP_COVERS_DAYS);
    latest.planned.catchup = !covered;
  }
}
