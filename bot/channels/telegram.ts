import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import { Bot, GrammyError, HttpError, InputFile, type Context } from 'grammy';
import type { Message, Update, UserFromGetMe } from 'grammy/types';
import { languageFromTelegram } from '../core/languages';
import { hasRightToLeftLetters, rtlParagraphs, textDirection, type TextDirection } from '../i18n';
import type { Inbound, InboundMedia, Reply } from '../core/types';
import { DEFAULT_LIMITS, type ChannelLimits, type ChannelSender, type OutboundMedia, type OutboundMessage, type SendOutcome } from './types';
import { MediaFetchError, type MediaSource } from './media-source';
import { baseType, MEDIA_LIMITS } from './media-limits';

/** A button is one centred line: only a label mixing Latin or numbers with right-to-left words needs to start RTL. */
const rtlButtonLabel = (label: string) => (hasRightToLeftLetters(label) ? rtlParagraphs(label) : label);

/** Telegram's inline keyboard: short labels two per row, long ones alone; right to left, text and mixed labels start RTL (UBA P2). */
export function renderTelegram(reply: Reply, direction: TextDirection = 'ltr'): { text: string; reply_markup?: { inline_keyboard: { text: string; callback_data: string }[][] } } {
  const rtl = direction === 'rtl';
  const text = rtl ? rtlParagraphs(reply.text) : reply.text;
  if (!reply.choices?.length) return { text };
  const rows: { text: string; callback_data: string }[][] = [];
  let lastLabel = '';
  for (const c of reply.choices) {
    const button = { text: rtl ? rtlButtonLabel(c.label) : c.label, callback_data: c.id };
    const last = rows.at(-1);
    // measured on the label as written: invisible marks take no room on the button
    if (last && last.length === 1 && c.label.length <= 14 && lastLabel.length <= 14) last.push(button);
    else rows.push([button]);
    lastLabel = c.label;
  }
  return { text, reply_markup: { inline_keyboard: rows } };
}

const sized = (size: number | undefined) => (size !== undefined ? { size } : {});

function mediaOf(m: Message): InboundMedia[] {
  if (m.photo?.length) {
    const largest = m.photo.at(-1)!;
    return [{ kind: 'photo', ref: largest.file_id, contentType: 'image/jpeg', ...sized(largest.file_size) }];
  }
  if (m.voice) return [{ kind: 'voice', ref: m.voice.file_id, contentType: m.voice.mime_type ?? 'audio/ogg', duration: m.voice.duration, ...sized(m.voice.file_size) }];
  if (m.audio) return [{ kind: 'voice', ref: m.audio.file_id, contentType: m.audio.mime_type, duration: m.audio.duration, ...sized(m.audio.file_size), ...(m.audio.file_name ? { fileName: m.audio.file_name } : {}) }];
  if (m.video) return [{ kind: 'video', ref: m.video.file_id, contentType: m.video.mime_type ?? 'video/mp4', ...sized(m.video.file_size) }];
  if (m.document) return [{ kind: 'document', ref: m.document.file_id, contentType: m.document.mime_type, ...sized(m.document.file_size), ...(m.document.file_name ? { fileName: m.document.file_name } : {}) }];
  return [];
}

/** Voice notes play as voice in Telegram when OGG/Opus, MP3 or M4A (Bot API sendVoice); other audio goes as audio. */
const VOICE_TYPES = new Set(['audio/ogg', 'audio/mpeg', 'audio/mp4', 'audio/x-m4a']);
const PHOTO_TYPES = new Set(['image/jpeg', 'image/jpg', 'image/png', 'image/webp']);
const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'audio/ogg': 'ogg', 'audio/mpeg': 'mp3', 'audio/mp4': 'm4a', 'audio/amr': 'amr', 'audio/aac': 'aac', 'video/mp4': 'mp4', 'video/3gpp': '3gp', 'application/pdf': 'pdf' };

/** The Bot API method a file goes by: a photo as a photo while within the photo limit, a voice note as voice. */
export function telegramMethodFor(m: Pick<OutboundMedia, 'kind' | 'contentType'>, size?: number): 'sendPhoto' | 'sendVoice' | 'sendAudio' | 'sendVideo' | 'sendDocument' {
  const type = baseType(m.contentType);
  if (m.kind === 'photo' && (!type || PHOTO_TYPES.has(type)) && (size ?? 0) <= MEDIA_LIMITS.telegram.photoBytes) return 'sendPhoto';
  if (m.kind === 'voice') return !type || VOICE_TYPES.has(type) ? 'sendVoice' : 'sendAudio';
  if (m.kind === 'video' && (!type || type === 'video/mp4')) return 'sendVideo';
  return 'sendDocument';
}

/** A Telegram update from a private chat → the core's Inbound; anything else (groups, edits) → null. */
export function parseTelegramUpdate(update: Update, botId: number): Inbound | null {
  const providerMessageId = `${botId}:${update.update_id}`;
  if (update.callback_query) {
    const q = update.callback_query;
    if (!q.data || q.message?.chat.type !== 'private') return null;
    return { channel: 'telegram', providerId: String(q.message.chat.id), providerMessageId, choiceId: q.data, languageHint: languageFromTelegram(q.from.language_code) };
  }
  const m = update.message;
  if (!m || m.chat.type !== 'private') return null;
  const media = mediaOf(m);
  const text = m.text ?? m.caption;
  if (!text && media.length === 0) return null;
  return {
    channel: 'telegram',
    providerId: String(m.chat.id),
    providerMessageId,
    text,
    media: media.length ? media : undefined,
    languageHint: languageFromTelegram(m.from?.language_code),
  };
}

/** Telegram's answers → outbox outcomes (Bot API error codes and grammY's error types). */
export function classifyTelegramError(err: unknown): SendOutcome {
  if (err instanceof GrammyError) {
    const reason = `telegram ${err.error_code}: ${err.description}`;
    if (err.error_code === 429) return { kind: 'retry', reason, retryAfterMs: (err.parameters.retry_after ?? 1) * 1000, rateLimited: true };
    if (err.error_code === 403) return { kind: 'contact_gone', reason };
    if (err.error_code >= 500) return { kind: 'retry', reason };
    if (err.error_code === 400 && /chat not found/i.test(err.description)) return { kind: 'contact_gone', reason };
    return { kind: 'permanent', reason };
  }
  if (err instanceof HttpError) return { kind: 'retry', reason: `network: ${(err.error as Error)?.message ?? err.message}` };
  return { kind: 'retry', reason: `unexpected: ${(err as Error).message}` };
}

export interface TelegramChannelOptions {
  token: string;
  apiRoot: string;
  botInfo?: UserFromGetMe;
  limits?: ChannelLimits;
  /** where files from the other channel are read from, to upload them here */
  media?: MediaSource;
}

const CAPTION_MAX = 1024;

export interface TelegramChannel extends ChannelSender {
  bot: Bot<Context>;
}

/** The Telegram channel: a grammY bot for receiving, and a sender for the outbox. */
export function createTelegramChannel(opts: TelegramChannelOptions): TelegramChannel {
  const bot = new Bot(opts.token, { client: { apiRoot: opts.apiRoot }, botInfo: opts.botInfo });

  /** A file: by its file_id when it is already on Telegram, else streamed from the other provider and uploaded (multipart). */
  async function sendFile(message: OutboundMessage, media: OutboundMedia, rendered: ReturnType<typeof renderTelegram>): Promise<SendOutcome> {
    let input: string | InputFile = media.ref;
    let size = media.size;
    const abort = new AbortController();
    try {
      if (media.channel !== 'telegram') {
        if (!opts.media) return { kind: 'permanent', reason: 'media unreachable: no media source for the other channel' };
        const opened = await opts.media.open({ channel: media.channel, ref: media.ref }, abort.signal);
        size = opened.size ?? size;
        if ((size ?? 0) > MEDIA_LIMITS.telegram.uploadBytes) {
          abort.abort();
          return { kind: 'permanent', reason: `media too_large: ${size} bytes, Telegram takes ${MEDIA_LIMITS.telegram.uploadBytes}` };
        }
        const type = baseType(opened.contentType) ?? baseType(media.contentType);
        input = new InputFile(Readable.fromWeb(opened.body as NodeWebStream), media.fileName ?? `${media.kind}.${EXTENSIONS[type ?? ''] ?? 'bin'}`);
      }
      const caption = rendered.text.length > CAPTION_MAX ? `${rendered.text.slice(0, CAPTION_MAX - 1)}…` : rendered.text;
      const extra = { ...(caption ? { caption } : {}), ...(rendered.reply_markup ? { reply_markup: rendered.reply_markup } : {}), ...(media.duration ? { duration: media.duration } : {}) };
      const method = telegramMethodFor(media, size);
      const id = message.providerId;
      const sent = method === 'sendPhoto' ? await bot.api.sendPhoto(id, input, extra)
        : method === 'sendVoice' ? await bot.api.sendVoice(id, input, extra)
          : method === 'sendAudio' ? await bot.api.sendAudio(id, input, extra)
            : method === 'sendVideo' ? await bot.api.sendVideo(id, input, extra)
              : await bot.api.sendDocument(id, input, extra);
      return { kind: 'sent', providerMessageId: `${sent.chat.id}:${sent.message_id}` };
    } catch (err) {
      abort.abort();
      if (err instanceof MediaFetchError) return err.retry ? { kind: 'retry', reason: err.message } : { kind: 'permanent', reason: err.message };
      if (err instanceof GrammyError && err.error_code === 413) return { kind: 'permanent', reason: `media too_large: telegram 413` };
      if (err instanceof GrammyError && /too big|too large/i.test(err.description)) return { kind: 'permanent', reason: `media too_large: telegram ${err.error_code}: ${err.description}` };
      return classifyTelegramError(err);
    }
  }

  return {
    channel: 'telegram',
    limits: opts.limits ?? DEFAULT_LIMITS.telegram,
    // the bot id (the token before its colon) is public; Telegram limits each bot
    paceKey: `telegram:${opts.token.split(':')[0]}`,
    bot,
    async send(message: OutboundMessage): Promise<SendOutcome> {
      const rendered = renderTelegram(message.payload, textDirection(message.language));
      if (message.payload.media) return sendFile(message, message.payload.media, rendered);
      try {
        const sent = await bot.api.sendMessage(message.providerId, rendered.text, rendered.reply_markup ? { reply_markup: rendered.reply_markup } : {});
        return { kind: 'sent', providerMessageId: `${sent.chat.id}:${sent.message_id}` };
      } catch (err) {
        return classifyTelegramError(err);
      }
    },
  };
}

/** Routes the bot's messages and button taps into the conversation core. */
export function connectTelegramToCore(
  channel: TelegramChannel,
  handle: (inbound: Inbound) => Promise<{ replies: Reply[] }>,
  onQueued: () => void,
): void {
  channel.bot.on(['message', 'callback_query:data'], async (ctx) => {
    // answered at once so the button stops spinning; a redelivered query is too old to answer: harmless
    if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(() => undefined);
    const inbound = parseTelegramUpdate(ctx.update, channel.bot.botInfo.id);
    if (inbound && (await handle(inbound)).replies.length) onQueued();
  });
}
