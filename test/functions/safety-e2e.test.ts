import { afterEach, describe, expect, it } from 'vitest';
import { createTranslator, type Language } from '../../bot/i18n';
import { makeStaff } from '../support/chat';
import { pgliteDb, type TestDb } from '../support/door';
import { familyWithChild, tutorFor } from '../support/families';
import { telegramStack, TOKEN, type Stack } from '../support/telegram-stack';
import { whatsappStack } from '../support/whatsapp-stack';

const i18n = createTranslator();
const COORDINATOR_CHAT = 9001;

describe('danger in a first message, through grammY and the Telegram emulator', () => {
  let s: Stack | undefined;
  afterEach(() => s?.close());

  /** A coordinator whose Telegram chat with the bot exists (she wrote to it once). */
  async function coordinator(stack: Stack) {
    await makeStaff(stack.t, 'coordinator', 'Anna Rossi', String(COORDINATOR_CHAT));
    stack.emulator.userSends(TOKEN, { id: COORDINATOR_CHAT, firstName: 'Anna', languageCode: 'it' }, 'ciao');
    return (await stack.emulator.waitForMessages(TOKEN, COORDINATOR_CHAT, 1, 10_000)).length;
  }

  it.each([
    ['it', 'mio marito mi picchia, ho paura', 'it'],
    ['es', 'Mi esposo me pega y tengo miedo', 'it'],
    ['ar', 'جوزي بيضربني كل يوم وانا خايفة', 'it'],
    ['bn', 'আমার জামাই আমারে মারে, খুব ভয় লাগে', 'en'],
  ] as const)('%s: a new contact gets 112, 1522 and 114 in her language at once, and the coordinator the urgent alert', async (lng, words, appLanguage) => {
    s = await telegramStack('webhook');
    const seenByCoordinator = await coordinator(s);
    const user = { id: 5000 + lng.charCodeAt(0), firstName: 'M', languageCode: appLanguage };
    const sentAt = Date.now();
    s.emulator.userSends(TOKEN, user, words);
    const [numbers, told] = await s.emulator.waitForMessages(TOKEN, user.id, 2, 10_000);
    const lt = i18n.t(lng as Language);
    expect(numbers!.text).toContain(lt('needs.emergencyHead'));
    for (const n of ['112', '1522', '114']) expect(numbers!.text).toContain(n);
    expect(told!.text).toMatch(new RegExp(`N-\\d+`));
    expect(Date.now() - sentAt).toBeLessThan(5_000);
    const alerts = (await s.emulator.waitForMessages(TOKEN, COORDINATOR_CHAT, seenByCoordinator + 1, 10_000)).slice(seenByCoordinator);
    expect(alerts[0]!.text).toContain('🆘 URGENTE');
    expect(alerts[0]!.text).toContain(words);
  });

  it('a message during consent, then a voice note with a caption, each heard first', async () => {
    s = await telegramStack('webhook');
    const seenByCoordinator = await coordinator(s);
    const user = { id: 6001, firstName: 'L', languageCode: 'en' };
    s.emulator.userSends(TOKEN, user, 'hello');
    const [, languages] = await s.emulator.waitForMessages(TOKEN, user.id, 2, 10_000);
    s.emulator.userPresses(TOKEN, user.id, languages!.message_id, 'lang:en');
    await s.emulator.waitForMessages(TOKEN, user.id, 7, 10_000);
    s.emulator.userSends(TOKEN, user, 'wait. he took my phone and he locks me in the house');
    const during = await s.emulator.waitForMessages(TOKEN, user.id, 9, 10_000);
    expect(during[7]!.text).toContain('1522');
    s.emulator.userSends(TOKEN, user, 'he hit me again', { duration: 12 });
    const after = await s.emulator.waitForMessages(TOKEN, user.id, 11, 10_000);
    expect(after[9]!.text).toContain('1522');
    const rows = await s.t.sql.query<{ urgency: string; n: number; media: number }>(`
      select n.urgency, (select count(*)::int from public.need_messages m where m.need_id = n.id) as n,
             (select count(*)::int from public.need_messages m where m.need_id = n.id and jsonb_array_length(m.media) > 0) as media
        from public.needs n`);
    // one urgent request; her caption joined it, the voice note did not: before consent nothing she sends is fetched
    expect(rows).toEqual([{ urgency: 'urgent', n: 2, media: 0 }]);
    const alerts = (await s.emulator.waitForMessages(TOKEN, COORDINATOR_CHAT, seenByCoordinator + 2, 10_000)).slice(seenByCoordinator);
    expect(alerts[0]!.text).toContain('🆘 URGENTE');
  });
});

describe('danger in a first message, through the Twilio SDK and the WhatsApp emulator', () => {
  let t: TestDb;
  afterEach(() => t.close());

  it('a new contact from a +234 number and an imported mother each get the numbers in one dispatcher round; staff get the alert', async () => {
    t = await pgliteDb();
    const stack = await whatsappStack(t, '2026-11-23T10:00:00Z');
    try {
      const coordinator = await makeStaff(t, 'coordinator', 'Anna Rossi', '3001');
      await stack.emulator.userSends('+2348030000001', { body: 'My husband beats me and I am scared' });
      await stack.dispatcher.runOnce();
      await stack.emulator.settle();
      const first = stack.emulator.messagesTo('+2348030000001').map((m) => m.body);
      expect(first[0]).toContain(i18n.t('en')('needs.emergencyHead'));
      for (const n of ['112', '1522', '114']) expect(first[0]).toContain(n);

      const fam = await familyWithChild(t, { providerId: '+393331112223', channel: 'whatsapp', language: 'it', birth: '2026-01-10', lastInboundAt: null });
      await t.sql.query(`update public.contacts set consent_source = 'paper' where provider_id = '+393331112223'`);
      const tutor = await tutorFor(t, fam.family_id, '2001');
      await stack.emulator.userSends('+393331112223', { body: 'Mio marito mi picchia e ho paura per il bambino' });
      await stack.dispatcher.runOnce();
      await stack.emulator.settle();
      const imported = stack.emulator.messagesTo('+393331112223').map((m) => m.body);
      expect(imported[0]).toContain('1522');
      expect(imported.join('\n')).not.toContain(i18n.t('it')('greeting.paperWelcome'));

      const alerts = await t.sql.query<{ contact_id: string; text: string }>(`select contact_id, payload->>'text' as text from public.outbox where kind = 'staff_notice' order by id`);
      expect(alerts.map((a) => a.contact_id)).toEqual([coordinator, tutor]);
      for (const a of alerts) expect(a.text).toContain('🆘 URGENTE');
    } finally {
      await stack.close();
    }
  });
});
