import { randomUUID } from 'node:crypto';
import { isLanguage } from '../i18n';
import { foldChoice } from './languages';
import { romeDay } from '../time';
import { call } from '../db/rpc';
import { herT, type Contact, type FlowDeps, type Message, type Turn } from './context';
import type { Choice, ConversationState, Inbound, Reply } from './types';

/** What the core needs: the features' dependencies. */
export type CoreDeps = FlowDeps;

/** What decides one message: the router, composed from the features (bot/app.ts). */
export type Decide = (message: Message) => Promise<Turn>;

export interface Handled {
  duplicate: boolean;
  replies: Reply[];
}

/**
 * Maps what she sent to one of the choices last offered: a tapped id; "2" in any script's digits; the label
 * as she types it (case, accents, emoji and punctuation aside); or words found in one label only ("San Siro").
 */
export function resolveChoice(inbound: Inbound, offered: Choice[] | undefined): string | undefined {
  if (inbound.choiceId) return inbound.choiceId;
  const said = foldChoice(inbound.text ?? '');
  if (!said || !offered?.length) return undefined;
  if (/^\d{1,2}$/.test(said)) return offered[Number(said) - 1]?.id;
  const labels = offered.map((c) => foldChoice(c.label));
  const exact = labels.indexOf(said);
  if (exact >= 0) return offered[exact]!.id;
  // a part of a label, as whole words, of three letters or more, that no other label has
  if (said.replace(/[\s\d]/g, '').length < 3) return undefined;
  const hits = offered.filter((_, i) => ` ${labels[i]} `.includes(` ${said} `));
  return hits.length === 1 ? hits[0]!.id : undefined;
}

/** "Thank you, your tutor can see it" for each file passed on; staff and files that could not go get none. */
function mediaReceipts(deps: CoreDeps, contact: Contact, language: Contact['language'], inbound: Inbound, refused: string[] = []): Reply[] {
  if (contact.consent !== 'given' || contact.staff) return [];
  const t = herT(deps.i18n.t(language), contact);
  return (inbound.media ?? []).filter((m) => !m.id || !refused.includes(m.id)).map((m) => ({ text: t(`media.${m.kind === 'video' ? 'other' : m.kind}`) }));
}

/**
 * The conversation core: one inbound message in; the flows decide; their effects, the new state and the
 * replies are stored in one transaction. A crash before that leaves the message unhandled, so the
 * provider's redelivery is processed again from the same state.
 */
export async function handleWith(decide: Decide, deps: CoreDeps, given: Inbound): Promise<Handled> {
  // each file gets its id now, so the reference stored and the rows that carry it name the same file
  const inbound: Inbound = given.media?.length ? { ...given, media: given.media.map((m) => ({ ...m, id: m.id ?? randomUUID() })) } : given;
  const nowDate = deps.clock.now();
  const now = nowDate.toISOString();
  const started = await call<{ duplicate: boolean; contact?: Record<string, unknown> }>(deps.db, 'inbound_begin', {
    p_channel: inbound.channel,
    p_provider_message_id: inbound.providerMessageId,
    p_provider_id: inbound.providerId,
    p_language_hint: inbound.languageHint ?? null,
    p_now: now,
  });
  if (started.duplicate) return { duplicate: true, replies: [] };
  const c = started.contact!;
  const profile = (c.profile ?? {}) as { family?: Contact['family']; staff?: Contact['staff'] };
  const contact: Contact = {
    id: c.id as string,
    channel: inbound.channel,
    isNew: c.is_new as boolean,
    firstMessage: Boolean(c.first_message),
    language: isLanguage(c.language) ? c.language : 'it',
    languageConfirmed: c.language_confirmed as boolean,
    consent: c.consent as Contact['consent'],
    consentAt: (c.consent_at as string | null) ?? null,
    status: c.status as Contact['status'],
    conversation: (c.conversation ?? {}) as ConversationState,
    family: profile.family ?? null,
    staff: profile.staff?.active ? profile.staff : null,
  };

  const ctx: Message = {
    deps,
    contact,
    inbound,
    t: herT(deps.i18n.t(contact.language), contact),
    text: inbound.text?.trim() ?? '',
    choice: resolveChoice(inbound, contact.conversation.offered),
    today: romeDay(nowDate),
    now: nowDate,
  };
  const turn: Turn = await decide(ctx);
  const language = turn.language ?? contact.language;
  const replies = [...mediaReceipts(deps, contact, language, inbound, turn.refusedMedia), ...turn.replies];
  // before consent nothing she sends is kept
  const media = contact.consent === 'given' ? inbound.media ?? [] : [];

  await call(deps.db, 'inbound_finish', {
    p_channel: inbound.channel,
    p_provider_message_id: inbound.providerMessageId,
    p_contact_id: contact.id,
    p_conversation: turn.conversation,
    p_language: language,
    p_language_confirmed: turn.languageConfirmed ?? contact.languageConfirmed,
    p_effects: turn.effects ?? [],
    p_replies: replies,
    p_media: media.map((m) => ({ id: m.id, kind: m.kind, ref: m.ref, content_type: m.contentType ?? null })),
    p_now: now,
  });
  deps.logger.debug({ channel: inbound.channel, replies: replies.length, effects: turn.effects?.length ?? 0 }, 'inbound handled');
  return { duplicate: false, replies };
}
