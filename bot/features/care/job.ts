import { format } from 'date-fns';
import { DEFAULT_PLAN_RULES, planChild, type CareItem, type ChildToPlan, type PlanRules } from '../../care/plan';
import { DEFAULT_RULES, reminderMessages, type Candidate } from '../../care/reminders';
import type { Db } from '../../db/client';
import { call } from '../../db/rpc';
import { inRome, romeDay } from '../../time';
import { queuePages, type Page } from '../../core/paged';
import type { Job } from '../../core/jobs';

const BATCH = 500;
/** children per page of reminder candidates: each page is one short call, whatever the programme's size */
export const CHILDREN_PER_PAGE = 1000;


/** Plans every child whose birth (or due) date changed since its last plan, a batch at a time. */
export async function planPending(db: Db, today: string, nowIso: string, rules: PlanRules = DEFAULT_PLAN_RULES): Promise<number> {
  const calendar = await call<CareItem[]>(db, 'care_items_list', {});
  let planned = 0;
  for (;;) {
    const pending = await call<ChildToPlan[]>(db, 'plan_pending', { p_limit: BATCH });
    if (pending.length === 0) return planned;
    const plans = pending.map((c) => planChild(calendar, c, today, rules));
    planned += await call<number>(db, 'plan_store', { p_plans: plans, p_now: nowIso });
  }
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
