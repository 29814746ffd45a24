import { TZDate } from '@date-fns/tz';
import { addDays, format, startOfWeek } from 'date-fns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTelegramChannel } from '../../../bot/channels/telegram';
import { loadConfig } from '../../../bot/config';
import { reminders } from '../../../bot/features/care/job';
import { cell, publicFigures, type ProgrammeReport } from '../../../bot/features/programme/report';
import { createTelegramEmulator, type TelegramEmulator } from '../../../bot/local/telegram-emulator';
import { createLogger } from '../../../bot/logger';
import { Dispatcher } from '../../../bot/outbox/dispatcher';
import { coreDeps, i18n, makeStaff, person } from '../../support/chat';
import { deskRig } from '../../support/desk';
import { pgliteDb, type TestDb } from '../../support/door';
import { familyWithChild } from '../../support/families';

const TOKEN = '777000222:ReminderFiguresToken_abcdefghij';
/** 07:00 on a Rome calendar day: the job queues the day's reminders for 09:00 */
const romeAt = (day: string, hour: number) => { const [y, m, d] = day.split('-').map(Number); return new Date(new TZDate(y!, m! - 1, d!, hour, 0, 0, 'Europe/Rome').getTime()); };
const romeDay = (unixSeconds: number) => format(new TZDate(unixSeconds * 1000, 'Europe/Rome'), 'yyyy-MM-dd');
const weekOf = (day: string) => format(startOfWeek(new Date(`${day}T12:00:00Z`), { weekStartsOn: 1 }), 'yyyy-MM-dd');
const FROM = '2026-03-02';
const TO = '2026-03-22';

/** The programme's reminder figures, held against what the (emulated) provider received and what the mothers answered. */
describe('the reminder figures are what Telegram received', () => {
  let t: TestDb;
  let tg: TelegramEmulator;
  let closeTg: () => Promise<void>;
  let deps: ReturnType<typeof coreDeps>;
  let telegram: Dispatcher;
  const chats: number[] = [];

  beforeEach(async () => {
    t = await pgliteDb();
    deps = coreDeps(t, '2026-02-23T07:00:00+01:00');
    const clock = deps.clock;
    tg = createTelegramEmulator({ now: () => clock.now().getTime() });
    tg.addBot(TOKEN);
    const api = await tg.listen();
    closeTg = api.close;
    telegram = new Dispatcher({ db: t.db, sender: createTelegramChannel({ token: TOKEN, apiRoot: api.apiRoot }), clock, logger: createLogger('silent'), sleep: async (ms) => clock.advance(ms) });
    // ten mothers on Telegram, a baby each born a day apart: their two-month reminders spread over three weeks
    chats.length = 0;
    for (let i = 0; i < 10; i++) {
      const id = 8_000_000 + i;
      await familyWithChild(t, { providerId: String(id), birth: format(addDays(new Date('2026-01-05T12:00:00Z'), i * 2), 'yyyy-MM-dd'), name: `Bimbo ${i}` });
      tg.userSends(TOKEN, { id, firstName: 'M' }, 'ciao');
      chats.push(id);
    }
  });
  afterEach(async () => {
    await tg.close();
    await closeTg();
    await t.close();
  });

  /** Every morning's job, then the dispatcher at 09:05 until it has nothing left: a month of days. */
  async function month() {
    const job = { db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n };
    for (let d = new Date('2026-02-23T12:00:00Z'); d <= new Date(`${TO}T12:00:00Z`); d = addDays(d, 1)) {
      const day = format(d, 'yyyy-MM-dd');
      deps.clock.set(romeAt(day, 7));
      await reminders.run(job, deps.clock.now());
      deps.clock.set(new Date(romeAt(day, 9).getTime() + 5 * 60_000));
      for (let round = 0; round < 20 && (await telegram.runOnce()).claimed > 0; round++);
    }
  }

  it('counts reminders sent week by week as the provider received them, and "done" as the mothers answered, in the report and on the desk', async () => {
    await month();
    // what Telegram received, by the Rome day it arrived: every bot message here is a reminder
    const received = chats.flatMap((chat) => tg.chat(TOKEN, chat).filter((m) => m.from?.is_bot).map((m) => ({ chat, day: romeDay(m.date), m })));
    const inPeriod = received.filter((r) => r.day >= FROM && r.day <= TO);
    expect(inPeriod.length).toBeGreaterThan(10);

    // three mothers answer "done" to the last reminder they got, on 20 March
    deps.clock.set(romeAt('2026-03-20', 11));
    const answered = chats.slice(0, 3);
    for (const chat of answered) {
      const last = received.filter((r) => r.chat === chat).at(-1)!.m;
      const done = ('reply_markup' in last ? last.reply_markup?.inline_keyboard.flat() : [])?.find((b) => 'callback_data' in b && b.callback_data.startsWith('care:done:'));
      expect(done, `chat ${chat}: a reminder with a "done" button`).toBeDefined();
      const mother = person(deps, { id: String(chat) });
      await mother.tap((done as { callback_data: string }).callback_data);
      await mother.tap('care:today');
    }
    const doneItems = (await t.sql.query<{ n: number }>(`select count(*)::int as n from public.child_plan where status = 'done' and done_on = '2026-03-20'`))[0]!.n;
    expect(doneItems).toBeGreaterThanOrEqual(answered.length);

    const { data, error } = await t.db.rpc('programme_report', { p_from: FROM, p_to: TO, p_now: deps.clock.now().toISOString() });
    expect(error).toBeNull();
    const report = data as ProgrammeReport;
    expect(report.reminders.sent).toBe(inPeriod.length);
    expect(report.reminders.done).toBe(doneItems);
    const weeks = [...new Set(inPeriod.map((r) => weekOf(r.day)))].sort();
    const seenByWeek = Object.fromEntries(weeks.map((w) => [w, inPeriod.filter((r) => weekOf(r.day) === w).length]));
    expect(Object.fromEntries(report.reminders.weekly.filter((w) => w.sent > 0).map((w) => [w.week, w.sent]))).toEqual(seenByWeek);

    // the desk's chart of the same figures, as its CSV: what the provider received, small cells as "<5"
    await makeStaff(t, 'coordinator', 'Marco Rossi', '500');
    const desk = await deskRig(t, deps.clock.now().toISOString());
    try {
      const s = await desk.session();
      const csv = await (await desk.get(`/desk/overview.csv?chart=reminders-weekly&from=${FROM}&to=${TO}`, s.cookie)).text();
      const [head, ...rows] = csv.trim().split(/\r?\n/).map((line) => line.split(','));
      const col = (name: string) => head!.indexOf(name);
      expect(col('sent')).toBeGreaterThan(0);
      const shown = publicFigures(report).reminders.weekly;
      for (const w of shown) {
        const row = rows.find((r) => r[0] === w.week)!;
        expect(row, w.week).toBeDefined();
        expect(row[col('sent')]).toBe(String(cell(seenByWeek[w.week] ?? 0)));
        expect(row[col('sent')]).toBe(String(w.sent));
      }
    } finally {
      await desk.close();
    }
  }, 120_000);
});
