import { format, subDays } from 'date-fns';
import { afterEach, describe, expect, it } from 'vitest';
import { createTranslator, type Language } from '../../bot/i18n';
import type { SentMessage } from '../../bot/local/telegram-emulator';
import { pgliteDb, type TestDb } from '../support/door';
import { telegramStack, TOKEN, type Stack } from '../support/telegram-stack';
import { whatsappStack } from '../support/whatsapp-stack';

const i18n = createTranslator();
const MENU_KEYS = ['menu.children', 'menu.nido', 'menu.housing', 'menu.ask', 'menu.help', 'menu.language', 'menu.privacy'];

describe('a whole first contact on Telegram, through grammY and the emulator', () => {
  let s: Stack | undefined;
  afterEach(() => s?.close());

  it('in Arabic: welcome, language, consent, a child, a district, the main menu as buttons', async () => {
    s = await telegramStack('webhook');
    const ar = i18n.t('ar');
    const amina = { id: 1001, firstName: 'Amina', languageCode: 'ar' };
    let seen = 0;
    /** what the bot sent since the last call, once `count` messages have arrived */
    const next = async (count: number): Promise<SentMessage[]> => {
      const all = await s!.emulator.waitForMessages(TOKEN, amina.id, seen + count, 10_000);
      const fresh = all.slice(seen);
      seen = all.length;
      return fresh;
    };
    const press = (msg: SentMessage, data: string) => s!.emulator.userPresses(TOKEN, amina.id, msg.message_id, data);

    s.emulator.userSends(TOKEN, amina, 'السلام عليكم');
    const [welcome, languages] = await next(2);
    expect(welcome!.text).toBe(ar('greeting.welcome'));
    expect(languages!.reply_markup!.inline_keyboard.flat()[0]).toEqual({ text: 'العربية', callback_data: 'lang:ar' });

    press(languages!, 'lang:ar');
    const consent = await next(5);
    expect(consent[0]!.text).toBe(ar('greeting.languageSet'));
    for (const k of ['intro', 'what', 'why', 'who', 'howLong', 'rights', 'question']) expect(consent.slice(1).some((m) => m.text?.includes(ar(`consent.${k}`)))).toBe(true);
    press(consent.at(-1)!, 'consent:yes');
    const [kind] = await next(1);
    expect(kind!.text).toBe(ar('profile.askKind'));
    press(kind!, 'kind:birth');
    await next(1);
    s.emulator.userSends(TOKEN, amina, 'يوسف');
    await next(1);
    s.emulator.userSends(TOKEN, amina, format(subDays(s.clock.now(), 120), 'dd/MM/yyyy'));
    const [saved, another] = await next(2);
    expect(saved!.text).toContain('يوسف');
    press(another!, 'another:no');
    const [district] = await next(1);
    expect(district!.reply_markup!.inline_keyboard.flat()).toHaveLength(10);
    press(district!, 'district:milano-8');
    const [done, queued, menu] = await next(3);
    expect([done!.text, queued!.text, menu!.text]).toEqual([ar('profile.done'), ar('profile.queued'), ar('menu.title')]);
    expect(menu!.reply_markup!.inline_keyboard.flat().map((b) => b.text)).toEqual(MENU_KEYS.map((k) => ar(k)));
    expect(i18n.dir('ar')).toBe('rtl');

    const [row] = await s.t.sql.query<{ language: string; consent: string; district: string; children: number }>(`
      select c.language, c.consent, f.district_code as district, (select count(*)::int from public.children ch where ch.family_id = f.id) as children
        from public.contacts c join public.families f on f.id = c.family_id`);
    expect(row).toEqual({ language: 'ar', consent: 'given', district: 'milano-8', children: 1 });
  }, 60_000);
});

describe('a whole first contact on WhatsApp, through the Twilio SDK and the emulator', () => {
  let t: TestDb;
  let stack: Awaited<ReturnType<typeof whatsappStack>> | undefined;
  afterEach(async () => {
    await stack?.close();
    await t?.close();
  });

  it.each([
    ['bn', '+8801711111111', 'রাফি'],
    ['it', '+393331234567', 'Giulia'],
  ] as const)('in %s, answering with numbers as people do on WhatsApp', async (lng: Language, number, childName) => {
    t = await pgliteDb();
    stack = await whatsappStack(t, '2026-11-23T10:00:00Z');
    const tr = i18n.t(lng);
    let seen = 0;
    const say = async (body: string) => {
      await stack!.emulator.userSends(number, { body });
      await stack!.flush();
      const all = stack!.emulator.messagesTo(number).map((m) => m.body);
      const fresh = all.slice(seen);
      seen = all.length;
      return fresh;
    };

    const hello = await say(lng === 'bn' ? 'হ্যালো' : 'Ciao');
    expect(hello[0]).toBe(tr('greeting.welcome'));
    // the number's country code suggests the language, offered first
    expect(hello[1]).toContain(`1. ${tr('language.name')}`);
    expect(hello[1]).toContain(tr('common.replyWithNumber'));

    const consent = await say('1');
    expect(consent[0]).toBe(tr('greeting.languageSet'));
    expect(consent.at(-1)).toContain(`1. ${tr('consent.accept')}`);
    expect(await say('1')).toEqual([expect.stringContaining(tr('profile.askKind'))]);
    expect(await say('1')).toEqual([tr('profile.askName')]);
    await say(childName);
    const saved = await say('12/03/2026');
    expect(saved[0]).toContain(childName);
    expect((await say('2'))[0]).toContain(tr('profile.askDistrict'));
    const end = await say('9');
    expect(end.slice(0, 2)).toEqual([tr('profile.done'), tr('profile.queued')]);
    for (const key of MENU_KEYS) expect(end[2]).toContain(tr(key));

    const [row] = await t.sql.query<{ language: string; district: string; birth: string }>(`
      select c.language, f.district_code as district, ch.birth_date::text as birth
        from public.contacts c join public.families f on f.id = c.family_id join public.children ch on ch.family_id = f.id`);
    expect(row).toEqual({ language: lng, district: 'milano-9', birth: '2026-03-12' });
  }, 60_000);
});
