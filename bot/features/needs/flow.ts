import { randomUUID } from 'node:crypto';
import type { TFunction } from 'i18next';
import type { Choice, Reply } from '../../core/types';
import { words, type KbEntry } from '../../knowledge/knowledge';
import { hasPhrase, isHelpPlea } from '../../core/keywords';
import { ask, call, type Effect, type FlowContext, type MediaRef, type NeedCategory, type OpenNeed, type Turn } from '../../core/context';
import { firstName, languageName, needRef } from '../../core/format';
import { evictionHelp } from '../../core/calls';
import { emergencyText } from '../../core/emergency';
import { addToNeed, openNeed, servicesNear, type HandledNeed } from '../../core/needs';
import { mediaOf } from '../../core/media';

/** The programme's areas, as rights (italy.md, "The programme the bot serves"), and "something else". */
export const CATEGORIES: NeedCategory[] = ['health', 'education', 'protection', 'parenting', 'housing', 'work', 'documents', 'other'];

/** What she writes while her tutor is handling a need: added to its thread and passed to her tutor. */
async function relay(ctx: FlowContext, need: OpenNeed & HandledNeed, body: string | undefined, media: MediaRef[], receiptEnough = false): Promise<Turn> {
  const added = await addToNeed(ctx, need, body, media);
  const to = need.handler ? firstName(need.handler) : ctx.t('needs.yourTutor');
  // a file that could not go is explained instead of "passed on" when it was all she sent
  const relayed = !receiptEnough && (body || added.refused.length < media.length) ? [{ text: ctx.t('needs.relayed', { tutor: to }) }] : [];
  return { replies: [...relayed, ...added.replies], conversation: ctx.contact.conversation, effects: added.effects, refusedMedia: added.refused };
}

/** The need her tutor is handling now, if any: what she writes goes there. */
const activeNeed = (ctx: FlowContext) => ctx.contact.family?.needs?.find((n) => n.status === 'in_charge');

const categoryChoices = (t: TFunction): Choice[] => [
  ...CATEGORIES.map((c) => ({ id: `need:cat:${c}`, label: t(`needs.category.${c}`) })),
  { id: 'menu', label: t('menu.back') },
];

/** "I need help": the areas, with the emergency numbers always in sight; what she already said goes with the request. */
export function helpMenu(ctx: FlowContext, said?: string): Turn {
  return ask([ctx.t('needs.chooseArea'), ctx.t('needs.emergencyShort')].join('\n\n'), categoryChoices(ctx.t), { step: 'need.category', ...(said ? { said } : {}) });
}

async function sentToTutor(ctx: FlowContext, category: string, ref: number, effects: Effect[], lead: Reply[] = []): Promise<Turn> {
  const { t } = ctx;
  const tutor = ctx.contact.family?.tutor;
  const sent = t(tutor ? 'needs.sent' : 'needs.sentNoTutor', { tutor: tutor ? firstName(tutor.name) : '', need: needRef(ref) });
  const services = await servicesNear(ctx, category);
  const menu = ctx.menus.main(ctx);
  return { ...menu, replies: [...lead, { text: sent }, ...(services ? [{ text: services }] : []), ...menu.replies], effects };
}

/** The protection area of the help menu: the numbers at once, and an urgent need for her tutor (danger in her words: see safety.ts). */
async function protection(ctx: FlowContext): Promise<Turn> {
  const { t } = ctx;
  const numbers = { text: emergencyText(t, ctx.contact.language) };
  // already open: nothing is opened twice
  if (ctx.contact.family?.needs?.some((n) => n.urgency === 'urgent')) return { replies: [numbers, { text: t('needs.urgentAgain') }], conversation: {} };
  const opened = await openNeed(ctx, { kind: 'need', category: 'protection', urgency: 'urgent', source: 'menu' });
  return { replies: [numbers, { text: t('needs.urgentDescribe') }], conversation: { step: 'need.describe', needId: opened.id }, effects: opened.effects };
}

/** "I am being evicted" (words or the housing menu): an urgent housing need, and where to get help now. */
async function eviction(ctx: FlowContext, body: string | undefined, source: 'text' | 'menu'): Promise<Turn> {
  const { t } = ctx;
  const help = { text: await evictionHelp(ctx) };
  const urgent = ctx.contact.family?.needs?.find((n) => n.urgency === 'urgent' && n.category === 'housing');
  if (urgent) {
    const relayed = body ? await relay(ctx, urgent, body, []) : { effects: [] as Effect[] };
    return { replies: [{ text: t('needs.urgentAgain') }, help], conversation: {}, effects: relayed.effects };
  }
  const opened = await openNeed(ctx, { kind: 'need', category: 'housing', urgency: 'urgent', source, body, details: { eviction: true } });
  const tutor = ctx.contact.family?.tutor;
  const sent = { text: t(tutor ? 'calls.evictionSent' : 'calls.evictionSentNoTutor', { tutor: tutor ? firstName(tutor.name) : '', need: needRef(opened.ref) }) };
  const next = body
    ? { ...ctx.menus.main(ctx), replies: [sent, help, ...ctx.menus.main(ctx).replies] }
    : { replies: [sent, help, { text: t('needs.urgentDescribe') }], conversation: { step: 'need.describe', needId: opened.id } };
  return { ...next, effects: opened.effects };
}

/** Her words said with "I need help", sent once she chose the area. */
async function describedNeed(ctx: FlowContext, category: NeedCategory, said: string): Promise<Turn> {
  const opened = await openNeed(ctx, { kind: 'need', category, urgency: 'normal', source: 'text', body: said });
  return sentToTutor(ctx, category, opened.ref, opened.effects);
}

/** The answer to one entry, "did it help?", and the answer counted (without who asked). */
async function answerWith(ctx: FlowContext, entry: KbEntry, question: string): Promise<Turn> {
  const { t } = ctx;
  const answerId = randomUUID();
  const services = await servicesNear(ctx, entry.category);
  const answer = [entry.answer, entry.unverified ? t('needs.checkWithService') : undefined].filter(Boolean).join('\n\n');
  const choices: Choice[] = [{ id: 'kb:yes', label: t('kb.helpedYes') }, { id: 'kb:no', label: t('kb.helpedNo') }];
  return {
    replies: [{ text: answer }, ...(services ? [{ text: services }] : []), { text: t('kb.didItHelp'), choices }],
    conversation: { step: 'kb.feedback', offered: choices, answerId, slug: entry.slug, category: entry.category, question },
    effects: [{ op: 'knowledge.answered', answer_id: answerId, entry_id: entry.id, language: ctx.contact.language }],
  };
}

/** Her question as a question for her tutor (or the team), with her own words. */
async function forwardQuestion(ctx: FlowContext, text: string): Promise<Turn> {
  const opened = await openNeed(ctx, { kind: 'question', category: 'other', urgency: 'normal', source: 'question', body: text });
  return sentToTutor(ctx, 'other', opened.ref, opened.effects, [{ text: ctx.t('kb.forwarded') }]);
}

/**
 * Free text that is a question: answered from the knowledge base when confident; when the search is not sure,
 * the entries it may be about offered for her to choose, with "none: ask my tutor"; otherwise sent to her tutor.
 * "I need help" in her words is not a question: it opens the help menu, keeping what else she said.
 */
async function question(ctx: FlowContext, text: string, explicit: boolean): Promise<Turn | undefined> {
  const { t } = ctx;
  // a bare plea ("help", "I need help, please") is never a question; one that names a topic may be
  if (isHelpPlea(ctx, text)) return helpMenu(ctx);
  const found = await ctx.deps.knowledge?.search(ctx.contact.language, text);
  if (!found?.match && hasPhrase(ctx, text, 'help')) return helpMenu(ctx, text);
  if (found?.match) return answerWith(ctx, found.match.entry, text);
  if (!explicit && !looksLikeQuestion(ctx, text)) return undefined;
  if (found?.suggestions.length) {
    // the entries' own questions, in the language the search read her in
    const choices: Choice[] = [
      ...found.suggestions.map((e) => ({ id: `kb:pick:${e.slug}`, label: e.question })),
      { id: 'kb:none', label: t('kb.suggestNone') },
    ];
    return ask(t('kb.suggest'), choices, { step: 'kb.suggest', question: text, kbLanguage: found.language });
  }
  return forwardQuestion(ctx, text);
}

/** A greeting or a lone word is not a question for her tutor; three words, or two and a question mark, are. */
function looksLikeQuestion(ctx: FlowContext, text: string): boolean {
  const n = words(text, ctx.contact.language).length;
  return n >= 3 || (n >= 2 && /[?？؟]/.test(text));
}

/** "They are evicting us", in her words, whatever step she is in. */
export async function evictionWords(ctx: FlowContext): Promise<Turn | undefined> {
  if (!ctx.contact.family || !ctx.text || ctx.choice || !hasPhrase(ctx, ctx.text, 'eviction')) return undefined;
  return eviction(ctx, ctx.text, 'text');
}

/**
 * Her side of needs and questions: the steps (area, name, her words, "did this help?", check-in), the
 * taps on a need, danger words anywhere, and free text (to her tutor's open thread, or a question).
 */
export async function needsStep(ctx: FlowContext): Promise<Turn | undefined> {
  const { t, contact } = ctx;
  const state = contact.conversation as { step?: string; category?: NeedCategory; needId?: string; answerId?: string; slug?: string; question?: string; said?: string; kbLanguage?: string };
  const family = contact.family;
  if (!family) return undefined;

  if (ctx.choice === 'call:evicted') return eviction(ctx, undefined, 'menu');

  if (ctx.choice === 'menu:help') return helpMenu(ctx);
  if (ctx.choice === 'menu:ask') return { replies: [{ text: t('kb.askPrompt') }], conversation: { step: 'ask' } };

  const cat = /^need:cat:(\w+)$/.exec(ctx.choice ?? '')?.[1] as NeedCategory | undefined;
  if (cat && CATEGORIES.includes(cat)) {
    if (cat === 'protection') return protection(ctx);
    const said = state.step === 'need.category' ? state.said : undefined;
    if (!family.caller_name) {
      const skip: Choice[] = [{ id: 'need:noname', label: t('needs.skipName') }];
      return ask(t('needs.askName'), skip, { step: 'need.name', category: cat, ...(said ? { said } : {}) });
    }
    if (said) return describedNeed(ctx, cat, said);
    return { replies: [{ text: t('needs.describe', { area: t(`needs.category.${cat}`) }) }], conversation: { step: 'need.describe', category: cat } };
  }

  if (state.step === 'need.name') {
    const name = ctx.choice === 'need:noname' ? undefined : ctx.text.replace(/\s+/g, ' ').trim();
    if (name !== undefined && (name.length < 1 || name.length > 40 || /\d/.test(name))) {
      return { replies: [{ text: t('needs.askNameAgain') }], conversation: state };
    }
    const turn: Turn = state.said
      ? await describedNeed(ctx, state.category ?? 'other', state.said)
      : { replies: [{ text: t('needs.describe', { area: t(`needs.category.${state.category ?? 'other'}`) }) }], conversation: { step: 'need.describe', category: state.category } };
    return name ? { ...turn, replies: [{ text: t('needs.nameThanks', { name: firstName(name) }) }, ...turn.replies], effects: [{ op: 'needs.caller_name', name }, ...(turn.effects ?? [])] } : turn;
  }

  if (state.step === 'need.describe' && (ctx.text || ctx.inbound.media?.length) && !ctx.choice) {
    const media = mediaOf(ctx);
    if (state.needId) {
      // more words about the urgent need she just opened
      const need = family.needs?.find((n) => n.id === state.needId);
      if (need) {
        const relayed = await relay(ctx, need, ctx.text || undefined, media);
        const menu = ctx.menus.main(ctx);
        return { ...menu, replies: [{ text: t('needs.urgentSent') }, ...relayed.replies.slice(1), ...menu.replies], effects: relayed.effects, refusedMedia: relayed.refusedMedia };
      }
    }
    const category = state.category ?? 'other';
    const opened = await openNeed(ctx, { kind: 'need', category, urgency: 'normal', source: 'menu', body: ctx.text || undefined, media });
    const sent = await sentToTutor(ctx, category, opened.ref, opened.effects);
    return { ...sent, replies: [...sent.replies, ...opened.replies], refusedMedia: opened.refused };
  }

  if (state.step === 'kb.feedback' && (ctx.choice === 'kb:yes' || ctx.choice === 'kb:no')) {
    const feedback: Effect = { op: 'knowledge.feedback', answer_id: state.answerId!, helped: ctx.choice === 'kb:yes' };
    if (ctx.choice === 'kb:yes') return { ...ctx.menus.main(ctx, t('kb.glad')), effects: [feedback] };
    const category = state.category ?? 'other';
    const opened = await openNeed(ctx, {
      kind: 'question', category, urgency: 'normal', source: 'question', body: state.question,
      details: { kb_slug: state.slug }, context: (tt) => tt('staff.needKbNotEnough', { slug: state.slug }),
    });
    return sentToTutor(ctx, category, opened.ref, [feedback, ...opened.effects], [{ text: t('kb.forwarded') }]);
  }

  if (state.step === 'kb.suggest' && ctx.choice === 'kb:none' && state.question) return forwardQuestion(ctx, state.question);
  const picked = state.step === 'kb.suggest' && state.question ? /^kb:pick:([\w-]+)$/.exec(ctx.choice ?? '')?.[1] : undefined;
  if (picked) {
    const entry = await ctx.deps.knowledge?.entry(state.kbLanguage ?? contact.language, picked);
    return entry ? answerWith(ctx, entry, state.question!) : forwardQuestion(ctx, state.question!);
  }

  if (state.step === 'ask' && ctx.text && !ctx.choice) return question(ctx, ctx.text, true);
  return undefined;
}

/** Free text no step took: to the thread her tutor is handling, or a question. */
export async function freeText(ctx: FlowContext): Promise<Turn | undefined> {
  if (!ctx.contact.family || ctx.choice) return undefined;
  const media = mediaOf(ctx);
  if (!ctx.text && !media.length) return undefined;
  const need = activeNeed(ctx);
  if (need) return relay(ctx, need, ctx.text || undefined, media);
  // a file with a request of hers still open joins it (three photos of one letter are one request)
  const open = media.length && !ctx.text ? ctx.contact.family.needs?.[0] : undefined;
  // the file's own receipt says who sees it
  if (open) return relay(ctx, open, undefined, media, true);
  if (media.length) {
    // a photo or a voice note (with or without words), nothing open: a request of its own, so her tutor sees or hears it
    const opened = await openNeed(ctx, { kind: 'need', category: 'other', urgency: 'normal', source: 'text', body: ctx.text || undefined, media });
    const sent = await sentToTutor(ctx, 'other', opened.ref, opened.effects);
    return { ...sent, replies: [...sent.replies, ...opened.replies], refusedMedia: opened.refused };
  }
  // a command typed by a mother (/take …) is not a question for her tutor
  if (!ctx.text || ctx.text.startsWith('/')) return undefined;
  return question(ctx, ctx.text, false);
}

/** "original": the words her tutor wrote, before the machine translated them. */
export async function showOriginal(ctx: FlowContext): Promise<Turn> {
  const found = await call<{ body: string; language: string; staff: string | null } | null>(ctx.deps.db, 'need_message_original', { p_contact_id: ctx.contact.id });
  if (!found) return { replies: [{ text: ctx.t('needs.noOriginal') }], conversation: ctx.contact.conversation };
  return {
    replies: [{ text: ctx.t('needs.original', { tutor: firstName(found.staff ?? ''), language: languageName(ctx.contact.language, found.language), words: found.body }) }],
    conversation: ctx.contact.conversation,
  };
}
