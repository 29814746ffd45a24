import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelegramChannel, renderTelegram } from '../../bot/channels/telegram';
import type { OutboundMessage } from '../../bot/channels/types';
import { createWhatsAppChannel, renderWhatsApp } from '../../bot/channels/whatsapp';
import type { Choice, Reply } from '../../bot/core/types';
import { serveFetch, type ServedHandler } from '../../bot/http/node-adapter';
import { createTranslator, type Language } from '../../bot/i18n';
import { createTelegramEmulator, type TelegramEmulator } from '../../bot/local/telegram-emulator';
import { createTwilioEmulator, type TwilioEmulator } from '../../bot/local/twilio-emulator';
import { FSI, LRI, paragraphDirection, paragraphs, PDI, RLM } from './uba';

const i18n = createTranslator();

/** Milan's districts as supabase/seed.sql names them: Latin, with numbers and dashes. */
const DISTRICTS = [
  'Municipio 1 – Centro storico',
  'Municipio 3 – Città Studi, Lambrate, Venezia',
  'Municipio 7 – Baggio, De Angeli, San Siro',
  'Municipio 8 – Fiera, Gallaratese, Quarto Oggiaro',
];

function districtQuestion(lng: Language): Reply {
  const t = i18n.t(lng);
  const choices: Choice[] = [...DISTRICTS.map((name, i) => ({ id: `district:milano-${i}`, label: name })), { id: 'district:other', label: t('profile.districtOther') }];
  return { text: t('profile.askDistrict'), choices };
}

describe('the WhatsApp numbered list, right to left', () => {
  it.each([['ar'], ['ur']] as const)('%s: each district line starts RTL with its label isolated, the question and hint unchanged', (lng) => {
    const t = i18n.t(lng);
    const reply = districtQuestion(lng);
    const lines = renderWhatsApp(reply, t('common.replyWithNumber'), 'rtl').split('\n');
    expect(lines).toEqual([
      t('profile.askDistrict'),
      '',
      ...DISTRICTS.map((name, i) => `${RLM}${i + 1}. ${LRI}${name}${PDI}`),
      `${RLM}${DISTRICTS.length + 1}. ${FSI}${t('profile.districtOther')}${PDI}`,
      '',
      t('common.replyWithNumber'),
    ]);
    for (const line of paragraphs(lines.join('\n'))) expect([line, paragraphDirection(line)]).toEqual([line, 'R']);
  });

  it('is needed: the bare line "1. Municipio 1 …" would be a left-to-right paragraph', () => {
    expect(paragraphDirection(`1. ${DISTRICTS[0]}`)).toBe('L');
  });

  it('starts RTL a Latin line inside an Arabic message, and keeps that line in its own order', () => {
    const text = renderWhatsApp({ text: 'Giulia ti scrive presto.\nأهلاً' }, 'x', 'rtl');
    expect(text).toBe(`${RLM}${LRI}Giulia ti scrive presto.${PDI}\nأهلاً`);
  });

  it('leaves left-to-right languages exactly as before', () => {
    const reply = districtQuestion('it');
    const hint = i18n.t('it')('common.replyWithNumber');
    expect(renderWhatsApp(reply, hint, 'ltr')).toBe(`${reply.text}\n\n${reply.choices!.map((c, i) => `${i + 1}. ${c.label}`).join('\n')}\n\n${hint}`);
    expect(renderWhatsApp(reply, hint)).toBe(renderWhatsApp(reply, hint, 'ltr'));
  });
});

describe('Telegram buttons and text, right to left', () => {
  it('starts every paragraph and every mixed label RTL, keeping the rows Telegram would draw', () => {
    const t = i18n.t('ar');
    const reply: Reply = {
      text: `${t('staff.tutorAssigned', { tutor: 'Giulia' })}\nISEE ${t('calls.docsHead', { title: 'Nidi Gratis' })}`,
      choices: [{ id: 'a', label: 'San Siro' }, { id: 'b', label: 'F-12 أمينة' }, { id: 'c', label: t('profile.districtOther') }],
    };
    const rendered = renderTelegram(reply, 'rtl');
    for (const p of paragraphs(rendered.text)) expect([p, paragraphDirection(p)]).toEqual([p, 'R']);
    expect(rendered.reply_markup!.inline_keyboard).toEqual([
      [{ text: 'San Siro', callback_data: 'a' }, { text: `${RLM}${LRI}F-12${PDI} أمينة`, callback_data: 'b' }],
      [{ text: t('profile.districtOther'), callback_data: 'c' }],
    ]);
    expect(rendered.reply_markup!.inline_keyboard.map((row) => row.length)).toEqual(renderTelegram(reply).reply_markup!.inline_keyboard.map((row) => row.length));
  });

  it('leaves a Latin-only label as written: on one centred line its own direction is already right, and "English" stays findable', () => {
    const languages = renderTelegram({ text: 'اختاري لغتكِ', choices: [{ id: 'lang:en', label: 'English' }, { id: 'lang:ar', label: 'العربية' }] }, 'rtl');
    expect(languages.reply_markup!.inline_keyboard.flat().map((b) => b.text)).toEqual(['English', 'العربية']);
  });

  it('leaves left-to-right languages exactly as before', () => {
    const reply = districtQuestion('it');
    expect(renderTelegram(reply, 'ltr')).toEqual(renderTelegram(reply));
    expect(renderTelegram(reply).text).toBe(reply.text);
    expect(renderTelegram(reply).reply_markup!.inline_keyboard.flat().map((b) => b.text)).toEqual(reply.choices!.map((c) => c.label));
  });
});

const outbound = (language: string, providerId: string, payload: Reply, lastInboundAt: Date | null): OutboundMessage => ({
  id: 1, contactId: 'c1', providerId, language, lastInboundAt, kind: 'reply', payload, attempts: 0, template: null,
});

describe('the channels send what they render, by the person’s language', () => {
  const NOW = new Date('2026-12-03T10:00:00Z');
  const SID = `AC${'2'.repeat(32)}`;
  const AUTH = 'rtl-test-auth-token-0123456789';
  const FROM = 'whatsapp:+390200000009';
  const TOKEN = '515151:RtlTestToken_abcdefghijklmnopq';
  let twilio: TwilioEmulator;
  let twilioApi: { apiBase: string; close(): Promise<void> };
  let receiver: ServedHandler;
  let telegram: TelegramEmulator;
  let telegramApi: { apiRoot: string; close(): Promise<void> };

  beforeAll(async () => {
    // the emulator posts her messages somewhere; only the window they open matters here
    receiver = await serveFetch(async () => new Response('<Response/>', { headers: { 'content-type': 'text/xml' } }));
    twilio = createTwilioEmulator({ accountSid: SID, authToken: AUTH, senders: [FROM], incomingWebhookUrl: receiver.url, now: () => NOW.getTime(), deliveryDelayMs: 1 });
    twilioApi = await twilio.listen();
    telegram = createTelegramEmulator({ now: () => NOW.getTime(), limits: { globalPerSecond: 1000, perChatPerSecond: 1000 } });
    telegram.addBot(TOKEN, { username: 'rtl_test_bot' });
    telegramApi = await telegram.listen();
  });
  afterAll(async () => {
    await twilio.close();
    await twilioApi.close();
    await receiver.close();
    await telegram.close();
    await telegramApi.close();
  });

  it.each([
    ['ar', '+393331110001'],
    ['ur', '+393331110002'],
    ['it', '+393331110003'],
  ] as const)('WhatsApp in %s', async (lng, phone) => {
    await twilio.userSends(phone, { body: 'ciao' });
    const hint = (l: string) => i18n.t(l as Language)('common.replyWithNumber');
    const channel = createWhatsAppChannel({ accountSid: SID, authToken: AUTH, from: FROM, apiBase: twilioApi.apiBase, choiceHint: hint });
    const payload = districtQuestion(lng);
    expect(await channel.send(outbound(lng, phone, payload, NOW), NOW)).toMatchObject({ kind: 'sent' });
    const [sent] = twilio.messagesTo(phone);
    expect(sent!.body).toBe(renderWhatsApp(payload, hint(lng), lng === 'it' ? 'ltr' : 'rtl'));
    expect(sent!.body.includes(`${RLM}1. ${LRI}${DISTRICTS[0]}${PDI}`)).toBe(lng !== 'it');
  });

  it.each([
    ['ar', 7001],
    ['it', 7002],
  ] as const)('Telegram in %s', async (lng, userId) => {
    telegram.userSends(TOKEN, { id: userId, firstName: 'Amina' }, 'ciao');
    const channel = createTelegramChannel({ token: TOKEN, apiRoot: telegramApi.apiRoot });
    const payload: Reply = { text: i18n.t(lng)('staff.tutorAssigned', { tutor: 'Giulia' }), choices: [{ id: 'd', label: 'San Siro' }] };
    expect(await channel.send(outbound(lng, String(userId), payload, null), NOW)).toMatchObject({ kind: 'sent' });
    const sent = telegram.chat(TOKEN, userId).at(-1)!;
    const expected = renderTelegram(payload, lng === 'it' ? 'ltr' : 'rtl');
    expect(sent.text).toBe(expected.text);
    expect(sent.reply_markup).toEqual(expected.reply_markup);
    expect(paragraphDirection(sent.text!)).toBe(lng === 'it' ? 'L' : 'R');
  });
});
