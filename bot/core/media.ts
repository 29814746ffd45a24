/**
 * Files travel as files: what she sends reaches her tutor's chat as the photo, the voice note or the document
 * itself, and her tutor's files reach her the same way, across channels. Each file to each recipient is one
 * outbox row (kind `media`) carrying the file's provider reference, checked here against the recipient
 * channel's limits; what cannot go is said at once, and what fails later is said by the outbox (`failure`).
 */
import type { TFunction } from 'i18next';
import type { ChannelName, Reply } from './types';
import type { Language } from '../i18n';
import { herT, type Effect, type FlowContext, type MediaRef } from './context';
import { MB, MEDIA_LIMITS, mediaProblem, sizeLimit, type MediaProblem } from '../channels/media-limits';

export interface MediaRecipient {
  contact_id: string;
  language: Language;
  channel: ChannelName;
}

/** Her message's files, as kept references; before consent nothing she sends is kept or fetched. */
export function mediaOf(ctx: Pick<FlowContext, 'contact' | 'inbound'>): MediaRef[] {
  if (ctx.contact.consent !== 'given' && !ctx.contact.staff) return [];
  return (ctx.inbound.media ?? []).map((m) => ({
    kind: m.kind, ref: m.ref, channel: ctx.inbound.channel,
    ...(m.id ? { id: m.id } : {}),
    ...(m.contentType ? { contentType: m.contentType } : {}),
    ...(m.size !== undefined ? { size: m.size } : {}),
    ...(m.fileName ? { fileName: m.fileName } : {}),
    ...(m.duration !== undefined ? { duration: m.duration } : {}),
  }));
}

const KINDS = new Set(['photo', 'voice', 'document']);
/** "photo", "voice message", "document" or "file", in the reader's language (a bare noun, as in a list). */
export const mediaKindName = (t: TFunction, kind: string) => t(`media.kind.${KINDS.has(kind) ? kind : 'other'}`);

/** The limit a problem refers to, for the sentence that explains it. */
const limitMb = (problem: MediaProblem, m: MediaRef, to: ChannelName) => {
  if (problem !== 'too_large') return 0;
  const limit = Math.min(sizeLimit({ channel: m.channel ?? to, contentType: m.contentType }, to), m.channel === 'telegram' ? MEDIA_LIMITS.telegram.downloadBytes : Infinity);
  return Math.round(limit / MB);
};

/** What the sender reads when a file of hers could not reach its recipient, and what to do. */
export function mediaFailureText(t: TFunction, problem: MediaProblem, m: MediaRef, to: ChannelName): string {
  return t(`media.failed.${problem}`, { kind: mediaKindName(t, m.kind), limit: limitMb(problem, m, to) });
}

export interface MediaSend {
  media: MediaRef[];
  recipients: MediaRecipient[];
  /** idempotency key prefix, unique to the message that carries the files */
  key: string;
  /** the caption under each file, in the recipient's language (the request's line, or "from your tutor") */
  caption: (t: TFunction, lng: Language) => string;
  /** the request that keeps a note when a file cannot go */
  needId?: string;
}

/**
 * One outbox row per file per recipient, each with the sentences its sender reads if it fails for good;
 * a file the recipient's channel cannot take is not queued: the sender is told now and the request keeps a note.
 */
export function mediaDeliveries(ctx: FlowContext, send: MediaSend): { effects: Effect[]; replies: Reply[]; refused: string[] } {
  const effects: Effect[] = [];
  const replies: Reply[] = [];
  const refusedIds: string[] = [];
  const senderT = ctx.contact.staff ? ctx.t : herT(ctx.t, ctx.contact);
  const noteT = ctx.deps.i18n.t('it');
  for (const m of send.media) {
    if (!m.id || !m.channel) continue;
    let refused: { problem: MediaProblem; to: ChannelName } | undefined;
    for (const r of send.recipients) {
      const problem = mediaProblem({ channel: m.channel, contentType: m.contentType, size: m.size }, r.channel);
      if (problem) {
        refused ??= { problem, to: r.channel };
        continue;
      }
      const failure = {
        contact_id: ctx.contact.id,
        texts: Object.fromEntries((['too_large', 'unsupported', 'unreachable'] as const).map((p) => [p, mediaFailureText(senderT, p, m, r.channel)])),
        ...(send.needId ? { need_id: send.needId, notes: Object.fromEntries((['too_large', 'unsupported', 'unreachable'] as const).map((p) => [p, noteOf(noteT, p, m, r.channel)])) } : {}),
      };
      const t = ctx.deps.i18n.t(r.language);
      effects.push({ op: 'messaging.enqueue', contact_id: r.contact_id, key: `${send.key}:media:${m.id}:${r.contact_id}`, kind: 'media', payload: { text: send.caption(t, r.language), media: m, failure } });
    }
    if (refused) {
      refusedIds.push(m.id);
      replies.push({ text: mediaFailureText(senderT, refused.problem, m, refused.to) });
      if (send.needId) effects.push({ op: 'needs.note', need_id: send.needId, body: noteOf(noteT, refused.problem, m, refused.to) });
    }
  }
  return { effects, replies, refused: refusedIds };
}

/** The request's note, in the programme's language. */
const noteOf = (t: TFunction, problem: MediaProblem, m: MediaRef, to: ChannelName) => t(`staff.mediaNote.${problem}`, { kind: mediaKindName(t, m.kind), limit: limitMb(problem, m, to) });
