import { format } from 'date-fns';
import { DEFAULT_PLAN_RULES, type PlanRules } from '../../care/plan';
import { DEFAULT_RULES, reminderMessages, type Candidate } from '../../care/reminders';
import type { Db } from '../../db/client';
import { call } from '../../db/rpc';
import { inRome, romeDay } from '../../time';
import { queuePages, type Page } from '../../core/paged';
import type { Job } from '../../core/jobs';

/** children per planning call: each page is one short set-based statement, whatever the programme's size */
export const CHILDREN_PER_PLAN_CALL = 1000;
/** children per page of reminder candidates: each page is one short call, whatever the programme's size */
export const CHILDREN_PER_PAGE = 1000;

/**
 * Plans every child whose birth (or due) date changed since its last plan, a page of children per call: the plan is
 * computed in the database from the calendar (care_plan_children; planChild in bot/care/plan.ts is its reference).
 */
export async function planPending(db: Db, today: string, nowIso: string, rules: PlanRules = DEFAULT_PLAN_RULES): Promise<number> {
  let planned = 0;
  let after: string | null = null;
  do {
    const page: { planned: number; next: string | null } = await call(db, 'care_plan_pending', { p_after: after, p_limit: CHILDREN_PER_PLAN_CALL, p_today: today, p_soon_days: rules.soonDays, p_now: nowIso });
    planned += page.planned;
    after = page.next;
  } while (after);
  return planned;
}

/**
 * Hourly within the send window: plans new and changed children, then queues the reminders due today. Every
 * message has an idempotency key, so a second run, or a run in another process, queues nothing new.
 */
export const reminders: Job = {
  name: 'reminders',
  schedule: '0 9-18 * * *',
  description: 'plans children and queues vaccination, check-up and pregnancy reminders (09:00–19:00 Rome)',
  slot: (now) => format(inRome(now), "yyyy-MM-dd'T'HH"),
  async run({ db, i18n, config }, now) {
    const today = romeDay(now);
    const nowIso = now.toISOString();
    const rules = { ...DEFAULT_RULES, beforeDays: config.reminderDaysBefore };
    // the plan's "soon" is the reminders' "before": what the catch-up takes in is never announced beside it
    const planned = await planPending(db, today, nowIso, { soonDays: rules.beforeDays });
    const out = await queuePages(
      db,
      nowIso,
      (after) => call<Page<Candidate>>(db, 'reminders_candidates', { p_today: today, p_before_days: rules.beforeDays, p_followup_days: rules.followupDays, p_after: after, p_limit: CHILDREN_PER_PAGE }),
      (rows) => reminderMessages(i18n, rows, now, today, rules),
    );
    // what was queued, without names: keys carry ids only
    return { today, planned, candidates: out.rows, messages: out.messages, queued: out.queued, stages: out.stages, send_from: out.sendFrom };
  },
};
