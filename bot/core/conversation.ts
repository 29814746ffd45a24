import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { isLanguage, type Language, type Translator } from '../i18n';
import type { Logger } from '../logger';
import { languagesWithFirst } from './languages';
import type { Choice, ContactState, ConversationState, Inbound, Reply } from './types';

export interface CoreDeps {
  db: Db;
  i18n: Translator;
  clock: Clock;
  logger: Logger;
}

export interface Handled {
  duplicate: boolean;
  replies: Reply[];
}

/** What a flow decides for one message: replies, and the contact's next state. */
interface Turn {
  replies: Reply[];
  conversation: ConversationState;
  language: Language;
  languageConfirmed: boolean;
}

const LANGUAGE_CHOICE = 'lang:';

/** Maps what she sent to one of the choices last offered: a tapped id, "2", or the label itself. */
export function resolveChoice(inbound: Inbound, offered: Choice[] | undefined): string | undefined {
  if (inbound.choiceId) return inbound.choiceId;
  const text = inbound.text?.trim();
  if (!text || !offered?.length) return undefined;
  if (/^\d{1,2}$/.test(text)) return offered[Number(text) - 1]?.id;
  const folded = text.toLocaleLowerCase();
  return offered.find((c) => c.label.toLocaleLowerCase() === folded)?.id;
}

function languageChoices(i18n: Translator, first: Language): Choice[] {
  return languagesWithFirst(first).map((l) => ({ id: `${LANGUAGE_CHOICE}${l}`, label: i18n.t(l)('language.name') }));
}

/** First contact, until the real onboarding lands: greet in the suggested language and let her pick hers. */
function firstContact(i18n: Translator, contact: ContactState, inbound: Inbound): Turn {
  const chosen = resolveChoice(inbound, contact.conversation.offered);
  if (chosen?.startsWith(LANGUAGE_CHOICE) && isLanguage(chosen.slice(LANGUAGE_CHOICE.length))) {
    const lng = chosen.slice(LANGUAGE_CHOICE.length) as Language;
    const t = i18n.t(lng);
    return { replies: [{ text: t('greeting.languageSet') }, { text: t('greeting.comingSoon') }], conversation: {}, language: lng, languageConfirmed: true };
  }
  const t = i18n.t(contact.language);
  const offered = languageChoices(i18n, contact.language);
  const asked = contact.conversation.step === 'choose_language' && !contact.isNew;
  const replies: Reply[] = asked
    ? [{ text: t('common.notUnderstood'), choices: offered }]
    : [{ text: t('greeting.welcome') }, { text: t('greeting.chooseLanguage'), choices: offered }];
  return { replies, conversation: { step: 'choose_language', offered }, language: contact.language, languageConfirmed: false };
}

function registered(i18n: Translator, contact: ContactState): Turn {
  const t = i18n.t(contact.language);
  return { replies: [{ text: t('greeting.comingSoon') }], conversation: contact.conversation, language: contact.language, languageConfirmed: true };
}

function mediaReceipts(i18n: Translator, lng: Language, inbound: Inbound): Reply[] {
  const t = i18n.t(lng);
  return (inbound.media ?? []).map((m) => ({ text: t(`media.${m.kind === 'video' ? 'other' : m.kind}`) }));
}

/**
 * The conversation core: one inbound message in, replies queued in the outbox, state saved, in two RPCs.
 * A crash between them leaves the message unhandled, so the provider's redelivery is processed again; the
 * replies' idempotency keys make that safe.
 */
export async function handleInbound(deps: CoreDeps, inbound: Inbound): Promise<Handled> {
  const now = deps.clock.now().toISOString();
  const begin = await deps.db.rpc('inbound_begin', {
    p_channel: inbound.channel,
    p_provider_message_id: inbound.providerMessageId,
    p_provider_id: inbound.providerId,
    p_language_hint: inbound.languageHint ?? null,
    p_now: now,
  });
  if (begin.error) throw new Error(`inbound_begin failed: ${begin.error.message}`);
  const started = begin.data as { duplicate: boolean; contact?: Record<string, unknown> };
  if (started.duplicate) return { duplicate: true, replies: [] };
  const c = started.contact!;
  const contact: ContactState = {
    id: c.id as string,
    isNew: c.is_new as boolean,
    language: isLanguage(c.language) ? c.language : 'it',
    languageConfirmed: c.language_confirmed as boolean,
    consent: c.consent as ContactState['consent'],
    status: c.status as ContactState['status'],
    conversation: (c.conversation ?? {}) as ConversationState,
  };

  const hasWords = Boolean(inbound.text?.trim() || inbound.choiceId);
  let turn: Turn;
  if (!hasWords && inbound.media?.length) {
    turn = { replies: [], conversation: contact.conversation, language: contact.language, languageConfirmed: contact.languageConfirmed };
  } else {
    turn = contact.languageConfirmed ? registered(deps.i18n, contact) : firstContact(deps.i18n, contact, inbound);
  }
  const replies = [...mediaReceipts(deps.i18n, turn.language, inbound), ...turn.replies];

  const finish = await deps.db.rpc('inbound_finish', {
    p_channel: inbound.channel,
    p_provider_message_id: inbound.providerMessageId,
    p_contact_id: contact.id,
    p_conversation: turn.conversation,
    p_language: turn.language,
    p_language_confirmed: turn.languageConfirmed,
    p_replies: replies,
    p_media: (inbound.media ?? []).map((m) => ({ kind: m.kind, ref: m.ref, content_type: m.contentType ?? null })),
    p_now: now,
  });
  if (finish.error) throw new Error(`inbound_finish failed: ${finish.error.message}`);
  deps.logger.debug({ channel: inbound.channel, replies: replies.length }, 'inbound handled');
  return { duplicate: false, replies };
}
