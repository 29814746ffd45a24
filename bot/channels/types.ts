import type { ChannelName, Choice } from '../core/types';

/** A claimed outbox row, with what a channel needs to deliver it. */
export interface OutboundMessage {
  id: number;
  contactId: string;
  providerId: string;
  language: string;
  lastInboundAt: Date | null;
  kind: string;
  payload: { text: string; choices?: Choice[]; templateVariables?: Record<string, string>; media?: OutboundMedia };
  attempts: number;
  template: { contentSid: string; variables: string[] } | null;
}

/** A file an outbox row carries: where it is stored, and what the core knew of it when it was queued. */
export interface OutboundMedia {
  id: string;
  kind: string;
  channel: ChannelName;
  ref: string;
  contentType?: string;
  size?: number;
  fileName?: string;
  duration?: number;
}

/** What a provider's answer means for the outbox, in courier's few kinds. */
export type SendOutcome =
  | { kind: 'sent'; providerMessageId: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number; rateLimited?: boolean }
  | { kind: 'contact_gone'; reason: string }
  | { kind: 'permanent'; reason: string }
  | { kind: 'no_template'; reason: string };

/** Channel limits are data: the dispatcher paces each channel by these. */
export interface ChannelLimits {
  /** messages per second overall for this sender (Infinity: not paced) */
  perSecond: number;
  /** messages per second to one chat; 0 = no per-chat limit */
  perChatPerSecond: number;
}

export interface ChannelSender {
  readonly channel: ChannelName;
  readonly limits: ChannelLimits;
  /** the provider's rate-limited identity (telegram:<bot id>, whatsapp:<sender>): every process sending as it shares its pace */
  readonly paceKey?: string;
  send(message: OutboundMessage, now: Date): Promise<SendOutcome>;
}

export const DEFAULT_LIMITS: Record<ChannelName, ChannelLimits> = {
  // Telegram Bot FAQ: about 30 messages/s in bulk, about 1/s per chat
  telegram: { perSecond: 30, perChatPerSecond: 1 },
  // Twilio WhatsApp default: 80 messages/s per sender
  whatsapp: { perSecond: 80, perChatPerSecond: 0 },
};
