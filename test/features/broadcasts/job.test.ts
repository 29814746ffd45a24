import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTelegramChannel } from '../../../bot/channels/telegram';
import { loadConfig } from '../../../bot/config';
import { countsText, type BroadcastCounts } from '../../../bot/features/broadcasts/service';
import { createTelegramEmulator, type TelegramEmulator } from '../../../bot/local/telegram-emulator';
import { createLogger } from '../../../bot/logger';
import { Dispatcher } from '../../../bot/outbox/dispatcher';
import { broadcasts } from '../../../bot/features/broadcasts/job';
import { runJob } from '../../../functions/jobs';
import { i18n, makeStaff, person, texts } from '../../support/chat';
import { pgliteDb, type TestDb } from '../../support/door';
import { familyWithChild } from '../../support/families';
import { whatsappStack } from '../../support/whatsapp-stack';

const it_ = i18n.t('it');
const TOKEN = '777000111:BroadcastFiguresToken_abcdefghij';
const START = '2026-11-23T10:00:00Z'; // 11:00 in Rome: a broadcast confirmed now leaves at once
const IT = 'Sabato 28 open day al nido di via Rossi, ore 10.';
const AR = 'يوم مفتوح في الحضانة يوم السبت 28 الساعة 10.';
const IT_TEMPLATE = `HX${'1'.repeat(32)}`;
const BN_TEMPLATE = `HX${'2'.repeat(32)}`;

type Fate = 'sent' | 'blocked' | 'held' | 'paused' | 'unreachable';
interface Group {
  channel: 'telegram' | 'whatsapp';
  language: string;
  n: number;
  /** WhatsApp: she wrote within the last 24 hours (free text), or days ago (a template, or held without one) */
  window?: 'open' | 'closed';
  fate: Fate;
}

/**
 * A broadcast with an Italian and an Arabic text to families of seven languages on both channels. Some messages
 * leave in her language, some in Italian (her language has no text), some are held (WhatsApp, outside the 24
 * hours, no template in her language), one fails (she blocked the bot), two are skipped (paused, unreachable).
 */
const GROUPS: Group[] = [
  { channel: 'telegram', language: 'it', n: 3, fate: 'sent' },
  { channel: 'telegram', language: 'ar', n: 3, fate: 'sent' },
  { channel: 'telegram', language: 'bn', n: 3, fate: 'sent' }, // Italian text
  { channel: 'telegram', language: 'en', n: 1, fate: 'blocked' }, // Italian text, never left
  { channel: 'whatsapp', language: 'ar', n: 2, window: 'open', fate: 'sent' },
  { channel: 'whatsapp', language: 'uk', n: 2, window: 'open', fate: 'sent' }, // Italian text
  { channel: 'whatsapp', language: 'it', n: 2, window: 'closed', fate: 'sent' }, // the Italian template
  { channel: 'whatsapp', language: 'bn', n: 2, window: 'closed', fate: 'sent' }, // the Bengali template, Italian notice
  { channel: 'whatsapp', language: 'en', n: 3, window: 'closed', fate: 'held' }, // Italian text, no English template
  { channel: 'whatsapp', language: 'ar', n: 2, window: 'closed', fate: 'held' }, // no Arabic template
  { channel: 'telegram', language: 'es', n: 1, fate: 'paused' },
  { channel: 'whatsapp', language: 'fr', n: 1, window: 'closed', fate: 'unreachable' },
];

interface Member extends Group {
  id: string;
}

describe('a broadcast\'s figures are what the providers received', () => {
  let t: TestDb;
  let stack: Awaited<ReturnType<typeof whatsappStack>>;
  let tg: TelegramEmulator;
  let closeTg: () => Promise<void>;
  let telegram: Dispatcher;

  beforeEach(async () => {
    t = await pgliteDb();
    stack = await whatsappStack(t, START);
    const clock = stack.clock;
    tg = createTelegramEmulator({ now: () => clock.now().getTime() });
    tg.addBot(TOKEN);
    const api = await tg.listen();
    closeTg = api.close;
    telegram = new Dispatcher({ db: t.db, sender: createTelegramChannel({ token: TOKEN, apiRoot: api.apiRoot }), clock, logger: createLogger('silent'), sleep: async (ms) => clock.advance(ms) });
  });
  afterEach(async () => {
    await stack.close();
    await tg.close();
    await closeTg();
    await t.close();
  });

  /** Both dispatchers until neither has anything to send, then the Twilio emulator's status callbacks. */
  const drain = async () => {
    for (let round = 0; round < 50; round++) {
      const [a, b] = [await telegram.runOnce(), await stack.dispatcher.runOnce()];
      if (a.claimed + b.claimed === 0) break;
    }
    await stack.emulator.settle();
  };

  async function seed(): Promise<Member[]> {
    const members: Member[] = [];
    let next = 0;
    for (const g of GROUPS) {
      for (let i = 0; i < g.n; i++) {
        next++;
        const id = g.channel === 'telegram' ? String(7_000_000 + next) : `+39335${String(next).padStart(7, '0')}`;
        await familyWithChild(t, { providerId: id, channel: g.channel, language: g.language, birth: '2026-03-01', lastInboundAt: '2026-11-19T09:00:00Z' });
        if (g.fate === 'paused' || g.fate === 'unreachable') await t.sql.query(`update public.contacts set status = $2 where provider_id = $1`, [id, g.fate]);
        members.push({ ...g, id });
      }
    }
    await t.db.rpc('message_template_upsert', { p_kind: 'broadcast', p_language: 'it', p_content_sid: IT_TEMPLATE, p_variables: ['notice'], p_now: START });
    await t.db.rpc('message_template_upsert', { p_kind: 'broadcast', p_language: 'bn', p_content_sid: BN_TEMPLATE, p_variables: ['notice'], p_now: START });
    stack.emulator.addTemplate(IT_TEMPLATE, 'Avviso: {{1}}');
    stack.emulator.addTemplate(BN_TEMPLATE, 'বিজ্ঞপ্তি: {{1}}');
    // a Telegram chat exists once she wrote; one of them has since blocked the bot
    for (const m of members.filter((x) => x.channel === 'telegram')) {
      tg.userSends(TOKEN, { id: Number(m.id), firstName: 'M' }, 'ciao');
      if (m.fate === 'blocked') tg.blockBot(TOKEN, Number(m.id));
    }
    // the open-window WhatsApp mothers write now (through the webhook); their answers leave before the broadcast
    for (const m of members.filter((x) => x.window === 'open')) await stack.emulator.userSends(m.id, { body: 'ciao' });
    await drain();
    return members;
  }

  /** The broadcast messages each emulator holds for her, and the language of the text in each. */
  function received(m: Member): { text: 'it' | 'ar'; status?: string }[] {
    const ofNotice = (text: string) => (text.includes(AR) ? 'ar' : text.includes(IT) ? 'it' : null);
    if (m.channel === 'telegram') {
      return tg.chat(TOKEN, Number(m.id)).flatMap((msg) => {
        const text = msg.from?.is_bot && 'text' in msg ? ofNotice(msg.text ?? '') : null;
        return text ? [{ text }] : [];
      });
    }
    return stack.emulator.messagesTo(m.id).flatMap((msg) => {
      const text = ofNotice(msg.body);
      return text ? [{ text, status: msg.status }] : [];
    });
  }

  it('counts sent, delivered, read, held, failed, skipped and "got the Italian text" as the emulators saw them, in the chat report too', async () => {
    const members = await seed();
    await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
    tg.userSends(TOKEN, { id: 3001, firstName: 'Marco' }, '/start');
    const marco = person(stack.core, { id: '3001', hint: 'it' });
    await marco.say('/avviso');
    await marco.tap('bc:next');
    await marco.say(IT);
    await marco.tap('bc:write:ar');
    await marco.say(AR);
    expect(texts(await marco.tap('bc:now'))[0]).toContain(it_('broadcast.sendingNow', { broadcast: 'B-1' }));

    const job = { db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n };
    await runJob(broadcasts, job, stack.clock.now());
    await drain();
    // three mothers open the notice on WhatsApp
    const readers = members.filter((m) => m.channel === 'whatsapp' && m.fate === 'sent').slice(0, 3);
    for (const m of readers) stack.emulator.markRead(m.id);
    await stack.emulator.settle();
    // nothing left to send: the job tells the coordinator, on Telegram
    stack.clock.advance(60_000);
    await runJob(broadcasts, job, stack.clock.now());
    await drain();

    // what the providers got, person by person
    const got = members.map((m) => ({ m, msgs: received(m) }));
    for (const { m, msgs } of got) expect(msgs.length, `${m.channel} ${m.id} ${m.fate}`).toBe(m.fate === 'sent' ? 1 : 0);
    const left = got.filter((g) => g.msgs.length === 1).map((g) => ({ ...g.m, ...g.msgs[0]! }));
    const queued = members.filter((m) => m.fate !== 'paused' && m.fate !== 'unreachable');
    const seen: BroadcastCounts = {
      recipients: members.length,
      queued: queued.length,
      waiting: 0,
      sent: left.length,
      delivered: left.filter((x) => x.status === 'delivered' || x.status === 'read').length,
      read: left.filter((x) => x.status === 'read').length,
      // Telegram refused the one who blocked the bot; the others nobody sent to Twilio (no window, no template)
      failed: queued.filter((m) => m.fate === 'blocked').length,
      held: queued.filter((m) => m.fate === 'held' && stack.emulator.messagesTo(m.id).length === 0).length,
      cancelled: 0,
      // messages that left in a language other than hers: the Italian text, since only Arabic had its own
      fallback: left.filter((x) => x.text !== x.language).length,
      whatsapp_sent: left.filter((x) => x.channel === 'whatsapp').length,
      skipped: { paused: members.filter((m) => m.fate === 'paused').length, unreachable: members.filter((m) => m.fate === 'unreachable').length },
      reasons: { no_template: 5, contact_gone: 1 }, // in the order the database gives them (jsonb: shorter keys first)
    };
    // counted by hand from GROUPS, so the comparison below cannot pass on empty figures
    expect(seen).toMatchObject({ recipients: 25, queued: 23, sent: 17, delivered: 8, read: 3, failed: 1, held: 5, fallback: 7, whatsapp_sent: 8 });

    const [row] = await t.sql.query<{ counts: BroadcastCounts }>(`select public.broadcast_counts(id) as counts from public.broadcasts`);
    expect(row!.counts).toEqual(seen);
    // the report the coordinator received on Telegram when it was done, and the one she asks for
    const report = tg.chat(TOKEN, 3001).filter((msg) => msg.from?.is_bot && 'text' in msg && msg.text?.startsWith(it_('broadcast.reportHead', { broadcast: 'B-1' })));
    expect(report.map((msg) => ('text' in msg ? msg.text : ''))).toEqual([countsText(i18n, 'it', 1, seen)]);
    expect(texts(await marco.say('/avviso B-1'))[0]).toContain(countsText(i18n, 'it', 1, seen));
    expect(countsText(i18n, 'it', 1, seen)).toContain(it_('broadcast.reportSkipped', { paused: 1, unreachable: 1, fallback: 7 }));

    // the programme's figures for the day add the same up
    const { data } = await t.db.rpc('programme_report', { p_from: '2026-11-23', p_to: '2026-11-23', p_now: stack.clock.now().toISOString() });
    expect((data as { broadcasts: unknown }).broadcasts).toEqual({
      total: 1, recipients: seen.recipients, queued: seen.queued, sent: seen.sent, delivered: seen.delivered, read: seen.read,
      failed: seen.failed, held: seen.held, cancelled: 0, waiting: 0, skipped: 2, fallback: seen.fallback,
    });
  }, 60_000);
});
