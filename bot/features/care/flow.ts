import { addDays, format, parseISO } from 'date-fns';
import { parseDateAnswer } from '../../core/dates';
import type { Choice } from '../../core/types';
import { itemLabel } from '../../care/reminders';
import { ask, call, type Effect, type FlowContext, type Turn } from '../../core/context';
import { openNeed } from '../../core/needs';
import { dateExample, formatDate } from '../../core/format';

/** "Not yet" asks again after this many days. */
export const SNOOZE_DAYS = 7;

interface Pending {
  step: 'care.doneDate' | 'care.bookDate';
  childId: string;
  dueOn: string;
}

const backToMenu = (ctx: FlowContext, text: string, effects: Effect[]): Turn => ({ ...ctx.menus.main(ctx, text), effects });

/** "I need help" on a reminder: a health need for her tutor, naming the child and the items due. */
async function helpNeed(ctx: FlowContext, childId: string, dueOn: string): Promise<Effect[]> {
  const child = ctx.contact.family!.children.find((c) => c.id === childId);
  const items = await call<{ item_code: string; group_key: string; dose: number; name_it: string }[]>(ctx.deps.db, 'plan_items_on', { p_child_id: childId, p_due_on: dueOn });
  const opened = await openNeed(ctx, {
    kind: 'need', category: 'health', urgency: 'normal', source: 'reminder', childId,
    details: { due_on: dueOn, items: items.map((i) => i.item_code) },
    context: (t) => t('staff.needFromReminder', { child: child?.name ?? t('children.unnamed'), items: items.map((i) => itemLabel(t, i)).join('; ') }),
  });
  return opened.effects;
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
      return backToMenu(ctx, t('care.thanksDone'), [{ op: 'care.plan_done', child_id: childId, due_on: dueOn, done_on: day }]);
    }
    const answer = parseDateAnswer(ctx.text, { today: ctx.today, kind: 'due' });
    if (!answer.ok) {
      const key = answer.reason === 'past' ? 'care.bookedPast' : 'care.askBookedDate';
      return { replies: [{ text: t(key, { example: dateExample('due', ctx.today) }) }], conversation: state };
    }
    return backToMenu(ctx, t('care.thanksBooked', { date: formatDate(contact.language, answer.date) }), [{ op: 'care.plan_book', child_id: childId, due_on: dueOn, booked_on: answer.date }]);
  }

  const m = /^care:(done|book|wait|help|stop|born):([0-9a-f-]{36})(?::(\d{4}-\d{2}-\d{2}))?$/.exec(ctx.choice ?? '');
  if (!m) return undefined;
  const [, verb, childId, dueOn] = m as unknown as [string, string, string, string | undefined];
  const child = children.find((c) => c.id === childId);
  // a reminder about a child she has since removed
  if (!child) return ctx.menus.main(ctx, t('common.notUnderstood'));
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
      return backToMenu(ctx, t('care.notYet'), [{ op: 'care.plan_wait', child_id: childId, due_on: dueOn!, until }]);
    }
    case 'help':
      return backToMenu(ctx, t('care.helpSent'), await helpNeed(ctx, childId, dueOn!));
    case 'stop':
      return backToMenu(ctx, t('care.stopped', { child: name }), [{ op: 'care.reminders', child_id: childId, on: false }]);
    case 'born':
      return { replies: [{ text: t('profile.askName') }], conversation: { step: 'child.name', childId, kind: 'birth' } };
    default:
      return undefined;
  }
}
