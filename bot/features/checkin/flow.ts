import type { Choice } from '../../core/types';
import { ask, type Effect, type FlowContext, type NeedCategory, type Turn } from '../../core/context';
import { openNeed } from '../../core/needs';

/** The check-in's questions, one per area of the programme, and the area a "yes" opens a need in. */
export const CHECKIN_QUESTIONS: { key: string; category: NeedCategory }[] = [
  { key: 'food', category: 'other' },
  { key: 'housing', category: 'housing' },
  { key: 'work', category: 'work' },
  { key: 'documents', category: 'documents' },
  { key: 'childcare', category: 'education' },
  { key: 'mood', category: 'health' },
];

/** The offer the check-in job sends: start, not now, or never again. */
export function checkinOffer(t: FlowContext['t']): { text: string; choices: Choice[] } {
  return {
    text: t('checkin.offer', { count: CHECKIN_QUESTIONS.length }),
    choices: [
      { id: 'checkin:start', label: t('checkin.start') },
      { id: 'checkin:later', label: t('checkin.later') },
      { id: 'checkin:off', label: t('checkin.off') },
    ],
  };
}

function question(ctx: FlowContext, index: number, yes: string[]): Turn {
  const { t } = ctx;
  const q = CHECKIN_QUESTIONS[index]!;
  const choices: Choice[] = [{ id: 'checkin:yes', label: t('checkin.yes') }, { id: 'checkin:no', label: t('checkin.no') }];
  return ask(`${index + 1}/${CHECKIN_QUESTIONS.length} ${t(`checkin.q.${q.key}`)}`, choices, { step: 'checkin.q', index, yes });
}

/** Her answers to the check-in; each "yes, I need help" becomes a need for her tutor. */
export async function checkinStep(ctx: FlowContext): Promise<Turn | undefined> {
  const { t, contact } = ctx;
  const state = contact.conversation as { step?: string; index?: number; yes?: string[] };
  if (!contact.family) return undefined;
  switch (ctx.choice) {
    case 'checkin:start': return question(ctx, 0, []);
    case 'checkin:later': return { ...ctx.menus.main(ctx, t('checkin.laterOk')), effects: [{ op: 'checkins.done' }] };
    case 'checkin:off': return { ...ctx.menus.main(ctx, t('checkin.offOk')), effects: [{ op: 'checkins.set', on: false }] };
    case 'checkin:on': return { ...ctx.menus.main(ctx, t('checkin.onOk')), effects: [{ op: 'checkins.set', on: true }] };
  }
  if (state.step !== 'checkin.q' || (ctx.choice !== 'checkin:yes' && ctx.choice !== 'checkin:no')) return undefined;
  const index = state.index ?? 0;
  const yes = [...(state.yes ?? []), ...(ctx.choice === 'checkin:yes' ? [CHECKIN_QUESTIONS[index]!.key] : [])];
  if (index + 1 < CHECKIN_QUESTIONS.length) return question(ctx, index + 1, yes);

  const effects: Effect[] = [{ op: 'checkins.done' }];
  for (const key of yes) {
    const q = CHECKIN_QUESTIONS.find((c) => c.key === key)!;
    const opened = await openNeed(ctx, {
      kind: 'need', category: q.category, urgency: 'normal', source: 'checkin', details: { checkin: key },
      context: (tt) => tt('staff.needFromCheckin', { question: tt(`checkin.q.${key}`) }),
    });
    effects.push(...opened.effects);
  }
  const tutor = contact.family.tutor;
  const done = yes.length === 0 ? t('checkin.thanksNone') : t(tutor ? 'checkin.thanksSome' : 'checkin.thanksSomeNoTutor', { count: yes.length });
  return { ...ctx.menus.main(ctx, done), effects };
}
