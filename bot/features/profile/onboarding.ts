import {  type Language } from '../../i18n';
import { languageOfScript } from '../../core/languages';
import { askLanguage, LANGUAGE_CHOICE, pickedLanguage } from '../../core/language-menu';
import type { Choice, ConversationState, Reply } from '../../core/types';
import {  call, type Effect, type FlowContext, type Turn } from '../../core/context';
import { startChildren } from './children';

/** Before she has chosen: the language her script shows (Arabic from a +39 number), else the channel's hint. */
function likelyLanguage(ctx: FlowContext): Language {
  return languageOfScript(ctx.text) ?? ctx.contact.language;
}

function consentChoices(ctx: FlowContext, t = ctx.t): Choice[] {
  return [{ id: 'consent:yes', label: t('consent.accept') }, { id: 'consent:no', label: t('consent.decline') }];
}

/** The consent explanation: a few short messages, then one question. */
export function askConsent(ctx: FlowContext, lng: Language, state: ConversationState, lead: Reply[] = []): Turn {
  const t = ctx.deps.i18n.t(lng);
  const choices = consentChoices(ctx, t);
  // four short messages: Telegram paces a chat at about one a second, so fewer arrive sooner
  const texts = [t('consent.intro'), `${t('consent.what')}\n\n${t('consent.why')}`, `${t('consent.who')}\n\n${t('consent.howLong')}`];
  return {
    replies: [...lead, ...texts.map((text) => ({ text })), { text: `${t('consent.rights')}\n\n${t('consent.question')}`, choices }],
    conversation: { step: 'consent', offered: choices, ...(state.code ? { code: state.code } : {}) },
    language: lng,
    languageConfirmed: true,
  };
}

/**
 * Before consent: greet, let her choose the language, explain, ask. Only the channel id, the language and
 * (in the conversation) a tutor's code are kept until she says yes.
 */
export async function onboarding(ctx: FlowContext): Promise<Turn> {
  const { contact, t } = ctx;
  const state = contact.conversation;
  const fresh = contact.isNew || (contact.consent === 'declined' && !state.step);

  if (!contact.languageConfirmed || state.step === 'lang') {
    const lng = state.step === 'lang' || ctx.choice?.startsWith(LANGUAGE_CHOICE) ? pickedLanguage(ctx) : undefined;
    if (lng) return askConsent(ctx, lng, state, [{ text: ctx.deps.i18n.t(lng)('greeting.languageSet') }]);
    // greeted, or told she was not understood, in the language she seems to write, which comes first in the list
    const likely = likelyLanguage(ctx);
    const lt = ctx.deps.i18n.t(likely);
    const inHers = { ...ctx, t: lt, contact: { ...contact, language: likely } };
    if (state.step === 'lang' && !fresh) {
      const again = askLanguage(inHers, state);
      again.replies[0]!.text = `${lt('common.notUnderstood')}\n${again.replies[0]!.text}`;
      return { ...again, language: likely };
    }
    return { ...askLanguage(inHers, state, { text: lt('greeting.welcome') }), language: likely };
  }

  if (state.step !== 'consent') {
    // her tutor registered her (caseload import) but did not collect consent on paper
    return askConsent(ctx, contact.language, state, [{ text: t('greeting.welcome') }]);
  }
  if (ctx.choice === 'consent:no') {
    return { replies: [{ text: t('consent.declined') }], conversation: {}, effects: [{ op: 'privacy.forget' }] };
  }
  if (ctx.choice !== 'consent:yes') {
    const choices = consentChoices(ctx);
    return { replies: [{ text: `${t('common.notUnderstood')}\n${t('consent.question')}`, choices }], conversation: { ...state, offered: choices } };
  }

  const effects: Effect[] = [{ op: 'profile.consent' }];
  const replies: Reply[] = [];
  let tutorName: string | undefined;
  if (typeof state.code === 'string') {
    // the code was valid when she sent it; it may have been used or expired since
    const found = await call<{ status: string; purpose?: string; tutor_name?: string }>(ctx.deps.db, 'code_lookup', { p_code: state.code, p_now: ctx.now.toISOString() });
    if (found.status === 'ok' && found.purpose === 'family') {
      effects.push({ op: 'profile.redeem', code: state.code });
      tutorName = found.tutor_name;
    } else if (found.status !== 'ok') {
      replies.push({ text: t(`codes.${found.status}`) });
    }
  }
  const next = startChildren(ctx, { onboarding: true, ...(tutorName ? { tutorName } : {}) });
  return { ...next, replies: [...replies, ...next.replies], effects: [...effects, ...(next.effects ?? [])] };
}
