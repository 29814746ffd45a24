import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../bot/clock';
import { handleInbound } from '../../bot/app';
import { resolveChoice, type CoreDeps } from '../../bot/core/conversation';
import { languageFromPhone, languageFromTelegram, languageNamed, languageOfScript } from '../../bot/core/languages';
import type { Inbound } from '../../bot/core/types';
import { createTranslator } from '../../bot/i18n';
import { createLogger } from '../../bot/logger';
import { pgliteDb, type TestDb } from '../support/door';

const i18n = createTranslator();

describe('the first conversation', () => {
  let t: TestDb;
  let deps: CoreDeps;
  beforeEach(async () => {
    t = await pgliteDb();
    deps = { db: t.db, i18n, clock: new FakeClock('2026-11-23T10:00:00+01:00'), logger: createLogger('silent') };
  });
  afterEach(() => t.close());

  const tg = (id: number, extra: Partial<Inbound>): Inbound => ({ channel: 'telegram', providerId: '555', providerMessageId: `1:${id}`, ...extra });

  it('greets an unknown person in the suggested language and offers all 13, that one first', async () => {
    const out = await handleInbound(deps, tg(1, { text: 'مرحبا', languageHint: 'ar' }));
    expect(out.replies).toHaveLength(2);
    expect(out.replies[0]!.text).toBe(i18n.t('ar')('greeting.welcome'));
    expect(out.replies[1]!.choices).toHaveLength(13);
    expect(out.replies[1]!.choices![0]).toEqual({ id: 'lang:ar', label: 'العربية' });
    const rows = await t.sql.query<{ language: string; consent: string; n: number }>(
      `select c.language, c.consent, (select count(*)::int from public.outbox o where o.contact_id = c.id) as n from public.contacts c`,
    );
    expect(rows).toEqual([{ language: 'ar', consent: 'pending', n: 2 }]);
  });

  it('sets the language she picks, by button, number or name', async () => {
    await handleInbound(deps, tg(1, { text: 'hi', languageHint: 'en' }));
    const picked = await handleInbound(deps, tg(2, { choiceId: 'lang:bn' }));
    expect(picked.replies[0]!.text).toBe(i18n.t('bn')('greeting.languageSet'));
    const [row] = await t.sql.query<{ language: string; language_confirmed: boolean }>('select language, language_confirmed from public.contacts');
    expect(row).toEqual({ language: 'bn', language_confirmed: true });
  });

  it('asks again, kindly, when the answer is not one of the choices', async () => {
    await handleInbound(deps, tg(1, { text: 'hi', languageHint: 'it' }));
    const again = await handleInbound(deps, tg(2, { text: 'boh' }));
    expect(again.replies[0]!.text).toBe(`${i18n.t('it')('common.notUnderstood')}\n${i18n.t('it')('greeting.chooseLanguage')}`);
    expect(again.replies[0]!.choices).toHaveLength(13);
  });

  it('handles the same provider message once', async () => {
    const first = await handleInbound(deps, tg(7, { text: 'hi' }));
    const second = await handleInbound(deps, tg(7, { text: 'hi' }));
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ duplicate: true, replies: [] });
    const [{ n }] = (await t.sql.query<{ n: number }>('select count(*)::int as n from public.outbox')) as [{ n: number }];
    expect(n).toBe(2);
  });

  it('handles a message again when the process died between storing it and queuing the replies', async () => {
    // the first attempt got as far as inbound_begin, then crashed: the provider redelivers
    await t.db.rpc('inbound_begin', { p_channel: 'telegram', p_provider_message_id: '1:9', p_provider_id: '555', p_language_hint: 'es', p_now: deps.clock.now().toISOString() });
    const redelivered = await handleInbound(deps, tg(9, { text: 'hola', languageHint: 'es' }));
    expect(redelivered.duplicate).toBe(false);
    expect(redelivered.replies[0]!.text).toBe(i18n.t('es')('greeting.welcome'));
    const [{ n }] = (await t.sql.query<{ n: number }>('select count(*)::int as n from public.outbox')) as [{ n: number }];
    expect(n).toBe(2);
  });

  it('keeps a photo as a reference and thanks her for it, once she has given consent', async () => {
    const photo = (id: string) => handleInbound(deps, { channel: 'whatsapp', providerId: '+393331112222', providerMessageId: id, media: [{ kind: 'photo', ref: 'https://media/1', contentType: 'image/jpeg' }], languageHint: 'it' });
    expect((await photo('MM0')).replies.map((r) => r.text).slice(0, 2)).toEqual([i18n.t('it')('media.notYet'), i18n.t('it')('greeting.welcome')]);
    expect(await t.sql.query('select 1 from public.media_refs')).toEqual([]);
    await handleInbound(deps, { channel: 'whatsapp', providerId: '+393331112222', providerMessageId: 'MM0a', choiceId: 'lang:it' });
    await handleInbound(deps, { channel: 'whatsapp', providerId: '+393331112222', providerMessageId: 'MM0b', choiceId: 'consent:yes' });
    const out = await photo('MM1');
    // no tutor yet: the programme's team sees it, in a request of its own
    expect(out.replies.map((r) => r.text)[0]).toBe(i18n.t('it')('media.photo', { context: 'team' }));
    expect(await t.sql.query(`select jsonb_array_length(m.media)::int as files from public.needs n join public.need_messages m on m.need_id = n.id`)).toEqual([{ files: 1 }]);
    const refs = await t.sql.query<{ kind: string; ref: string }>('select kind, ref from public.media_refs');
    expect(refs).toEqual([{ kind: 'photo', ref: 'https://media/1' }]);
  });
});

describe('choices and language hints', () => {
  const offered = [{ id: 'a', label: 'English' }, { id: 'b', label: 'Italiano' }];
  it.each([
    [{ choiceId: 'b' }, 'b'],
    [{ text: '2' }, 'b'],
    [{ text: ' italiano ' }, 'b'],
    [{ text: '3' }, undefined],
    [{ text: 'hello' }, undefined],
  ])('%o → %s', (msg, expected) => {
    expect(resolveChoice({ channel: 'whatsapp', providerId: 'x', providerMessageId: 'y', ...msg }, offered)).toBe(expected);
  });

  // as mothers type them: digits of their script, a number with a dot, no accents, part of a long label
  const districts = [
    { id: 'district:milano-1', label: 'Municipio 1 – Centro storico' },
    { id: 'district:milano-7', label: 'Municipio 7 – Baggio, De Angeli, San Siro' },
    { id: 'district:milano-8', label: 'Municipio 8 – Fiera, Gallaratese, Quarto Oggiaro' },
    { id: 'menu:nido', label: '🏫 Nido (asilo nido)' },
    { id: 'need:cat:health', label: '🩺 Salute' },
  ];
  it.each([
    ['٢', 'district:milano-7'],
    ['২', 'district:milano-7'],
    ['２', 'district:milano-7'],
    ['2.', 'district:milano-7'],
    ['San Siro', 'district:milano-7'],
    ['san siro', 'district:milano-7'],
    ['QUARTO OGGIARO', 'district:milano-8'],
    ['salute', 'need:cat:health'],
    ['nido', 'menu:nido'],
    ['Municipio', undefined],
    ['si', undefined],
    ['Sant Siro', undefined],
  ])('%s → %s', (text, expected) => {
    expect(resolveChoice({ channel: 'whatsapp', providerId: 'x', providerMessageId: 'y', text }, districts)).toBe(expected);
  });

  const label = (l: string) => i18n.t(l as never)('language.name');
  it.each([
    ['عربي', 'ar'], ['العربية', 'ar'], ['arabo', 'ar'], ['Arabic', 'ar'], ['اردو', 'ur'], ['Urdu', 'ur'], ['bangla', 'bn'], ['বাংলা', 'bn'],
    ['中文', 'zh'], ['cinese', 'zh'], ['Tagalog', 'tl'], ['filipino', 'tl'], ['Español', 'es'], ['espanol', 'es'], ['සිංහල', 'si'],
    ['romana', 'ro'], ['українська', 'uk'], ['ucraino', 'uk'], ['shqip', 'sq'], ['francais', 'fr'], ['inglese', 'en'], ['ITALIANO', 'it'], ['ciao', undefined],
  ])('the language named %s → %s', (text, lng) => {
    expect(languageNamed(text, label)).toBe(lng);
  });

  it.each([
    ['أحتاج مساعدة', 'ar'], ['السلام عليكم', 'ar'], ['مجھے مدد چاہیے', 'ur'], ['آپ کیسے ہیں', 'ur'], ['আমার সাহায্য দরকার', 'bn'],
    ['මට උදව් ඕන', 'si'], ['我需要帮助', 'zh'], ['Мені потрібна допомога', 'uk'], ['ciao', undefined], ['👍', undefined], ['ok 👍 سلام', 'ar'],
  ])('the script of %s shows %s', (text, lng) => {
    expect(languageOfScript(text)).toBe(lng);
  });
  it.each([['ar', 'ar'], ['en-US', 'en'], ['fil', 'tl'], ['zh-hans', 'zh'], ['de', undefined], [undefined, undefined]])('Telegram %s → %s', (code, lng) => {
    expect(languageFromTelegram(code)).toBe(lng);
  });
  it.each([['+393331234567', 'it'], ['+8801711111111', 'bn'], ['+201001234567', 'ar'], ['+639171234567', 'tl'], ['+380501234567', 'uk'], ['+923001234567', 'ur'], ['+4915112345678', 'it']])('WhatsApp %s → %s', (phone, lng) => {
    expect(languageFromPhone(phone)).toBe(lng);
  });
});
