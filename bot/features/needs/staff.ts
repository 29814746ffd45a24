import { randomUUID } from 'node:crypto';
import { differenceInHours,  parseISO } from 'date-fns';
import type { TFunction } from 'i18next';
import type { ChannelName, Choice } from '../../core/types';
import { mediaDeliveries, mediaOf } from '../../core/media';
import { requestLine } from '../../core/needs';
import type { Language } from '../../i18n';
import { ask, call, type ChildRow, type Effect, type FlowContext, type MediaRef, type NeedOutcome, type StaffProfile, type Turn } from '../../core/context';
import { isKeyword } from '../../core/keywords';
import { ageOf, familyRef, firstName, languageName, needRef, staffRef } from '../../core/format';
import {  herWords, needActions, needAlertMessage, needButtons, needLine, type ListedNeed } from '../../core/need-alerts';
import { pageArg, pageOf, staffDone } from '../../core/staff-ui';

/** WhatsApp lets a business write freely only this long after her last message. */
const WHATSAPP_WINDOW_HOURS = 24;
const OUTCOMES: NeedOutcome[] = ['solved', 'referred', 'not_reachable', 'not_needed'];
/** the last messages of a thread shown with /need */
const THREAD_SHOWN = 10;

interface NeedCard {
  id: string;
  ref: number;
  kind: 'need' | 'question';
  category: string;
  urgency: 'normal' | 'urgent';
  status: 'open' | 'in_charge' | 'resolved';
  language: string | null;
  created_at: string;
  outcome: string | null;
  assignee: { id: string; ref: number; name: string } | null;
  family: { id: string; ref: number; caller_name: string | null; district: string | null; children: ChildRow[] };
  contacts: { contact_id: string; channel: string; language: Language; last_inbound_at: string | null; status: string }[];
  thread: { id: string; author: 'family' | 'staff' | 'note'; language: string; body: string | null; translation: string | null; media: MediaRef[]; at: string; staff: string | null }[];
}

/** Requests per page of /needs: two buttons each keeps a page to a dozen choices. */
const NEEDS_PAGE = 5;

/** /needs: the open requests this staff member may act on, urgent first, a page at a time, each with its buttons. */
async function needsList(ctx: FlowContext, page: number): Promise<Turn> {
  const { t } = ctx;
  const list = await call<ListedNeed[]>(ctx.deps.db, 'staff_needs', { p_contact_id: ctx.contact.id, p_now: ctx.now.toISOString() });
  if (!list.length) return staffDone(ctx, t('staff.needsNone'));
  const shown = pageOf(list, page, NEEDS_PAGE);
  if (!shown.items.length) return needsList(ctx, 1);
  const choices = shown.items.flatMap((n) => needButtons(t, n));
  if (shown.more) choices.push({ id: `staff:needs:${page + 1}`, label: t('staff.more') });
  return staffDone(ctx, [t('staff.needsHeader', { count: list.length }), ...shown.items.map((n) => needLine(t, n, ctx.now))].join('\n'), choices);
}

const parseNeed = (arg: string | undefined) => {
  const m = /^N-?(\d{1,12})$/i.exec(arg?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
};

/** Taps on a request's buttons (need:<verb>:<ref>[:<arg>]) and the reply she is writing (step staff.reply). */
export async function staffNeedsTurn(ctx: FlowContext, staff: StaffProfile): Promise<Turn | undefined> {
  const { t } = ctx;
  const state = ctx.contact.conversation as { step?: string; needRef?: number };
  const tap = /^need:(take|reply|resolve|hand|outcome|handto|show):(\d+)(?::(\w+))?$/.exec(ctx.choice ?? '');
  if (tap) return act(ctx, staff, tap[1]!, Number(tap[2]), tap[3] ? [tap[3]] : []);
  const withFile = (ctx.inbound.media?.length ?? 0) > 0;
  if (state.step === 'staff.reply' && (ctx.text || withFile) && !ctx.text.startsWith('/') && !ctx.choice && !isKeyword(t, 'menu', ctx.text)) {
    return act(ctx, staff, 'send', state.needRef, [ctx.text]);
  }
  return undefined;
}

/** /needs, /need N-12, /take, /reply, /resolve, /hand. */
export async function needCommand(ctx: FlowContext, staff: StaffProfile, command: string, args: string[]): Promise<Turn> {
  const { t } = ctx;
  if (command === 'needs') return needsList(ctx, pageArg(args[0]));
  const ref = parseNeed(args[0]);
  if (ref === undefined) return staffDone(ctx, t('staff.usage', { example: command === 'reply' ? '/reply N-12 …' : command === 'hand' ? '/hand N-12 T-3' : `/${command} N-12` }));
  const verb = command === 'need' ? 'show' : command === 'reply' ? (args.length > 1 ? 'send' : 'reply') : command;
  // the reply as written, line breaks kept
  const rest = command === 'reply' ? [ctx.text.replace(/^\/\S+\s+\S+\s*/, '')] : args.slice(1);
  return act(ctx, staff, verb, ref, rest);
}

async function act(ctx: FlowContext, staff: StaffProfile, verb: string, ref: number | undefined, rest: string[]): Promise<Turn> {
  const { t, deps } = ctx;
  const done = (text: string, next?: Choice[]) => staffDone(ctx, text, next);
  const lookup = (ref: number) => call<NeedCard | null>(deps.db, 'need_card', { p_contact_id: ctx.contact.id, p_need_ref: ref, p_now: ctx.now.toISOString() });
  const unknown = (ref: number | string) => done(t('staff.unknownNeed', { need: typeof ref === 'number' ? needRef(ref) : ref }));
  if (ref === undefined) return ctx.menus.staff(ctx, staff);

  const card = await lookup(ref);
  if (!card) return unknown(ref);
  if (card.status === 'resolved' && verb !== 'show') return done(t('staff.needAlreadyResolved', { need: needRef(ref) }));
  const family = card.contacts;
  const tutorName = firstName(staff.name);

  switch (verb) {
    case 'show': {
      const head = needAlertMessage(t, ctx.contact.language, {
        ref: card.ref, kind: card.kind, category: card.category, urgency: card.urgency, familyRef: card.family.ref, callerName: card.family.caller_name,
        district: card.family.district, children: card.family.children, language: card.language ?? 'it',
      }, ctx.today);
      const thread = card.thread.slice(-THREAD_SHOWN).map((m) => m.author === 'note'
        ? t('staff.threadNote', { age: ageOf(t, m.at, ctx.now), words: m.body ?? '' })
        : m.author === 'family'
        ? [t('staff.threadHer', { age: ageOf(t, m.at, ctx.now) }), ...herWords(t, ctx.contact.language, { language: m.language, body: m.body ?? undefined, translation: m.translation ?? undefined, media: m.media })].join('\n')
        : t('staff.threadStaff', { name: firstName(m.staff ?? ''), age: ageOf(t, m.at, ctx.now), words: m.body ?? '' }));
      const text = [head.text.split('\n').slice(0, -1).join('\n'), needStatus(t, card), ...thread].join('\n\n');
      return card.status === 'resolved' ? done(text) : done(text, needActions(t, card.ref));
    }

    case 'take': {
      const effects: Effect[] = [{ op: 'needs.take', need_id: card.id }];
      for (const c of family) {
        const tt = deps.i18n.t(c.language);
        effects.push({ op: 'messaging.enqueue', contact_id: c.contact_id, key: `need:${card.id}:taken:${ctx.inbound.providerMessageId}:${c.contact_id}`, kind: 'notice', payload: { text: tt('needs.taken', { tutor: tutorName }) } });
      }
      return { ...done(t('staff.needTaken', { need: needRef(card.ref) }), needActions(t, card.ref, ['reply', 'resolve', 'hand'])), effects };
    }

    case 'reply': {
      const lng = card.contacts[0]?.language;
      const note = lng && lng !== ctx.contact.language && deps.translate ? t('staff.replyTranslated', { language: languageName(ctx.contact.language, lng) }) : '';
      return { replies: [{ text: [t('staff.replyPrompt', { need: needRef(card.ref), family: familyRef(card.family.ref) }), note].filter(Boolean).join('\n') }], conversation: { step: 'staff.reply', needRef: card.ref } };
    }

    case 'send': {
      const body = (rest[0] ?? '').trim();
      const media = mediaOf(ctx);
      if (media.length) return sendReply(ctx, staff, card, body, media);
      if (!body) return { replies: [{ text: t('staff.replyPrompt', { need: needRef(card.ref), family: familyRef(card.family.ref) }) }], conversation: { step: 'staff.reply', needRef: card.ref } };
      if (body.length > 3000) return { replies: [{ text: t('staff.replyTooLong') }], conversation: { step: 'staff.reply', needRef: card.ref } };
      return sendReply(ctx, staff, card, body);
    }

    case 'resolve': {
      const outcome = rest[0]?.toLowerCase() as NeedOutcome | undefined;
      if (outcome && OUTCOMES.includes(outcome)) return resolve(ctx, staff, card, outcome);
      const choices: Choice[] = OUTCOMES.map((o) => ({ id: `need:outcome:${card.ref}:${o}`, label: t(`staff.outcome.${o}`) }));
      return ask(t('staff.resolvePrompt', { need: needRef(card.ref) }), choices, { step: 'staff' });
    }

    case 'outcome': {
      const outcome = rest[0] as NeedOutcome;
      if (!OUTCOMES.includes(outcome)) return done(t('staff.unknownCommand'));
      return resolve(ctx, staff, card, outcome);
    }

    case 'hand':
    case 'handto': {
      const targets = await call<{ id: string; ref: number; name: string; role: string; contacts: { contact_id: string; language: Language; channel: ChannelName }[] }[]>(deps.db, 'need_hand_targets', { p_contact_id: ctx.contact.id });
      const wanted = verb === 'handto' ? Number(rest[0]) : rest[0] ? /^T-?(\d+)$/i.exec(rest[0])?.[1] : undefined;
      if (wanted === undefined) {
        if (!targets.length) return done(t('staff.handNobody'));
        const page = pageArg(rest[0]);
        const shown = pageOf(targets, page);
        const choices = shown.items.map((s) => ({ id: `need:handto:${card.ref}:${s.ref}`, label: `${staffRef(s.ref)} ${s.name}` }));
        if (shown.more) choices.push({ id: `need:hand:${card.ref}:p${page + 1}`, label: t('staff.more') });
        return ask(t('staff.handPrompt', { need: needRef(card.ref) }), choices, { step: 'staff' });
      }
      const target = targets.find((s) => s.ref === Number(wanted));
      if (!target) return done(t('staff.unknownTutor', { tutor: String(rest[0]) }));
      const effects: Effect[] = [{ op: 'needs.hand', need_id: card.id, tutor_id: target.id }];
      const last = [...card.thread].reverse().find((m) => m.author === 'family');
      for (const c of target.contacts) {
        const tt = deps.i18n.t(c.language);
        const alert = needAlertMessage(tt, c.language, {
          ref: card.ref, kind: card.kind, category: card.category, urgency: card.urgency, familyRef: card.family.ref, callerName: card.family.caller_name,
          district: card.family.district, children: card.family.children, language: last?.language ?? card.language ?? 'it', body: last?.body ?? undefined,
          translation: last?.translation ?? undefined, media: last?.media, context: tt('staff.handedBy', { name: staff.name }),
        }, ctx.today);
        effects.push({ op: 'messaging.enqueue', contact_id: c.contact_id, key: `need:${card.id}:handed:${ctx.inbound.providerMessageId}:${c.contact_id}`, kind: 'staff_notice', payload: alert });
      }
      // the alert says her files follow: they do, to the colleague who now has the request
      const files = mediaDeliveries(ctx, {
        media: last?.media ?? [], recipients: target.contacts, key: `need:${card.id}:handed:${ctx.inbound.providerMessageId}`, needId: card.id,
        caption: requestLine(card.ref, card.category, card.family.ref),
      });
      effects.push(...files.effects);
      return { ...done([t('staff.handed', { need: needRef(card.ref), name: target.name }), ...files.replies.map((r) => r.text)].join('\n')), effects };
    }

    default:
      return done(t('staff.unknownCommand'));
  }
}

/** Her tutor's reply: stored in the thread, translated when on, and sent to her; on WhatsApp outside the window it waits behind a template. */
async function sendReply(ctx: FlowContext, staff: StaffProfile, card: NeedCard, body: string, media: MediaRef[] = []): Promise<Turn> {
  const { t, deps } = ctx;
  const messageId = randomUUID();
  const tutorName = firstName(staff.name);
  const herLanguage = card.contacts[0]?.language ?? (card.language as Language | null) ?? 'it';
  const translation = body && deps.translate && herLanguage !== ctx.contact.language ? await deps.translate.translate(body, ctx.contact.language, herLanguage) : undefined;
  const effects: Effect[] = [{
    op: 'needs.reply', need_id: card.id, message_id: messageId, language: ctx.contact.language, ...(body ? { body } : {}),
    ...(translation ? { translation, translation_language: herLanguage } : {}),
    ...(media.length ? { media } : {}),
  }];
  // her tutor's files reach her as files, each under "from your tutor"
  const files = mediaDeliveries(ctx, {
    media, key: `need:${card.id}:reply:${messageId}`, needId: card.id,
    recipients: card.contacts.map((c) => ({ contact_id: c.contact_id, language: c.language, channel: c.channel as ChannelName })),
    caption: (tt) => tt('needs.fromTutorFile', { tutor: tutorName }),
  });
  let waiting = false;
  for (const c of card.contacts) {
    const tt = deps.i18n.t(c.language);
    const words = translation && c.language === herLanguage ? translation : body;
    const text = [tt('needs.fromTutor', { tutor: tutorName, words }), words === translation ? tt('needs.translatedNote') : ''].filter(Boolean).join('\n\n');
    const closed = c.channel === 'whatsapp' && (!c.last_inbound_at || differenceInHours(ctx.now, parseISO(c.last_inbound_at)) >= WHATSAPP_WINDOW_HOURS);
    if (closed) {
      waiting = true;
      // the template goes now; the reply is held by the channel until she answers, then goes at once
      effects.push({ op: 'messaging.enqueue', contact_id: c.contact_id, key: `need:${card.id}:waiting:${messageId}:${c.contact_id}`, kind: 'tutor_waiting', payload: { text: tt('needs.tutorWaiting', { tutor: tutorName }), templateVariables: { 1: tutorName } } });
    }
    if (body) effects.push({ op: 'messaging.enqueue', contact_id: c.contact_id, key: `need:${card.id}:reply:${messageId}:${c.contact_id}`, kind: 'tutor_reply', payload: { text } });
  }
  effects.push(...files.effects);
  const lead = [t('staff.replySent', { need: needRef(card.ref) }), waiting ? t('staff.replyWaiting') : '', ...files.replies.map((r) => r.text)].filter(Boolean).join('\n');
  return { ...staffDone(ctx, lead, needActions(t, card.ref, ['reply', 'resolve'])), effects };
}

function resolve(ctx: FlowContext, staff: StaffProfile, card: NeedCard, outcome: NeedOutcome): Turn {
  const { t, deps } = ctx;
  const effects: Effect[] = [{ op: 'needs.resolve', need_id: card.id, outcome }];
  for (const c of card.contacts) {
    const tt = deps.i18n.t(c.language);
    effects.push({ op: 'messaging.enqueue', contact_id: c.contact_id, key: `need:${card.id}:resolved:${c.contact_id}`, kind: 'notice', payload: { text: tt('needs.resolved', { tutor: firstName(staff.name) }) } });
  }
  return { ...staffDone(ctx, t('staff.resolved', { need: needRef(card.ref), outcome: t(`staff.outcome.${outcome}`) })), effects };
}

/** Where a request stands and with whom; "not taken yet" says plainly when nobody has it. */
function needStatus(t: TFunction, card: NeedCard): string {
  const outcome = card.outcome ? t(`staff.outcome.${card.outcome}`) : '';
  if (card.status === 'open' && !card.assignee) return t('staff.needStatusNobody');
  return t(`staff.needStatus.${card.status}`, { name: card.assignee?.name ?? '–', outcome });
}
