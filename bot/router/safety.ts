import { randomUUID } from 'node:crypto';
import type { TFunction } from 'i18next';
import type { Choice, Reply } from '../core/types';
import type { Language } from '../i18n';
import type { Concept } from '../safety/lexicon';
import { dangerMatcher, type Assessment } from '../safety/matcher';
import { call, type Effect, type FamilyProfile, type FlowContext, type MediaRef, type NeedCategory, type Turn } from '../core/context';
import { numbersFor } from '../core/emergency';
import { firstName, needRef } from '../core/format';
import { hasPhrase, isHelpPlea, isKeyword } from '../core/keywords';
import { addToNeed, openNeed } from '../core/needs';
import { mediaOf } from '../core/media';

/** Self-harm is a health matter for her tutor; everything else heard here is protection. */
const categoryOf = (concepts: Concept[]): NeedCategory => (concepts.length && concepts.every((c) => c === 'self_harm') ? 'health' : 'protection');

interface SafetyState {
  [key: string]: unknown;
  step: 'safety.ask';
  offered: Choice[];
  body?: string;
  media?: MediaRef[];
  concepts: Concept[];
  lng: Language;
  /** where she was before the question: she goes back there when she is safe */
  resume: Record<string, unknown>;
}

/** The language to answer in: her words' language when heard, else her confirmed language, else the hint. */
function replyLanguage(ctx: FlowContext, heard?: Language): Language {
  if (heard) return heard;
  if (ctx.contact.languageConfirmed) return ctx.contact.language;
  return ctx.inbound.languageHint ?? ctx.contact.language;
}

/** Her family, or a new one for her safety before she has registered (only its number: no children, no district). */
async function familyForSafety(ctx: FlowContext): Promise<{ family: FamilyProfile; effects: Effect[] }> {
  if (ctx.contact.family) return { family: ctx.contact.family, effects: [] };
  const ref = Number(await call<number | string>(ctx.deps.db, 'family_ref_next', {}));
  const id = randomUUID();
  return {
    family: { id, ref, district_code: null, district_name: null, caller_name: null, tutor: null, children: [], needs: [] },
    effects: [{ op: 'safety.family', id, ref }],
  };
}

/**
 * An urgent request for her tutor, or the coordinators while she has none (or a normal one when she asks to talk
 * to her tutor); her words join a request already urgent rather than opening a second one. Her words are in `lng`,
 * the language they were heard in.
 */
async function urgentRequest(ctx: FlowContext, lng: Language, concepts: Concept[], body: string | undefined, media: MediaRef[], urgency: 'urgent' | 'normal'): Promise<{ effects: Effect[]; ref: number; already: boolean; replies: Reply[]; refused: string[] }> {
  const { family, effects } = await familyForSafety(ctx);
  const speaking: FlowContext = { ...ctx, contact: { ...ctx.contact, family, language: lng } };
  const open = family.needs?.find((n) => n.urgency === 'urgent');
  if (open && urgency === 'urgent') {
    const added = await addToNeed(speaking, open, body, media);
    return { effects: [...effects, ...added.effects], ref: open.ref, already: true, replies: added.replies, refused: added.refused };
  }
  const beforeConsent = ctx.contact.consent !== 'given';
  const opened = await openNeed(speaking, {
    kind: 'need', category: categoryOf(concepts), urgency, source: 'danger', body, media,
    details: { concepts, heard_in: lng, ...(beforeConsent ? { before_consent: true } : {}) },
    context: (t) => [t('staff.safetyHeard', { concepts: concepts.map((c) => t(`staff.safetyConcept.${c}`)).join(', ') }), ...(beforeConsent ? [t('staff.safetyBeforeConsent')] : [])].join('\n'),
  });
  return { effects: [...effects, ...opened.effects], ref: opened.ref, already: false, replies: opened.replies, refused: opened.refused };
}

/** What she is told after the numbers: who knows now, and that they will write to her here. */
function told(ctx: FlowContext, t: TFunction, ref: number, already: boolean): Reply {
  const tutor = ctx.contact.family?.tutor;
  if (already) return { text: t(tutor ? 'needs.urgentAgain' : 'safety.passedOn') };
  return { text: tutor ? t('safety.toldTutor', { tutor: firstName(tutor.name), need: needRef(ref) }) : t('safety.toldTeam', { need: needRef(ref) }) };
}

const event = (ctx: FlowContext, lng: Language, level: 'certain' | 'possible', concept: Concept | 'menu', outcome: 'alerted' | 'asked' | 'now' | 'tutor' | 'safe'): Effect =>
  ({ op: 'safety.event', level, concept, language: lng, outcome, before_consent: ctx.contact.consent !== 'given' });

/** The emergency numbers before whatever the rest of the conversation answers. */
function withNumbersFirst(ctx: FlowContext, lng: Language, concepts: Concept[], turn: Turn): Turn {
  return { ...turn, replies: [{ text: numbersFor(ctx.deps.i18n.t(lng), lng, concepts) }, ...turn.replies] };
}

/** The knowledge base's answer when her words are also a question it answers with confidence (never the protection area: that is this reply). */
async function knowledgeAnswer(ctx: FlowContext, text: string): Promise<string | undefined> {
  const match = await ctx.deps.knowledge?.match(ctx.contact.language, text);
  return match && match.entry.category !== 'protection' ? match.entry.answer : undefined;
}

/** Danger heard for certain: the numbers at once, and an urgent request. */
async function certain(ctx: FlowContext, lng: Language, concepts: Concept[], body: string | undefined, media: MediaRef[], resume: Record<string, unknown>): Promise<Turn> {
  const t = ctx.deps.i18n.t(lng);
  const opened = await urgentRequest(ctx, lng, concepts, body, media, 'urgent');
  return {
    replies: [{ text: numbersFor(t, lng, concepts) }, told(ctx, t, opened.ref, opened.already), ...opened.replies],
    refusedMedia: opened.refused,
    // a registered mother finds her menu again with her next word; before consent she is not asked anything now
    conversation: ctx.contact.consent === 'given' ? {} : { ...resume, step: 'safety.open' },
    language: lng,
    effects: [...opened.effects, event(ctx, lng, 'certain', concepts[0]!, 'alerted')],
  };
}

function askNow(ctx: FlowContext, lng: Language, assessment: Assessment, body: string | undefined, media: MediaRef[]): Turn {
  const t = ctx.deps.i18n.t(lng);
  const choices: Choice[] = [
    { id: 'safety:now', label: t('safety.yesNow') },
    { id: 'safety:tutor', label: t('safety.talkTutor') },
    { id: 'safety:safe', label: t('safety.imSafe') },
  ];
  const state: SafetyState = { step: 'safety.ask', offered: choices, concepts: assessment.concepts, lng, resume: ctx.contact.conversation, ...(body ? { body } : {}), ...(media.length ? { media } : {}) };
  return {
    replies: [{ text: numbersFor(t, lng, assessment.concepts) }, { text: t('safety.askNow'), choices }],
    conversation: state,
    language: lng,
    effects: [event(ctx, lng, 'possible', assessment.concepts[0]!, 'asked')],
  };
}

/** Her answer to "are you in danger now?". */
async function answer(ctx: FlowContext, state: SafetyState, next: (resumed: FlowContext) => Promise<Turn>): Promise<Turn | undefined> {
  const lng = state.lng;
  const t = ctx.deps.i18n.t(lng);
  const concept = state.concepts[0] ?? 'fear';
  if (ctx.choice === 'safety:now') {
    const turn = await certain(ctx, lng, state.concepts, state.body, state.media ?? [], state.resume);
    return { ...turn, effects: [...(turn.effects ?? []), event(ctx, lng, 'possible', concept, 'now')] };
  }
  if (ctx.choice === 'safety:tutor') {
    const opened = await urgentRequest(ctx, lng, state.concepts, state.body, state.media ?? [], 'normal');
    const tutor = ctx.contact.family?.tutor;
    const text = tutor ? t('needs.sent', { tutor: firstName(tutor.name), need: needRef(opened.ref) }) : t('needs.sentNoTutor', { need: needRef(opened.ref) });
    return {
      replies: [{ text }],
      conversation: ctx.contact.consent === 'given' ? {} : { ...state.resume, step: 'safety.open' },
      language: lng,
      effects: [...opened.effects, event(ctx, lng, 'possible', concept, 'tutor')],
    };
  }
  // safe, or she went on with something else: back where she was, and the alarm counted as false only when she says so
  const resumed: FlowContext = { ...ctx, contact: { ...ctx.contact, conversation: state.resume as FlowContext['contact']['conversation'] }, choice: ctx.choice === 'safety:safe' ? undefined : ctx.choice };
  if (ctx.choice === 'safety:safe') {
    // a registered mother finds her menu; before consent, the welcome goes on where it was
    const thanks = t('safety.safeThanks');
    const after = ctx.contact.consent === 'given' ? ctx.menus.main({ ...resumed, t }, thanks) : await next({ ...resumed, text: '' });
    const replies = ctx.contact.consent === 'given' ? after.replies : [{ text: thanks }, ...after.replies];
    return { ...after, replies, effects: [event(ctx, lng, 'possible', concept, 'safe'), ...(after.effects ?? [])] };
  }
  return next(resumed);
}

/**
 * Before anything else, for everyone who is not staff: danger in her words (a message, a caption), in any state,
 * in any of the 13 languages. Certain → the numbers and an urgent request; possible → the numbers and one question.
 * `next` is the rest of the conversation, for her answer "I am safe" or when she writes something else.
 */
export async function safetyStep(ctx: FlowContext, next: (ctx: FlowContext) => Promise<Turn>): Promise<Turn | undefined> {
  if (ctx.contact.staff) return undefined;
  const state = ctx.contact.conversation as Partial<SafetyState> & { step?: string; needId?: string };
  const text = ctx.inbound.choiceId ? '' : ctx.text;
  const assessment = text ? (ctx.deps.safety ?? dangerMatcher()).assess(text, [...(ctx.contact.languageConfirmed ? [ctx.contact.language] : []), ...(ctx.inbound.languageHint ? [ctx.inbound.languageHint] : []), ctx.contact.language]) : undefined;
  if (assessment && assessment.level !== 'none') {
    const lng = replyLanguage(ctx, assessment.language);
    const resume = state.step === 'safety.ask' || state.step === 'safety.open' ? (state.resume as Record<string, unknown> | undefined) ?? {} : ctx.contact.conversation;
    const media = mediaOf(ctx);
    const registered = ctx.contact.consent === 'given' && ctx.contact.family !== null;
    const open = ctx.contact.family?.needs?.find((n) => n.urgency === 'urgent');
    // "they threw us out" in words of eviction, and nothing else heard: the numbers, then the housing path (urgent too)
    if (registered && !open && assessment.concepts.every((c) => c === 'thrown_out') && hasPhrase(ctx, text, 'eviction')) {
      return withNumbersFirst(ctx, lng, assessment.concepts, await next(ctx));
    }
    if (assessment.level === 'certain' || open) {
      // a weaker word while a request for her safety is already open joins it: no second question
      const turn = await certain(ctx, lng, assessment.concepts, text, media, resume);
      const answer = await knowledgeAnswer(ctx, text);
      return answer ? { ...turn, replies: [...turn.replies, { text: answer }] } : turn;
    }
    // "help!" alone: the help menu, which keeps the numbers in sight and has the protection area
    if (registered && isHelpPlea(ctx, text)) return next(ctx);
    // one weaker word in a question the knowledge base answers ("depressione dopo il parto, aiuto"): the answer, the numbers in sight
    if (registered && (await knowledgeAnswer(ctx, text))) {
      const turn = await next(ctx);
      return { ...turn, replies: [{ text: ctx.deps.i18n.t(lng)('needs.emergencyShort') }, ...turn.replies] };
    }
    return askNow(ctx, lng, assessment, text, media);
  }
  if (state.step === 'safety.ask') return answer(ctx, state as SafetyState, next);
  if (state.step === 'safety.open' && ctx.contact.consent !== 'given') {
    // before consent, with a request open for her safety: what she writes reaches the staff, until they close it
    const open = ctx.contact.family?.needs?.find((n) => n.urgency === 'urgent') ?? ctx.contact.family?.needs?.[0];
    if (!open) return next({ ...ctx, contact: { ...ctx.contact, conversation: { ...state, step: undefined } } });
    if (ctx.choice?.startsWith('lang:') || ctx.choice?.startsWith('consent:') || ctx.choice?.startsWith('pause:') || isKeyword(ctx.t, 'stop', ctx.text)) return next(ctx);
    const lng = replyLanguage(ctx);
    const t = ctx.deps.i18n.t(lng);
    const media = mediaOf(ctx);
    if (!ctx.text && !media.length) return undefined;
    const added = await addToNeed({ ...ctx, contact: { ...ctx.contact, language: lng } }, open, ctx.text || undefined, media);
    return { replies: [{ text: t('safety.passedOn') }, ...added.replies], conversation: state, effects: added.effects, refusedMedia: added.refused };
  }
  return undefined;
}
