/** The language menu: offered at first contact and whenever she says "language", in any state. */
import { isLanguage, type Language } from '../i18n';
import { languageNamed, languagesWithFirst } from './languages';
import type { Choice, ConversationState, Reply } from './types';
import { ask, type FlowContext, type Turn } from './context';

export const LANGUAGE_CHOICE = 'lang:';

export function languageChoices(ctx: FlowContext, first: Language): Choice[] {
  return languagesWithFirst(first).map((l) => ({ id: `${LANGUAGE_CHOICE}${l}`, label: ctx.deps.i18n.t(l)('language.name') }));
}

/** The language she picked: a tapped choice, "3", its code, or its name as she writes it (own script, Italian, English). */
export function pickedLanguage(ctx: FlowContext): Language | undefined {
  if (ctx.choice?.startsWith(LANGUAGE_CHOICE)) {
    const lng = ctx.choice.slice(LANGUAGE_CHOICE.length);
    return isLanguage(lng) ? lng : undefined;
  }
  return languageNamed(ctx.text, (l) => ctx.deps.i18n.t(l)('language.name'));
}

export function askLanguage(ctx: FlowContext, state: ConversationState, intro?: Reply): Turn {
  const t = ctx.t;
  const turn = ask(t('greeting.chooseLanguage'), languageChoices(ctx, ctx.contact.language), { ...state, step: 'lang' });
  if (intro) turn.replies.unshift(intro);
  return turn;
}
