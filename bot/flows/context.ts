import type { TFunction } from 'i18next';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import type { Language, Translator } from '../i18n';
import type { Logger } from '../logger';
import type { ChannelName, Choice, ConversationState, Inbound, Reply } from '../core/types';

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

export interface FamilyProfile {
  id: string;
  ref: number;
  district_code: string | null;
  district_name: string | null;
  tutor: StaffRef | null;
  children: ChildRow[];
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

/** A decision the database applies together with the replies (see effect_apply). */
export type Effect =
  | { op: 'consent' }
  | { op: 'child_add'; name: string | null; birth_date?: string; due_date?: string }
  | { op: 'child_update'; child_id: string; name?: string; birth_date?: string; due_date?: string }
  | { op: 'child_remove'; child_id: string }
  | { op: 'district'; code: string | null }
  | { op: 'status'; status: 'active' | 'paused' }
  | { op: 'forget' }
  | { op: 'redeem'; code: string }
  | { op: 'enqueue'; contact_id: string; key: string; kind: string; payload: Reply }
  | { op: 'staff_invite'; code: string; role: 'tutor' | 'coordinator'; full_name: string; expires_at: string }
  | { op: 'family_code'; code: string; tutor_id?: string; expires_at: string }
  | { op: 'relink_code'; code: string; family_id: string; expires_at: string }
  | { op: 'assign'; family_id: string; tutor_id: string }
  | { op: 'plan_done'; child_id: string; due_on: string; done_on: string }
  | { op: 'plan_book'; child_id: string; due_on: string; booked_on: string }
  | { op: 'plan_wait'; child_id: string; due_on: string; until: string }
  | { op: 'reminders'; child_id: string; on: boolean }
  | { op: 'need'; child_id: string; category: string; source: 'reminder' | 'menu' | 'text'; details: Record<string, unknown> };

/** What a flow decides for one message. */
export interface Turn {
  replies: Reply[];
  conversation: ConversationState;
  language?: Language;
  languageConfirmed?: boolean;
  effects?: Effect[];
}

export interface FlowContext {
  deps: FlowDeps;
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

/** One question with choices; remembers them so "2" or a label maps back on WhatsApp. */
export function ask(text: string, choices: Choice[], state: ConversationState): Turn {
  return { replies: [{ text, choices }], conversation: { ...state, offered: choices } };
}

/**
 * Messages about a family for the staff who should hear: her tutor, or the coordinators while she has none;
 * each in the reader's language. `render` is told which of the two it writes to.
 */
export async function staffNotices(ctx: FlowContext, familyId: string, key: string, render: (t: TFunction, lng: Language, toTutor: boolean) => string): Promise<Effect[]> {
  type Recipient = { contact_id: string; language: Language };
  const recipients = await call<{ tutor: Recipient[]; coordinators: Recipient[] }>(ctx.deps.db, 'notice_recipients', { p_family_id: familyId });
  const toTutor = recipients.tutor.length > 0;
  return (toTutor ? recipients.tutor : recipients.coordinators).map((r) => ({
    op: 'enqueue',
    contact_id: r.contact_id,
    key: `${key}:${r.contact_id}`,
    kind: 'staff_notice',
    payload: { text: render(ctx.deps.i18n.t(r.language), r.language, toTutor) },
  }));
}

/** Throws on an RPC error: the message stays unhandled and the provider redelivers it. */
export async function call<T>(db: Db, fn: string, args: Record<string, unknown>): Promise<T> {
  const { data, error } = await db.rpc(fn, args);
  if (error) throw new Error(`${fn} failed: ${error.message}`);
  return data as T;
}
