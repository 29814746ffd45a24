import { addDays, format, parseISO } from 'date-fns';
import { parseDateAnswer } from '../core/dates';
import type { Choice } from '../core/types';
import { itemLabel } from '../care/reminders';
import { ask, call, staffNotices, type Effect, type FlowContext, type Turn } from './context';
import { ageLabel, childrenSummary, dateExample, familyRef, formatDate } from './format';
import { mainMenu } from './menu';

/** "Not yet" asks again after this many days. */
export const SNOOZE_DAYS = 7;

interface Pending {
  step: 'care.doneDate' | 'care.bookDate';
  childId: string;
  dueOn: string;
}

const backToMenu = (ctx: FlowContext, text: string, effects: Effect[]): Turn => ({ ...mainMenu(ctx, text), effects });

/** A tutor (or, without one, the coordinators) hears that she asked for help with a reminder. */
async function helpNotices(ctx: FlowContext, childId: string, dueOn: string): Promise<{ effects: Effect[]; codes: string[] }> {
  const family = ctx.contact.family!;
  const child = family.children.find((c) => c.id === childId);
  const items = await call<{ item_code: string; group_key: string; dose: number; name_it: string }[]>(ctx.deps.db, 'plan_items_on', { p_child_id: childId, p_due_on: dueOn });
  const effects = await staffNotices(ctx, family.id, `need:reminder:${childId}:${dueOn}:${ctx.inbound.providerMessageId}`, (t, lng) => t('staff.needFromReminder', {
    family: familyRef(family.ref),
    district: family.district_name ?? t('staff.noDistrict'),
    child: child?.name ?? t('children.unnamed'),
    age: child?.birth_date ? ageLabel(t, child.birth_date, ctx.today) : childrenSummary(t, lng, child ? [child] : [], ctx.today),
    items: items.map((i) => itemLabel(t, i)).join('; '),
  }));
  return { effects, codes: items.map((i) => i.item_code) };
}

/** Her answer to a reminder: done (today or a date), booked (a date), not yet, I need help, stop; or the baby is born. */
export async function careStep(ctx: FlowContext): Promise<Turn | undefined> {
  const { t, contact } = ctx;
  const state = contact.conversation as Partial<Pending> & { step?: string; offered?: Choice[] };
  const children = contact.family?.children ?? [];

  if (state.step === 'care.doneDate' || state.step === 'care.bookDate') {
    const { childId, dueOn } = state as Pending;
    if (state.step === 'care.doneDate') {
      let day: string | undefined = ctx.choice === 'care:today' ? ctx.today : undefined;
      if (!day) {
        const answer = parseDateAnswer(ctx.text, { today: ctx.today, kind: 'birth' });
        if (!answer.ok) return { replies: [{ text: t('care.askDoneDate', { example: dateExample('birth', ctx.today) }), choices: state.offered }], conversation: state };
        day = answer.date;
      }
      return backToMenu(ctx, t('care.thanksDone'), [{ op: 'plan_done', child_id: childId, due_on: dueOn, done_on: day }]);
    }
    const answer = parseDateAnswer(ctx.text, { today: ctx.today, kind: 'due' });
    if (!answer.ok) {
      const key = answer.reason === 'past' ? 'care.bookedPast' : 'care.askBookedDate';
      return { replies: [{ text: t(key, { example: dateExample('due', ctx.today) }) }], conversation: state };
    }
    return backToMenu(ctx, t('care.thanksBooked', { date: formatDate(contact.language, answer.date) }), [{ op: 'plan_book', child_id: childId, due_on: dueOn, booked_on: answer.date }]);
  }

  const m = /^care:(done|book|wait|help|stop|born):([0-9a-f-]{36})(?::(\d{4}-\d{2}-\d{2}))?$/.exec(ctx.choice ?? '');
  if (!m) return undefined;
  const [, verb, childId, dueOn] = m as unknown as [string, string, string, string | undefined];
  const child = children.find((c) => c.id === childId);
  // a reminder about a child she has since removed
  if (!child) return mainMenu(ctx, t('common.notUnderstood'));
  const name = child.name ?? t('children.unnamed');
  switch (verb) {
    case 'done': {
      const choices: Choice[] = [{ id: 'care:today', label: t('care.today') }];
      return ask(t('care.askDoneDate', { example: dateExample('birth', ctx.today) }), choices, { step: 'care.doneDate', childId, dueOn });
    }
    case 'book':
      return { replies: [{ text: t('care.askBookedDate', { example: dateExample('due', ctx.today) }) }], conversation: { step: 'care.bookDate', childId, dueOn } };
    case 'wait': {
      const until = format(addDays(parseISO(ctx.today), SNOOZE_DAYS), 'yyyy-MM-dd');
      return backToMenu(ctx, t('care.notYet'), [{ op: 'plan_wait', child_id: childId, due_on: dueOn!, until }]);
    }
    case 'help': {
      const notices = await helpNotices(ctx, childId, dueOn!);
      const need: Effect = { op: 'need', child_id: childId, category: 'health', source: 'reminder', details: { due_on: dueOn, items: notices.codes } };
      return backToMenu(ctx, t('care.helpSent'), [need, ...notices.effects]);
    }
    case 'stop':
      return backToMenu(ctx, t('care.stopped', { child: name }), [{ op: 'reminders', child_id: childId, on: false }]);
    case 'born':
      return { replies: [{ text: t('profile.askName') }], conversation: { step: 'child.name', childId, kind: 'birth' } };
    default:
      return undefined;
  }
}
