/** Opening a need and adding to its thread: shared by every feature that turns her words into a request. */
import { randomUUID } from 'node:crypto';
import type { TFunction } from 'i18next';
import type { Choice, Reply } from './types';
import type { Language } from '../i18n';
import { call, staffNotices, staffRecipients, type Effect, type FlowContext, type MediaRef, type NeedCategory, type NeedOpen, type OpenNeed } from './context';
import { familyRef, languageName, needRef } from './format';
import { categoryLabel, herWords, needActions, needAlertMessage, type NeedAlert } from './need-alerts';
import { mediaDeliveries, type MediaRecipient } from './media';

/** The language staff read and write: translations go to and from it. */
export const PROGRAMME_LANGUAGE = 'it';

interface Service {
  name: string;
  address: string | null;
  hours: string | null;
  phone: string | null;
  languages: string[];
  unverified: boolean;
  district: string | null;
}

async function translateForStaff(ctx: FlowContext, body: string | undefined): Promise<{ translation?: string; translation_language?: string }> {
  if (!body || !ctx.deps.translate || ctx.contact.language === PROGRAMME_LANGUAGE) return {};
  const translation = await ctx.deps.translate.translate(body, ctx.contact.language, PROGRAMME_LANGUAGE);
  return translation ? { translation, translation_language: PROGRAMME_LANGUAGE } : {};
}

/** The services for an area near her (her district first, then the whole city), as lines in her language. */
export async function servicesNear(ctx: FlowContext, category: string): Promise<string | undefined> {
  const list = await call<Service[]>(ctx.deps.db, 'services_near', { p_category: category, p_district: ctx.contact.family?.district_code ?? null, p_limit: 3 });
  if (!list.length) return undefined;
  const { t } = ctx;
  const lng = ctx.contact.language;
  const lines = list.map((s) => [
    `📍 ${s.name}`,
    s.address && t('needs.serviceAddress', { address: s.address }),
    s.hours && t('needs.serviceHours', { hours: s.hours }),
    s.phone && t('needs.servicePhone', { phone: s.phone }),
    s.languages.length && t('needs.serviceLanguages', { languages: s.languages.map((l) => languageName(lng, l)).join(', ') }),
    s.unverified && t('needs.checkWithService'),
  ].filter(Boolean).join('\n'));
  return [t('needs.servicesHead'), ...lines].join('\n\n');
}

export interface NeedSpec {
  kind: 'need' | 'question';
  category: NeedCategory;
  urgency: 'normal' | 'urgent';
  source: NeedOpen['source'];
  body?: string;
  media?: MediaRef[];
  childId?: string;
  details?: Record<string, unknown>;
  /** a line for staff about where it came from */
  context?: (t: TFunction, lng: Language) => string;
  /** buttons for staff beyond take, reply, resolve, hand */
  actions?: (t: TFunction, ref: number) => Choice[];
}

/** Opens a need: stored with her words, and an alert with actions to her tutor (or the coordinators while she has none). */
export async function openNeed(ctx: FlowContext, spec: NeedSpec): Promise<{ effects: Effect[]; ref: number; id: string; replies: Reply[]; refused: string[] }> {
  const family = ctx.contact.family!;
  const ref = Number(await call<number | string>(ctx.deps.db, 'need_ref_next', {}));
  const id = randomUUID();
  const [translated, media] = await Promise.all([translateForStaff(ctx, spec.body), transcribed(ctx, spec.media ?? [])]);
  spec = { ...spec, media };
  const open: NeedOpen = {
    op: 'needs.open', id, ref, message_id: randomUUID(), kind: spec.kind, category: spec.category, urgency: spec.urgency, source: spec.source,
    language: ctx.contact.language,
    ...(spec.childId ? { child_id: spec.childId } : {}),
    ...(spec.body ? { body: spec.body } : {}),
    ...translated,
    ...(spec.media?.length ? { media: spec.media } : {}),
    ...(spec.details ? { details: spec.details } : {}),
  };
  const alert: Omit<NeedAlert, 'context'> = {
    ref, kind: spec.kind, category: spec.category, urgency: spec.urgency, familyRef: family.ref, callerName: family.caller_name,
    district: family.district_name, children: family.children, language: ctx.contact.language, body: spec.body, translation: translated.translation, media: spec.media,
  };
  const recipients = await staffRecipients(ctx, family.id);
  const notices = staffNotices(ctx, recipients, `need:${id}:alert`, (t, lng) => {
    const message = needAlertMessage(t, lng, { ...alert, context: spec.context?.(t, lng) }, ctx.today);
    return { ...message, choices: [...(message.choices ?? []), ...(spec.actions?.(t, ref) ?? [])] };
  });
  const files = mediaDeliveries(ctx, { media, recipients: recipients.list, key: `need:${id}:alert`, caption: requestLine(ref, spec.category, family.ref), needId: id });
  return { effects: [open, ...notices, ...files.effects], ref, id, replies: files.replies, refused: files.refused };
}

/** The caption under a file in staff chats: `N-7 · Health · F-12` (the area left out when unknown). */
export const requestLine = (ref: number, category: string | undefined, family: number) => (t: TFunction) =>
  [needRef(ref), ...(category ? [categoryLabel(t, category)] : []), familyRef(family)].join(' · ');

/** Her voice notes with their words, when transcription is on; a transcript is translated for staff like her text. */
async function transcribed(ctx: FlowContext, media: MediaRef[]): Promise<MediaRef[]> {
  const { transcribe } = ctx.deps;
  if (!transcribe || !media.some((m) => m.kind === 'voice')) return media;
  return Promise.all(media.map(async (m) => {
    if (m.kind !== 'voice') return m;
    const transcript = await transcribe.transcribe(m, ctx.contact.language);
    if (!transcript) return m;
    const { translation } = await translateForStaff(ctx, transcript);
    return { ...m, transcript, ...(translation ? { transcriptTranslation: translation } : {}) };
  }));
}

export type HandledNeed = Pick<OpenNeed, 'id' | 'ref'> & { category?: string; handler_contacts?: MediaRecipient[] };

/**
 * Her words (and media) added to a need's thread, and passed to whoever handles it; a need nobody handles yet
 * goes to her tutor, or the coordinators while she has none.
 */
export async function addToNeed(ctx: FlowContext, need: HandledNeed, body: string | undefined, given: MediaRef[]): Promise<{ effects: Effect[]; replies: Reply[]; refused: string[] }> {
  const [translated, media] = await Promise.all([translateForStaff(ctx, body), transcribed(ctx, given)]);
  const messageId = randomUUID();
  const family = ctx.contact.family!;
  const render = (tt: TFunction, reader: Language): Reply => ({
    text: [
      tt('staff.needFollowUp', { need: needRef(need.ref), family: `F-${family.ref}`, name: family.caller_name ?? tt('staff.noName') }),
      ...herWords(tt, reader, { language: ctx.contact.language, body, translation: translated.translation, media }),
    ].join('\n'),
    choices: needActions(tt, need.ref, ['reply', 'resolve']),
  });
  const key = `need:${need.id}:msg:${messageId}`;
  const recipients = need.handler_contacts?.length ? { list: need.handler_contacts, toTutor: true } : await staffRecipients(ctx, family.id);
  const notices = staffNotices(ctx, recipients, key, render);
  const files = mediaDeliveries(ctx, { media, recipients: recipients.list, key, caption: requestLine(need.ref, need.category, family.ref), needId: need.id });
  return {
    effects: [{ op: 'needs.message', need_id: need.id, message_id: messageId, language: ctx.contact.language, ...(body ? { body } : {}), ...translated, ...(media.length ? { media } : {}) }, ...notices, ...files.effects],
    replies: files.replies,
    refused: files.refused,
  };
}
