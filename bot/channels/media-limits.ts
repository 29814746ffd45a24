/**
 * What each provider accepts, as data: the core checks a file against its recipient's channel before queueing it,
 * the senders check again with the size the provider reports.
 */
import type { ChannelName } from '../core/types';

export const MB = 1024 * 1024;

export type MediaProblem = 'too_large' | 'unsupported' | 'unreachable';

/** Twilio "Accepted content types for media" for WhatsApp; voice notes are audio/ogg with Opus. */
export const WHATSAPP_TYPES = new Set([
  'image/jpeg', 'image/jpg', 'image/png', 'image/webp',
  'audio/ogg', 'audio/amr', 'audio/3gpp', 'audio/aac', 'audio/mpeg', 'audio/mp4',
  'video/mp4', 'video/3gpp',
  'application/pdf', 'text/plain', 'text/vcard',
  'application/msword', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.ms-excel', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-powerpoint', 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
]);

export const MEDIA_LIMITS = {
  /** Twilio, "Guidance on WhatsApp Media Messages": 16 MB per message, images 5 MB */
  whatsapp: { maxBytes: 16 * MB, imageBytes: 5 * MB },
  /** Bot API: bots download up to 20 MB (getFile), upload photos up to 10 MB and other files up to 50 MB */
  telegram: { downloadBytes: 20 * MB, photoBytes: 10 * MB, uploadBytes: 50 * MB },
} as const;

/** The bare MIME type: "audio/ogg; codecs=opus" → "audio/ogg". */
export const baseType = (contentType: string | undefined) => contentType?.split(';')[0]!.trim().toLowerCase() || undefined;

export interface MediaFacts {
  /** the channel the file is stored on */
  channel: ChannelName;
  contentType?: string;
  size?: number;
}

/** The most a file may weigh to reach a recipient on `to` (what "too large" refers to). */
export function sizeLimit(media: Pick<MediaFacts, 'channel' | 'contentType'>, to: ChannelName): number {
  if (to === 'whatsapp') return baseType(media.contentType)?.startsWith('image/') ? MEDIA_LIMITS.whatsapp.imageBytes : MEDIA_LIMITS.whatsapp.maxBytes;
  return media.channel === 'telegram' ? Infinity : MEDIA_LIMITS.telegram.uploadBytes;
}

/** Why a file cannot reach a recipient on `to`, or undefined when it can (or when what is known does not say). */
export function mediaProblem(media: MediaFacts, to: ChannelName): MediaProblem | undefined {
  const size = media.size ?? 0;
  // Telegram to Telegram goes by file_id: nothing is downloaded, so no size limit applies
  if (media.channel === 'telegram' && to === 'telegram') return undefined;
  if (media.channel === 'telegram' && size > MEDIA_LIMITS.telegram.downloadBytes) return 'too_large';
  if (to === 'whatsapp') {
    const type = baseType(media.contentType);
    if (size > sizeLimit(media, to)) return 'too_large';
    if (type && !WHATSAPP_TYPES.has(type)) return 'unsupported';
  }
  if (to === 'telegram' && size > MEDIA_LIMITS.telegram.uploadBytes) return 'too_large';
  return undefined;
}
