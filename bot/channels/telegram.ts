import { Bot, GrammyError, HttpError, type Context } from 'grammy';
import type { Message, Update, UserFromGetMe } from 'grammy/types';
import { languageFromTelegram } from '../core/languages';
import { hasRightToLeftLetters, rtlParagraphs, textDirection, type TextDirection } from '../i18n';
import type { Inbound, InboundMedia, Reply } from '../core/types';
import { DEFAULT_LIMITS, type ChannelLimits, type ChannelSender, type OutboundMessage, type SendOutcome } from './types';

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

function mediaOf(m: Message): InboundMedia[] {
  if (m.photo?.length) return [{ kind: 'photo', ref: m.photo.at(-1)!.file_id, contentType: 'image/jpeg' }];
  if (m.voice) return [{ kind: 'voice', ref: m.voice.file_id, contentType: m.voice.mime_type }];
  if (m.audio) return [{ kind: 'voice', ref: m.audio.file_id, contentType: m.audio.mime_type }];
  if (m.video) return [{ kind: 'video', ref: m.video.file_id, contentType: m.video.mime_type }];
  if (m.document) return [{ kind: 'document', ref: m.document.file_id, contentType: m.document.mime_type }];
  return [];
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
    if (err.error_code === 429) return { kind: 'retry', reason, retryAfterMs: (err.parameters.retry_after ?? 1) * 1000 };
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
}

export interface TelegramChannel extends ChannelSender {
  bot: Bot<Context>;
}

/** The Telegram channel: a grammY bot for receiving, and a sender for the outbox. */
export function createTelegramChannel(opts: TelegramChannelOptions): TelegramChannel {
  const bot = new Bot(opts.token, { client: { apiRoot: opts.apiRoot }, botInfo: opts.botInfo });
  return {
    channel: 'telegram',
    limits: opts.limits ?? DEFAULT_LIMITS.telegram,
    bot,
    async send(message: OutboundMessage): Promise<SendOutcome> {
      const rendered = renderTelegram(message.payload, textDirection(message.language));
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
