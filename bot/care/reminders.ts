import { TZDate } from '@date-fns/tz';
import { addDays, differenceInCalendarDays, format, parseISO } from 'date-fns';
import type { TFunction } from 'i18next';
import type { Choice, Reply } from '../core/types';
import { isLanguage, type Language, type Translator } from '../i18n';
import { ageLabel, formatDate } from '../core/format';
import { PROGRAMME_TZ } from '../time';

/** One open plan row, as reminders_candidates() returns it. */
export interface Candidate {
  child_id: string;
  child_name: string | null;
  birth_date: string | null;
  due_date: string | null;
  family_id: string;
  family_ref: number;
  district: string | null;
  item_code: string;
  kind: 'vaccine' | 'checkup' | 'pregnancy';
  group_key: string;
  dose: number;
  name_it: string;
  mandatory: boolean;
  verified: boolean;
  due_on: string;
  window_end: string;
  status: 'planned' | 'not_yet' | 'booked' | 'overdue';
  booked_on: string | null;
  snooze_until: string | null;
  late_at_registration: boolean;
  contacts: { contact_id: string; language: string }[];
  tutor_contacts: { contact_id: string; language: string }[];
}

export interface QueuedMessage {
  contact_id: string;
  key: string;
  kind: 'reminder' | 'staff_notice' | 'call_notice';
  payload: Reply & Record<string, unknown>;
  not_before: string;
  question?: { step: 'care' | 'menu'; offered: Choice[] };
}

export type Stage = 'before' | 'due' | 'followup' | 'again' | 'appointment' | 'catchup' | 'pregnancyPrepare' | 'pregnancyBorn' | 'overdue';

export interface ReminderRules {
  /** days before the due day for the first reminder */
  beforeDays: number;
  /** send window, Europe/Rome wall clock */
  fromHour: number;
  toHour: number;
  /** a follow-up is asked within this many days after the window closes */
  followupDays: number;
  /** a mandatory vaccination this many days past its due day is reported to the tutor */
  overdueNoticeDays: number;
}

export const DEFAULT_RULES: ReminderRules = { beforeDays: 7, fromHour: 9, toHour: 19, followupDays: 30, overdueNoticeDays: 30 };

/** The moment a reminder may leave: now inside 09:00–19:00 Rome, else the next 09:00 (DST-safe, on the wall clock). */
export function sendTime(now: Date, rules: ReminderRules = DEFAULT_RULES): Date {
  const rome = new TZDate(now.getTime(), PROGRAMME_TZ);
  const hour = rome.getHours();
  if (hour >= rules.fromHour && hour < rules.toHour) return now;
  const base = hour < rules.fromHour ? rome : addDays(rome, 1);
  return new Date(new TZDate(base.getFullYear(), base.getMonth(), base.getDate(), rules.fromHour, 0, 0, PROGRAMME_TZ).getTime());
}

/** Which message, if any, a plan row calls for today. */
export function stageOf(c: Candidate, today: string, rules: ReminderRules = DEFAULT_RULES): Stage | undefined {
  if (c.status === 'overdue') return c.late_at_registration ? 'catchup' : undefined;
  if (c.status === 'booked') {
    const until = c.booked_on ? differenceInCalendarDays(parseISO(c.booked_on), parseISO(today)) : -1;
    return until === 1 || until === 0 ? 'appointment' : undefined;
  }
  if (c.kind === 'pregnancy') {
    if (today < c.due_on || today > c.window_end) return undefined;
    return c.group_key === 'preg_born' ? 'pregnancyBorn' : 'pregnancyPrepare';
  }
  if (c.status === 'not_yet') return c.snooze_until && today >= c.snooze_until && today <= addDaysIso(c.window_end, rules.followupDays) ? 'again' : undefined;
  if (today < addDaysIso(c.due_on, -rules.beforeDays)) return undefined;
  if (today < c.due_on) return 'before';
  if (today <= c.window_end) return 'due';
  if (today <= addDaysIso(c.window_end, rules.followupDays)) return 'followup';
  return undefined;
}

const addDaysIso = (d: string, n: number) => format(addDays(parseISO(d), n), 'yyyy-MM-dd');

/** Days in an average month: a check-up's age from its offset, whatever the birth month. */
const AVERAGE_MONTH_DAYS = 30.4375;

/** The age a check-up is for (birth to its due day) as a mother says it: "2 months", "15 months", "5 years"; none for the first one. */
export function checkupAge(t: TFunction, birth: string, dueOn: string): string | undefined {
  const days = differenceInCalendarDays(parseISO(dueOn), parseISO(birth));
  if (days < 28) return undefined;
  const months = Math.round(days / AVERAGE_MONTH_DAYS);
  return months < 24 ? t('children.ageMonths', { count: months }) : t('children.ageYears', { count: Math.floor(months / 12) });
}

/**
 * "vaccino esavalente…, dose 1" in the reader's language; a group added by a coordinator shows its Italian name.
 * With the birth date, a check-up says which one ("… at 2 months"): two check-ups must never read the same.
 */
export function itemLabel(t: TFunction, c: Pick<Candidate, 'group_key' | 'dose' | 'name_it'> & { due_on?: string }, birth?: string | null): string {
  if (c.group_key === 'checkup' && birth && c.due_on) {
    const age = checkupAge(t, birth, c.due_on);
    return age ? t('care.item.checkupAt', { age }) : t('care.item.checkupFirst');
  }
  const key = `care.item.${c.group_key}`;
  return t(key, { dose: c.dose, defaultValue: '' }) || t('care.item.other', { name: c.name_it });
}

export function answerChoices(t: TFunction, childId: string, dueOn: string): Choice[] {
  const ref = `${childId}:${dueOn}`;
  return [
    { id: `care:done:${ref}`, label: t('care.answerDone') },
    { id: `care:book:${ref}`, label: t('care.answerBooked') },
    { id: `care:wait:${ref}`, label: t('care.answerNotYet') },
    { id: `care:help:${ref}`, label: t('care.answerHelp') },
    { id: `care:stop:${childId}`, label: t('care.answerStop') },
  ];
}

const lang = (l: string): Language => (isLanguage(l) ? l : 'it');

/** One message's worth of plan rows: one child, one stage, one day. */
export interface DayGroup {
  /** child, day, stage: the message's key without the contact */
  key: string;
  stage: Stage;
  rows: Candidate[];
}

/** The day a row's message is about: items due the same day share a message; a follow-up also by when its window closed. */
function messageDay(c: Candidate, stage: Stage): string {
  if (stage === 'appointment') return c.booked_on!;
  if (stage === 'catchup') return 'registration';
  if (stage === 'again') return `${c.due_on}:${c.snooze_until}`;
  if (stage === 'followup') return `${c.due_on}:${c.window_end}`;
  return c.due_on;
}

/**
 * What the plan says today, read once: each row is in at most one message, either the catch-up (what the first
 * plan found behind) or a reminder of its own stage. The plan (planChild) keeps the two apart: an item of the
 * catch-up is 'overdue', never at a reminder stage, and a later dose of a series the catch-up lists is in it too
 * when it is due within the first week; a check-up the catch-up would repeat is left out of it.
 */
export function dayPlan(candidates: Candidate[], today: string, rules: ReminderRules = DEFAULT_RULES): DayGroup[] {
  const groups = new Map<string, DayGroup>();
  for (const c of candidates) {
    const stage = stageOf(c, today, rules);
    if (!stage) continue;
    const key = `${c.child_id}:${messageDay(c, stage)}:${stage}`;
    const g = groups.get(key) ?? { key, stage, rows: [] };
    g.rows.push(c);
    groups.set(key, g);
  }
  for (const g of groups.values()) g.rows.sort((a, b) => a.due_on.localeCompare(b.due_on) || a.kind.localeCompare(b.kind) || a.group_key.localeCompare(b.group_key) || a.dose - b.dose);
  return [...groups.values()];
}

/** The text and answers of one day's message, in the reader's language. */
function messageContent(t: TFunction, lng: Language, { stage, rows }: DayGroup, today: string): { text: string; choices?: Choice[]; child: string; date: string } {
  const first = rows[0]!;
  const child = first.child_name ?? t('children.unnamed');
  const items = rows.map((r) => `• ${itemLabel(t, r, r.birth_date)}`).join('\n');
  const date = formatDate(lng, stage === 'appointment' ? first.booked_on! : stage.startsWith('pregnancy') ? first.due_date ?? first.due_on : first.due_on);
  if (stage === 'catchup') return { text: t('care.catchup', { child, age: first.birth_date ? ageLabel(t, first.birth_date, today) : '', items }), child, date };
  if (stage === 'pregnancyPrepare') return { text: t('care.pregnancyPrepare', { date }), child, date };
  if (stage === 'pregnancyBorn') return { text: t('care.pregnancyBorn'), choices: [{ id: `care:born:${first.child_id}`, label: t('children.born') }], child, date };
  const textKey = stage === 'again' ? 'care.followup' : `care.${stage}`;
  const lines = [t(textKey, { child, date, items })];
  if (rows.some((r) => r.mandatory)) lines.push(t('care.mandatory'));
  if (rows.some((r) => !r.verified)) lines.push(t('care.checkDate'));
  return { text: lines.join('\n\n'), choices: stage === 'appointment' ? undefined : answerChoices(t, first.child_id, first.due_on), child, date };
}

/**
 * A language's translations, each worked out once per call of reminderMessages: a page's thousands of messages share
 * their answers, item names and ages, and i18next costs far more per call than a lookup.
 */
function translationsOnce(i18n: Translator): (lng: Language) => TFunction {
  const byLanguage = new Map<Language, TFunction>();
  return (lng) => {
    let once = byLanguage.get(lng);
    if (!once) {
      const t = i18n.t(lng);
      const seen = new Map<string, string>();
      once = ((key: string, options?: Record<string, unknown>) => {
        const id = options === undefined ? key : `${key}\u0000${JSON.stringify(options)}`;
        let text = seen.get(id);
        if (text === undefined) {
          text = t(key, options) as string;
          seen.set(id, text);
        }
        return text;
      }) as unknown as TFunction;
      byLanguage.set(lng, once);
    }
    return once;
  };
}

/**
 * The day's reminder messages from the open plan rows (dayPlan), one per contact of the family; each message has a
 * key (contact, child, day, stage), so running twice queues once. Overdue mandatory vaccinations go to the tutor.
 */
export function reminderMessages(i18n: Translator, candidates: Candidate[], now: Date, today: string, rules: ReminderRules = DEFAULT_RULES): { messages: QueuedMessage[]; stages: Record<string, number> } {
  const notBefore = sendTime(now, rules).toISOString();
  const translate = translationsOnce(i18n);
  const overdue = new Map<string, Candidate[]>();
  for (const c of candidates) {
    if (c.mandatory && c.kind === 'vaccine' && c.status !== 'booked' && differenceInCalendarDays(parseISO(today), parseISO(c.due_on)) > rules.overdueNoticeDays) {
      overdue.set(c.child_id, [...(overdue.get(c.child_id) ?? []), c]);
    }
  }

  const messages: QueuedMessage[] = [];
  const stages: Record<string, number> = {};
  for (const group of dayPlan(candidates, today, rules)) {
    for (const to of group.rows[0]!.contacts) {
      const lng = lang(to.language);
      const { text, choices, child, date } = messageContent(translate(lng), lng, group, today);
      messages.push({
        contact_id: to.contact_id,
        key: `reminder:${to.contact_id}:${group.key}`,
        kind: 'reminder',
        payload: { text, ...(choices ? { choices } : {}), child, date },
        not_before: notBefore,
        ...(choices ? { question: { step: 'care' as const, offered: choices } } : {}),
      });
      stages[group.stage] = (stages[group.stage] ?? 0) + 1;
    }
  }

  for (const [childId, rows] of overdue) {
    const first = rows[0]!;
    const codes = rows.map((r) => r.item_code).sort().join(',');
    for (const to of first.tutor_contacts) {
      const lng = lang(to.language);
      const t = translate(lng);
      const text = t('staff.overdueMandatory', {
        family: `F-${first.family_ref}`,
        child: first.child_name ?? t('children.unnamed'),
        age: first.birth_date ? ageLabel(t, first.birth_date, today) : '',
        items: rows.map((r) => itemLabel(t, r)).join('; '),
      });
      messages.push({ contact_id: to.contact_id, key: `overdue:${to.contact_id}:${childId}:${codes}`, kind: 'staff_notice', payload: { text }, not_before: notBefore });
      stages.overdue = (stages.overdue ?? 0) + 1;
    }
  }
  return { messages, stages };
}
