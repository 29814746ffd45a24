import { TZDate } from '@date-fns/tz';
import { addDays, format } from 'date-fns';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bot/config';
import { createTranslator } from '../../../bot/i18n';
import { createLogger } from '../../../bot/logger';
import { reminders } from '../../../bot/features/care/job';
import { pgliteDb, postgresDb, type TestDb } from '../../support/door';
import { familyWithChild, tutorFor } from '../../support/families';
import { whatsappStack } from '../../support/whatsapp-stack';

const i18n = createTranslator();
const deps = (t: TestDb) => ({ db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n });
/** 07:00 on a Rome calendar day: before the send window, so what is queued waits for 09:00 */
const romeMorning = (day: string, hour = 7) => { const [y, m, d] = day.split('-').map(Number); return new Date(new TZDate(y!, m! - 1, d!, hour, 0, 0, 'Europe/Rome').getTime()); };
const localTime = (iso: string) => format(new TZDate(new Date(iso).getTime(), 'Europe/Rome'), 'yyyy-MM-dd HH:mm');

interface Row { key: string; kind: string; not_before: string; text: string; choices: number }
const outbox = (t: TestDb) => t.sql.query<Row>(`select idempotency_key as key, kind, not_before::text, payload->>'text' as text, coalesce(jsonb_array_length(payload->'choices'), 0) as choices from public.outbox order by id`);

describe('the reminders job', () => {
  let t: TestDb | undefined;
  afterEach(async () => { await t?.close(); t = undefined; });

  it('sends each stage on its day, at 09:00 Rome, with the items due that day in one message', async () => {
    t = await pgliteDb();
    const { child_id } = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10', name: 'Amir' });
    for (let d = new Date('2026-02-20T12:00:00Z'); d <= new Date('2026-04-20T12:00:00Z'); d = addDays(d, 1)) {
      await reminders.run(deps(t), romeMorning(format(d, 'yyyy-MM-dd')));
    }
    const rows = (await outbox(t)).filter((r) => r.key.includes(`${child_id}:2026-03-12`));
    const it_ = i18n.t('it');
    expect(rows.map((r) => [localTime(r.not_before), r.key.split(':').at(-1) === 'before' || r.key.endsWith(':due') ? r.key.split(':').at(-1) : 'followup', r.text.split('\n').filter((l) => l.startsWith('•')).length])).toEqual([
      ['2026-03-05 09:00', 'before', 3],
      ['2026-03-12 09:00', 'due', 3],
      ['2026-04-03 09:00', 'followup', 1],
      // one reminder question a day: rotavirus dose 2 is due on 12 April, so this follow-up waits for the 13th
      ['2026-04-13 09:00', 'followup', 2],
    ]);
    expect(rows[1]!.text).toContain(it_('care.item.hexa', { dose: 1 }));
    expect(rows[1]!.text).toContain(it_('care.mandatory'));
    expect(rows[1]!.choices).toBe(5);
    // the check-up due on 11 March (day 60) is a message of its own, with the "check with your pediatrician" line
    const checkup = (await outbox(t)).find((r) => r.key.endsWith(`${child_id}:2026-03-11:due`))!;
    expect(checkup.text).toContain(it_('care.checkDate'));
  });

  it('sends the first reminder as many days before as configured', async () => {
    t = await pgliteDb();
    const { child_id } = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });
    const threeDays = { ...deps(t), config: loadConfig({ REMINDER_DAYS_BEFORE: '3' }) };
    await reminders.run(threeDays, romeMorning('2026-03-08'));
    expect((await outbox(t)).filter((r) => r.key.includes(`${child_id}:2026-03-12:before`))).toHaveLength(0);
    await reminders.run(threeDays, romeMorning('2026-03-09'));
    expect((await outbox(t)).filter((r) => r.key.includes(`${child_id}:2026-03-12:before`))).toHaveLength(1);
  });

  it('queues nothing new when it runs twice', async () => {
    t = await pgliteDb();
    await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });
    const first = await reminders.run(deps(t), romeMorning('2026-03-12'));
    const second = await reminders.run(deps(t), romeMorning('2026-03-12', 15));
    // a first plan at two months: the day-60 check-up and the day-61 vaccines; the missed first check-up is covered by
    // the day-60 one, so no catch-up says "check-up missing" beside "check-up today"
    expect(first).toMatchObject({ planned: 1, queued: 2, stages: { due: 2 } });
    expect(first.stages).not.toHaveProperty('catchup');
    expect(second).toMatchObject({ planned: 0, queued: 0 });
  });

  it('queues each reminder once when two instances run at the same moment on a real Postgres', async () => {
    const pg = await postgresDb();
    t = pg;
    for (let i = 0; i < 40; i++) await familyWithChild(pg, { providerId: `70${i}`, birth: '2026-01-10' });
    const a = pg.client();
    const b = pg.client();
    const now = romeMorning('2026-03-12');
    const [ra, rb] = await Promise.all([reminders.run({ ...deps(pg), db: a }, now), reminders.run({ ...deps(pg), db: b }, now)]);
    const rows = await outbox(pg);
    // two messages each: the day-60 check-up and the day-61 vaccines
    expect(rows).toHaveLength(80);
    expect(new Set(rows.map((r) => r.key)).size).toBe(80);
    expect((ra.queued as number) + (rb.queued as number)).toBe(80);
  });

  it('gives a child registered at 14 months one calm summary, and tells the tutor about overdue mandatory vaccinations', async () => {
    t = await pgliteDb();
    const { family_id } = await familyWithChild(t, { providerId: '1001', language: 'ar', birth: '2025-09-20', name: 'Yusuf' });
    const tutor = await tutorFor(t, family_id);
    const summary = await reminders.run(deps(t), romeMorning('2026-11-23'));
    const rows = await outbox(t);
    const toMother = rows.filter((r) => r.kind === 'reminder');
    const ar = i18n.t('ar');
    expect(toMother.filter((r) => r.key.endsWith(':registration:catchup'))).toHaveLength(1);
    const catchup = toMother.find((r) => r.key.endsWith(':registration:catchup'))!;
    expect(catchup.text.startsWith(ar('care.catchup', { child: 'Yusuf', age: ar('children.ageMonths', { count: 14 }), items: '' }).split('\n')[0]!)).toBe(true);
    // the 13 vaccinations behind her, menB's booster with its series; no check-up, the 15-month one is 27 days away
    expect(catchup.text.replace(/[\u061C\u200E\u200F\u2066-\u2069]/g, '').split('\n').filter((l) => l.startsWith('•')).length).toBe(13);
    // no flood: the summary, and at most what is due right now
    expect(toMother.length).toBeLessThanOrEqual(2);
    const notice = rows.filter((r) => r.kind === 'staff_notice');
    expect(notice).toHaveLength(1);
    expect(notice[0]!.key).toContain(tutor);
    expect(notice[0]!.text).toContain('vaccino esavalente');
    expect(notice[0]!.text).toContain('morbillo');
    expect(notice[0]!.text).toContain('Yusuf (14 mesi)');
    expect(summary).toMatchObject({ stages: { catchup: 1, overdue: 1 } });
    // the next day: nothing more for what was already summarised
    const next = await reminders.run(deps(t), romeMorning('2026-11-24'));
    expect(next.queued).toBe(0);
  });

  it('tells an expecting mother how to prepare, then asks for the birth date around the due date', async () => {
    t = await pgliteDb();
    await familyWithChild(t, { providerId: '1001', language: 'en', due: '2027-01-20' });
    await reminders.run(deps(t), romeMorning('2026-12-21'));
    await reminders.run(deps(t), romeMorning('2027-01-20'));
    const rows = await outbox(t);
    const en = i18n.t('en');
    expect(rows.map((r) => r.text)).toEqual([en('care.pregnancyPrepare', { date: '20 January 2027' }), en('care.pregnancyBorn')]);
    expect(rows[1]!.choices).toBe(1);
  });

  it('sends an imported WhatsApp mother who never wrote her reminder as the template for her language', async () => {
    t = await pgliteDb();
    const stack = await whatsappStack(t, '2026-11-23T10:00:00Z');
    try {
      const imported = await t.db.rpc('import_families', { p_now: '2026-11-01T10:00:00Z', p_families: [
        { channel: 'whatsapp', provider_id: '+8801711111111', language: 'bn', district_code: null, tutor_id: null, consent: true, children: [{ name: 'রাফি', birth_date: '2026-09-20' }] },
      ] });
      expect(imported.error).toBeNull();
      const sid = `HX${'b'.repeat(32)}`;
      await t.db.rpc('message_template_upsert', { p_kind: 'reminder', p_language: 'bn', p_content_sid: sid, p_variables: ['child', 'date'], p_now: '2026-11-01T10:00:00Z' });
      stack.emulator.addTemplate(sid, 'রিমাইন্ডার: {{1}}, {{2}}। বিস্তারিত জানতে উত্তর দিন।');

      await reminders.run(deps(t), stack.clock.now());
      await stack.flush();
      const sent = stack.emulator.messagesTo('+8801711111111');
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.every((m) => m.contentSid === sid)).toBe(true);
      expect(sent[0]!.body).toMatch(/^রিমাইন্ডার: রাফি, /);
      // the 2-month check-up due on 19 November goes first; the vaccines' question waits for the next day
      expect(sent.map((m) => m.contentVariables!['2'])).toContain(new Intl.DateTimeFormat('bn', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date('2026-11-19T00:00:00Z')));

      // her first message ever is the answer "1" (done) to the reminder: greeted, and the answer is taken
      const before = sent.length;
      await stack.emulator.userSends('+8801711111111', { body: '1' });
      await stack.flush();
      const replies = stack.emulator.messagesTo('+8801711111111').slice(before).map((m) => m.body);
      const bn = i18n.t('bn');
      expect(replies[0]).toBe(bn('greeting.paperWelcome'));
      expect(replies[1]).toContain(bn('care.askDoneDate', { example: '23/08/2026' }));
    } finally {
      await stack.close();
    }
  });
});
