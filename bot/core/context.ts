import type { TFunction } from 'i18next';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { call } from '../db/rpc';
import type { Language, Translator } from '../i18n';
import type { Logger } from '../logger';
import type { ChannelName, Choice, ConversationState, Inbound, Reply } from './types';
import type { KnowledgeBase } from '../knowledge/knowledge';
import type { TranslationProvider } from '../knowledge/translate';
import type { Transcriber } from '../knowledge/transcribe';
import type { DangerMatcher } from '../safety/matcher';

/** Where staff send families: the bot's Telegram username and WhatsApp number, when those channels are on. */
export interface ChannelLinks {
  telegramUsername?: string;
  whatsappNumber?: string;
}

export interface FlowDeps {
  db: Db;
  i18n: Translator;
  clock: Clock;
  logger: Logger;
  links?: ChannelLinks;
  /** a fresh single-use code; injected so tests can predict it */
  newCode?: () => string;
  /** questions answered in her language; without it every question goes to her tutor */
  knowledge?: KnowledgeBase;
  /** machine translation between her and her tutor; off when absent */
  translate?: TranslationProvider;
  /** danger in her words; the lexicons in locales/safety when absent */
  safety?: DangerMatcher;
  /** a voice note's words for her tutor; off when absent */
  transcribe?: Transcriber;
  /** the coordinators' desk (PUBLIC_URL/desk): /desk sends a sign-in link to it; off when absent */
  deskUrl?: string;
  /** counts and times each inbound message at handleInbound (functions/metrics.ts); no metrics when absent */
  metrics?: InboundMetrics;
}

/** What handleInbound reports of each message: plain methods, so the core knows nothing of Prometheus. Never personal data. */
export interface InboundMetrics {
  onInbound(channel: ChannelName, outcome: 'handled' | 'duplicate' | 'failed', seconds: number): void;
}

export interface ChildRow {
  id: string;
  name: string | null;
  birth_date: string | null;
  due_date: string | null;
  /** reminders on (she can stop them per child) */
  reminders?: boolean;
}

export interface StaffRef {
  id: string;
  ref: number;
  name: string;
}

/** A need of hers still open, and who handles it. */
export interface OpenNeed {
  id: string;
  ref: number;
  kind: 'need' | 'question';
  category: string;
  status: 'open' | 'in_charge';
  urgency: 'normal' | 'urgent';
  handler: string | null;
}

export interface FamilyProfile {
  id: string;
  ref: number;
  district_code: string | null;
  district_name: string | null;
  /** the first name she asked her tutor to use */
  caller_name?: string | null;
  checkin_on?: boolean;
  tutor: StaffRef | null;
  children: ChildRow[];
  needs?: OpenNeed[];
}

export interface StaffProfile extends StaffRef {
  role: 'tutor' | 'coordinator';
  active: boolean;
}

export interface Contact {
  id: string;
  channel: ChannelName;
  isNew: boolean;
  /** she never wrote before (new, or imported from the caseload) */
  firstMessage: boolean;
  language: Language;
  languageConfirmed: boolean;
  consent: 'pending' | 'given' | 'declined';
  consentAt: string | null;
  status: 'active' | 'paused' | 'unreachable';
  conversation: ConversationState;
  family: FamilyProfile | null;
  staff: StaffProfile | null;
}

/** What an outbox row carries: a text, or a file with its caption and what its sender reads if it cannot go. */
export type OutboxPayload = Reply & {
  templateVariables?: Record<string, string>;
  media?: MediaRef;
  failure?: { contact_id: string; texts: Record<string, string>; need_id?: string; notes?: Record<string, string> };
};

/** A decision the database applies together with the replies (see effect_apply). */
export type Effect =
  | { op: 'profile.consent' }
  | { op: 'profile.child_add'; name: string | null; birth_date?: string; due_date?: string }
  | { op: 'profile.child_update'; child_id: string; name?: string; birth_date?: string; due_date?: string }
  | { op: 'profile.child_remove'; child_id: string }
  | { op: 'profile.district'; code: string | null }
  | { op: 'profile.status'; status: 'active' | 'paused' }
  | { op: 'privacy.forget' }
  | { op: 'profile.redeem'; code: string }
  | { op: 'messaging.enqueue'; contact_id: string; key: string; kind: string; payload: OutboxPayload }
  | { op: 'needs.note'; need_id: string; body: string }
  | { op: 'staff.invite'; code: string; role: 'tutor' | 'coordinator'; full_name: string; expires_at: string; joined_notice?: { contact_id: string; payload: Reply }[] }
  | { op: 'staff.family_code'; code: string; tutor_id?: string; expires_at: string }
  | { op: 'staff.relink_code'; code: string; family_id: string; expires_at: string }
  | { op: 'staff.assign'; family_id: string; tutor_id: string }
  | { op: 'care.plan_done'; child_id: string; due_on: string; done_on: string }
  | { op: 'care.plan_book'; child_id: string; due_on: string; booked_on: string }
  | { op: 'care.plan_wait'; child_id: string; due_on: string; until: string }
  | { op: 'care.reminders'; child_id: string; on: boolean }
  | { op: 'care.need'; child_id: string; category: string; source: 'reminder' | 'menu' | 'text'; details: Record<string, unknown>; id?: string; ref?: number; language?: string }
  | NeedOpen
  | { op: 'needs.message'; need_id: string; message_id: string; language: string; body?: string; translation?: string; translation_language?: string; media?: MediaRef[] }
  | { op: 'needs.caller_name'; name: string }
  | { op: 'checkins.set'; on: boolean }
  | { op: 'checkins.done' }
  | { op: 'knowledge.answered'; answer_id: string; entry_id: string; language: string }
  | { op: 'knowledge.feedback'; answer_id: string; helped: boolean }
  | { op: 'needs.take'; need_id: string }
  | { op: 'needs.reply'; need_id: string; message_id: string; language: string; body?: string; translation?: string; translation_language?: string; media?: MediaRef[] }
  | { op: 'needs.resolve'; need_id: string; outcome: NeedOutcome }
  | { op: 'needs.hand'; need_id: string; tutor_id: string }
  | { op: 'calls.follow'; call_id: string; on: boolean }
  | { op: 'calls.docs'; call_id: string; docs: string[] }
  | { op: 'calls.answers'; call_id: string; answers: Record<string, string> }
  | { op: 'calls.applied'; call_id: string }
  | { op: 'calls.help'; call_id: string; need_id: string }
  | { op: 'calls.staff_applied'; need_id: string }
  | { op: 'calls.outcome'; need_id: string; outcome: 'admitted' | 'ranked' | 'refused'; ranking?: number }
  | { op: 'calls.close'; code: string }
  | { op: 'broadcasts.create'; ref: number; source: 'chat'; source_key: string; audience: Record<string, unknown>; texts: Record<string, string>; send_at: string }
  | { op: 'broadcasts.cancel'; ref: number }
  | { op: 'staff.deactivate'; staff_ref: number }
  | { op: 'desk.link'; token_hash: string }
  | { op: 'safety.family'; id: string; ref: number }
  | { op: 'safety.event'; level: 'certain' | 'possible'; concept: string; language: string; outcome: 'alerted' | 'asked' | 'now' | 'tutor' | 'safe'; before_consent: boolean };

export type NeedCategory = 'health' | 'education' | 'protection' | 'parenting' | 'housing' | 'work' | 'documents' | 'other';
export type NeedOutcome = 'solved' | 'referred' | 'not_reachable' | 'not_needed';
/** A file she (or her tutor) sent, as kept with a request and carried by an outbox row; the file itself stays with the provider. */
export interface MediaRef {
  kind: string;
  ref: string;
  /** set for files from this version on: the media_refs row and the outbox rows name it */
  id?: string;
  channel?: ChannelName;
  contentType?: string;
  size?: number;
  fileName?: string;
  duration?: number;
  /** a voice note's words, when transcription is on, and their Italian */
  transcript?: string;
  transcriptTranslation?: string;
}
export interface NeedOpen {
  op: 'needs.open';
  id: string;
  ref: number;
  message_id: string;
  kind: 'need' | 'question';
  category: NeedCategory;
  urgency: 'normal' | 'urgent';
  source: 'menu' | 'text' | 'danger' | 'checkin' | 'question' | 'reminder';
  language: string;
  child_id?: string;
  body?: string;
  translation?: string;
  translation_language?: string;
  media?: MediaRef[];
  details?: Record<string, unknown>;
}

/** What a flow decides for one message. */
export interface Turn {
  replies: Reply[];
  conversation: ConversationState;
  language?: Language;
  languageConfirmed?: boolean;
  effects?: Effect[];
  /** ids of her files that could not be passed on (already explained in the replies): no "received" for them */
  refusedMedia?: string[];
}

/** The two menus, drawn by the router from the features' items: features reach them here, never by import. */
export interface Menus {
  main(ctx: FlowContext, lead?: string): Turn;
  staff(ctx: FlowContext, staff: Pick<StaffProfile, 'role'>, lead?: string): Turn;
}

export interface FlowContext {
  deps: FlowDeps;
  menus: Menus;
  contact: Contact;
  inbound: Inbound;
  /** t() in her language */
  t: TFunction;
  /** what she wrote, trimmed ('' for a tap or media) */
  text: string;
  /** the choice she made among those last offered, if any */
  choice: string | undefined;
  /** today in Europe/Rome, YYYY-MM-DD */
  today: string;
  now: Date;
}

/** One message as the conversation core hands it to the router, which adds the menus. */
export type Message = Omit<FlowContext, 'menus'>;

/**
 * t() for the person writing: while her family has no tutor, a text that promises one reads its `_team`
 * variant ("the programme's team will answer you"), where the locale has one; staff read the plain text.
 */
export function herT(t: TFunction, contact: Pick<Contact, 'staff' | 'family'>): TFunction {
  if (contact.staff || contact.family?.tutor) return t;
  return ((key: string | string[], options?: Record<string, unknown>) => t(key, { context: 'team', ...options })) as TFunction;
}

/** One question with choices; remembers them so "2" or a label maps back on WhatsApp. */
export function ask(text: string, choices: Choice[], state: ConversationState): Turn {
  return { replies: [{ text, choices }], conversation: { ...state, offered: choices } };
}

/**
 * Messages about a family for the staff who should hear: her tutor, or the coordinators while she has none;
 * each in the reader's language. `render` is told which of the two it writes to, and may add choices.
 */
export function staffNotices(ctx: FlowContext, familyId: string, key: string, render: (t: TFunction, lng: Language, toTutor: boolean) => string | Reply): Promise<Effect[]>;
export function staffNotices(ctx: FlowContext, recipients: Recipients, key: string, render: (t: TFunction, lng: Language, toTutor: boolean) => string | Reply): Effect[];
export function staffNotices(ctx: FlowContext, who: string | Recipients, key: string, render: (t: TFunction, lng: Language, toTutor: boolean) => string | Reply): Effect[] | Promise<Effect[]> {
  const notices = ({ list, toTutor }: Recipients): Effect[] => list.map((r) => {
    const message = render(ctx.deps.i18n.t(r.language), r.language, toTutor);
    return { op: 'messaging.enqueue', contact_id: r.contact_id, key: `${key}:${r.contact_id}`, kind: 'staff_notice', payload: typeof message === 'string' ? { text: message } : message };
  });
  return typeof who === 'string' ? staffRecipients(ctx, who).then(notices) : notices(who);
}

/** Who hears about a family: her tutor, or the coordinators while she has none. */
export interface Recipients {
  list: { contact_id: string; language: Language; channel: ChannelName }[];
  toTutor: boolean;
}
export async function staffRecipients(ctx: FlowContext, familyId: string): Promise<Recipients> {
  type Recipient = Recipients['list'][number];
  const recipients = await call<{ tutor: Recipient[]; coordinators: Recipient[] }>(ctx.deps.db, 'notice_recipients', { p_family_id: familyId });
  const toTutor = recipients.tutor.length > 0;
  return { list: toTutor ? recipients.tutor : recipients.coordinators, toTutor };
}

/** Throws on an RPC error (keeping its SQLSTATE): the message stays unhandled and the provider redelivers it. */
export { call };
