import { afterEach, describe, expect, it } from 'vitest';
import { createTranslator } from '../../bot/i18n';
import type { TestDb } from '../support/door';
import { SECRET, telegramStack, TOKEN, type Stack } from '../support/telegram-stack';

const i18n = createTranslator();

const count = async (t: TestDb, table: string) => (await t.sql.query<{ n: number }>(`select count(*)::int as n from public.${table}`))[0]!.n;

describe('Telegram through grammY and the emulator', () => {
  let s: Stack;
  afterEach(() => s?.close());

  it.each(['webhook', 'polling'] as const)('in %s mode greets in her language with a keyboard, and a tapped button is answered and applied', async (mode) => {
    s = await telegramStack(mode);
    if (mode === 'webhook') expect(s.emulator.webhookInfo(TOKEN)).toMatchObject({ url: `${s.url}/telegram/webhook`, secretToken: SECRET });
    else expect(s.emulator.webhookInfo(TOKEN).url).toBe('');
    s.emulator.userSends(TOKEN, { id: 1001, firstName: 'Amina', languageCode: 'uk' }, 'Привіт');
    const [welcome, ask] = await s.emulator.waitForMessages(TOKEN, 1001, 2, 10_000);
    expect(welcome!.text).toBe(i18n.t('uk')('greeting.welcome'));
    const buttons = ask!.reply_markup!.inline_keyboard.flat();
    expect(buttons).toHaveLength(13);
    expect(buttons[0]).toEqual({ text: i18n.t('uk')('language.name'), callback_data: 'lang:uk' });

    s.emulator.userPresses(TOKEN, 1001, ask!.message_id, 'lang:en');
    const all = await s.emulator.waitForMessages(TOKEN, 1001, 4, 10_000);
    expect(all[2]!.text).toBe(i18n.t('en')('greeting.languageSet'));
    expect(s.emulator.callbackAnswers(TOKEN)).toHaveLength(1);
    const [contact] = await s.t.sql.query<{ language: string }>('select language from public.contacts');
    expect(contact!.language).toBe('en');
  });

  it('refuses an update with a wrong or missing secret with 401 and keeps no trace', async () => {
    s = await telegramStack('webhook');
    const update = { update_id: 9, message: { message_id: 1, date: 1, chat: { id: 77, type: 'private', first_name: 'X' }, from: { id: 77, is_bot: false, first_name: 'X' }, text: 'hi' } };
    for (const headers of [{}, { 'x-telegram-bot-api-secret-token': 'wrong' }] as Record<string, string>[]) {
      const res = await fetch(`${s.url}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(update) });
      expect(res.status).toBe(401);
    }
    expect([await count(s.t, 'inbound_log'), await count(s.t, 'contacts'), await count(s.t, 'outbox')]).toEqual([0, 0, 0]);
  });

  it('processes the same update_id once', async () => {
    s = await telegramStack('webhook');
    const update = { update_id: 10, message: { message_id: 1, date: 1, chat: { id: 78, type: 'private', first_name: 'X' }, from: { id: 78, is_bot: false, first_name: 'X' }, text: 'hi' } };
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${s.url}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) });
      expect(res.status).toBe(200);
    }
    expect([await count(s.t, 'inbound_log'), await count(s.t, 'outbox')]).toEqual([1, 2]);
  });

  it('through a 429 storm and a run of 5xx, every message arrives exactly once and in order per chat', async () => {
    s = await telegramStack('webhook');
    s.emulator.inject({ kind: '429', count: 6, retryAfter: 1, methods: ['sendMessage'] });
    s.emulator.inject({ kind: '5xx', count: 3, status: 502, methods: ['sendMessage'] });
    const chats = [2001, 2002, 2003];
    for (const id of chats) s.emulator.userSends(TOKEN, { id, firstName: 'M', languageCode: 'it' }, 'ciao');
    for (const id of chats) {
      const msgs = await s.emulator.waitForMessages(TOKEN, id, 2, 25_000);
      expect(msgs.map((m) => m.text)).toEqual([i18n.t('it')('greeting.welcome'), i18n.t('it')('greeting.chooseLanguage')]);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const id of chats) expect(s.emulator.chat(TOKEN, id)).toHaveLength(2);
    expect(s.emulator.stats().tooManyRequests).toBeGreaterThanOrEqual(6);
    const rows = await s.t.sql.query<{ status: string; n: number }>('select status, count(*)::int as n from public.outbox group by status');
    expect(rows).toEqual([{ status: 'sent', n: 6 }]);
  }, 40_000);

  it('marks a user who blocked the bot unreachable and does not retry', async () => {
    s = await telegramStack('webhook');
    s.emulator.userSends(TOKEN, { id: 3001, firstName: 'B', languageCode: 'it' }, 'ciao');
    await s.emulator.waitForMessages(TOKEN, 3001, 2, 10_000);
    s.emulator.blockBot(TOKEN, 3001);
    const [contact] = await s.t.sql.query<{ id: string }>('select id from public.contacts');
    await s.t.db.rpc('outbox_enqueue', { p_contact_id: contact!.id, p_idempotency_key: 'notice:blocked', p_kind: 'notice', p_priority: 5, p_payload: { text: 'news' }, p_not_before: s.clock.now().toISOString() });
    s.runtime.dispatchers[0]!.notify();
    for (let i = 0; i < 50; i++) {
      const [c] = await s.t.sql.query<{ status: string }>('select status from public.contacts');
      if (c!.status === 'unreachable') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const [c] = await s.t.sql.query<{ status: string; unreachable_reason: string }>('select status, unreachable_reason from public.contacts');
    expect(c).toEqual({ status: 'unreachable', unreachable_reason: expect.stringContaining('blocked') });
    const sends = s.emulator.stats().byMethod.sendMessage ?? 0;
    await new Promise((r) => setTimeout(r, 700));
    expect(s.emulator.stats().byMethod.sendMessage ?? 0).toBe(sends);
    const [row] = await s.t.sql.query<{ status: string; error_kind: string }>(`select status, error_kind from public.outbox where idempotency_key = 'notice:blocked'`);
    expect(row).toEqual({ status: 'failed', error_kind: 'contact_gone' });
  });
});
