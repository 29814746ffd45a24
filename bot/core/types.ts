import type { Language } from '../i18n';

export type ChannelName = 'telegram' | 'whatsapp';

export interface Choice {
  id: string;
  label: string;
}

/** What the core answers: text plus optional choices; each channel renders them its own way. */
export interface Reply {
  text: string;
  choices?: Choice[];
}

export type MediaKind = 'photo' | 'voice' | 'document' | 'video' | 'other';

export interface InboundMedia {
  kind: MediaKind;
  /** Twilio MediaUrl or Telegram file_id */
  ref: string;
  contentType?: string;
  /** bytes, when the provider says (Telegram does; Twilio does not) */
  size?: number;
  fileName?: string;
  /** seconds, for a voice note */
  duration?: number;
  /** given by the core when the message is taken, so what it stores and what it sends name the same file */
  id?: string;
}

/** One message from a person, whatever the channel it came on. */
export interface Inbound {
  channel: ChannelName;
  /** Telegram chat id, or the WhatsApp number in E.164 */
  providerId: string;
  /** unique per channel: Telegram `<bot id>:<update_id>`, Twilio MessageSid */
  providerMessageId: string;
  text?: string;
  /** a tapped button: Telegram callback data, WhatsApp quick-reply payload */
  choiceId?: string;
  media?: InboundMedia[];
  /** from Telegram's language_code or the WhatsApp number's country code */
  languageHint?: Language;
}

export interface ConversationState {
  step?: string;
  /** the choices last offered, so "2" or a label typed on WhatsApp maps back to an id */
  offered?: Choice[];
  [key: string]: unknown;
}
