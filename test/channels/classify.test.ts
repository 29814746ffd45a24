import { GrammyError, HttpError } from 'grammy';
import { describe, expect, it } from 'vitest';
import { classifyTelegramError, parseTelegramUpdate, renderTelegram } from '../../bot/channels/telegram';
import { classifyTwilioError, parseWhatsAppWebhook, renderWhatsApp } from '../../bot/channels/whatsapp';

const grammyError = (error_code: number, description: string, parameters = {}) =>
  new GrammyError('Call to sendMessage failed', { ok: false, error_code, description, parameters }, 'sendMessage', {});

describe('Telegram errors', () => {
  it.each([
    [grammyError(429, 'Too Many Requests: retry after 7', { retry_after: 7 }), { kind: 'retry', retryAfterMs: 7000, rateLimited: true }],
    [grammyError(403, 'Forbidden: bot was blocked by the user'), { kind: 'contact_gone' }],
    [grammyError(403, 'Forbidden: user is deactivated'), { kind: 'contact_gone' }],
    [grammyError(400, 'Bad Request: chat not found'), { kind: 'contact_gone' }],
    [grammyError(400, 'Bad Request: message is too long'), { kind: 'permanent' }],
    [grammyError(502, 'Bad Gateway'), { kind: 'retry' }],
    [new HttpError('Network request for sendMessage failed', new Error('ECONNRESET')), { kind: 'retry' }],
  ])('%s → %o', (err, expected) => {
    expect(classifyTelegramError(err)).toMatchObject(expected);
  });
});

describe('Twilio errors', () => {
  it.each([
    [{ status: 429, code: 20429, message: 'Too Many Requests' }, 'retry'],
    [{ status: 503, code: 20503, message: 'Service unavailable' }, 'retry'],
    [{ status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' }, 'contact_gone'],
    [{ status: 400, code: 63016, message: 'Outside the allowed window' }, 'no_template'],
    [{ status: 400, code: 21211, message: "The 'To' number whatsapp:+393331234567 is not a valid phone number." }, 'permanent'],
    [new Error('socket hang up'), 'retry'],
  ])('%o → %s', (err, kind) => {
    expect(classifyTwilioError(err).kind).toBe(kind);
  });
  it('tells a rate-limited answer (429) from other retries, for the 429 counter', () => {
    expect(classifyTwilioError({ status: 429, code: 20429, message: 'Too Many Requests' })).toMatchObject({ kind: 'retry', rateLimited: true });
    expect(classifyTwilioError({ status: 503, code: 20503, message: 'Service unavailable' })).not.toHaveProperty('rateLimited');
    expect(classifyTelegramError(grammyError(502, 'Bad Gateway'))).not.toHaveProperty('rateLimited');
  });
  it('never keeps a phone number in the reason it stores and logs', () => {
    const out = classifyTwilioError({ status: 400, code: 21211, message: "The 'To' number whatsapp:+393331234567 is not a valid phone number." });
    expect(JSON.stringify(out)).not.toContain('3331234');
  });
});

describe('payloads, both ways', () => {
  const choices = [{ id: 'lang:it', label: 'Italiano' }, { id: 'lang:ar', label: 'العربية' }, { id: 'lang:si', label: 'සිංහල' }];

  it('renders choices as an inline keyboard on Telegram and numbered lines on WhatsApp', () => {
    expect(renderTelegram({ text: 'Lingua?', choices })).toEqual({
      text: 'Lingua?',
      reply_markup: { inline_keyboard: [[{ text: 'Italiano', callback_data: 'lang:it' }, { text: 'العربية', callback_data: 'lang:ar' }], [{ text: 'සිංහල', callback_data: 'lang:si' }]] },
    });
    expect(renderWhatsApp({ text: 'Lingua?', choices }, 'Rispondi con il numero.')).toBe('Lingua?\n\n1. Italiano\n2. العربية\n3. සිංහල\n\nRispondi con il numero.');
    expect(renderWhatsApp({ text: 'Ciao' }, 'x')).toBe('Ciao');
  });

  it.each([
    ['a text', { update_id: 5, message: { message_id: 1, date: 1, chat: { id: 9, type: 'private' }, from: { id: 9, is_bot: false, first_name: 'A', language_code: 'ar' }, text: 'hi' } }, { providerId: '9', providerMessageId: '42:5', text: 'hi', languageHint: 'ar' }],
    ['a photo with caption', { update_id: 6, message: { message_id: 2, date: 1, chat: { id: 9, type: 'private' }, photo: [{ file_id: 'small', file_unique_id: 's', width: 1, height: 1 }, { file_id: 'big', file_unique_id: 'b', width: 9, height: 9 }], caption: 'look' } }, { text: 'look', media: [{ kind: 'photo', ref: 'big', contentType: 'image/jpeg' }] }],
    ['a voice note', { update_id: 7, message: { message_id: 3, date: 1, chat: { id: 9, type: 'private' }, voice: { file_id: 'v1', file_unique_id: 'v', duration: 3, mime_type: 'audio/ogg' } } }, { media: [{ kind: 'voice', ref: 'v1', contentType: 'audio/ogg' }] }],
    ['a button', { update_id: 8, callback_query: { id: 'q', chat_instance: 'c', data: 'lang:uk', from: { id: 9, is_bot: false, first_name: 'A', language_code: 'uk' }, message: { message_id: 4, date: 1, chat: { id: 9, type: 'private' } } } }, { choiceId: 'lang:uk', languageHint: 'uk' }],
  ])('parses a Telegram update with %s', (_what, update, expected) => {
    expect(parseTelegramUpdate(update as never, 42)).toMatchObject({ channel: 'telegram', ...expected });
  });

  it('ignores group chats and empty updates', () => {
    expect(parseTelegramUpdate({ update_id: 1, message: { message_id: 1, date: 1, chat: { id: -5, type: 'group', title: 'g' }, text: 'hi' } } as never, 42)).toBeNull();
    expect(parseTelegramUpdate({ update_id: 2 } as never, 42)).toBeNull();
  });

  it.each([
    ['a text', { MessageSid: 'SM1', From: 'whatsapp:+8801711111111', Body: 'hi', NumMedia: '0' }, { providerId: '+8801711111111', text: 'hi', languageHint: 'bn' }],
    ['a quick reply', { MessageSid: 'SM2', From: 'whatsapp:+393331234567', Body: 'Sì', ButtonPayload: 'yes', NumMedia: '0' }, { choiceId: 'yes', languageHint: 'it' }],
    ['a voice note and a PDF', { MessageSid: 'MM3', From: 'whatsapp:+393331234567', Body: '', NumMedia: '2', MediaUrl0: 'https://m/0', MediaContentType0: 'audio/ogg', MediaUrl1: 'https://m/1', MediaContentType1: 'application/pdf' }, { media: [{ kind: 'voice', ref: 'https://m/0', contentType: 'audio/ogg' }, { kind: 'document', ref: 'https://m/1', contentType: 'application/pdf' }] }],
  ])('parses a Twilio webhook with %s', (_what, params, expected) => {
    expect(parseWhatsAppWebhook(params)).toMatchObject({ channel: 'whatsapp', providerMessageId: params.MessageSid, ...expected });
  });

  it('ignores posts that are not WhatsApp messages', () => {
    expect(parseWhatsAppWebhook({ MessageSid: 'SM9', From: '+393331234567', Body: 'sms' })).toBeNull();
    expect(parseWhatsAppWebhook({ MessageSid: 'SM9', From: 'whatsapp:+393331234567', Body: '', NumMedia: '0' })).toBeNull();
  });
});
