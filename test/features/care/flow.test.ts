import { TZDate } from '@date-fns/tz';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bot/config';
import { createLogger } from '../../../bot/logger';
import { reminders } from '../../../bot/features/care/job';
import { pgliteDb, type TestDb } from '../../support/door';
import { coreDeps, deliverAll, i18n, person, texts } from '../../support/chat';
import { familyWithChild, tutorFor } from '../../support/families';

const it_ = i18n.t('it');
const at = (day: string) => { const [y, m, d] = day.split('-').map(Number); return new Date(new TZDate(y!, m! - 1, d!, 7, 0, 0, 'Europe/Rome').getTime()); };

describe('her answers to a reminder change what is sent next', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  let child: string;
  let family: string;
  const DUE = '2026-11-20';
  beforeEach(async () => {
    t = await pgliteDb();
    deps = coreDeps(t, '2026-11-23T10:00:00+01:00');
    // born 20 September: the 6-in-1, pneumococcus and rotavirus vaccines are due on 20 November
    ({ child_id: child, family_id: family } = await familyWithChild(t, { providerId: '1001', birth: '2026-09-20', name: 'Amir' }));
    await runJob('2026-11-23');
  });
  afterEach(() => t.close());

  const runJob = (day: string) => reminders.run({ db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n }, at(day));
  const queuedFor = async (fragment: string) => (await t.sql.query<{ key: string; text: string }>(`select idempotency_key as key, payload->>'text' as text from public.outbox where idempotency_key like '%' || $1 || '%' order by id`, [fragment]));
  const plan = async () => t.sql.query<{ code: string; status: string; done_on: string | null; booked_on: string | null }>(
    `select item_code as code, status, done_on::text, booked_on::text from public.child_plan where child_id = $1 and due_on = $2 order by item_code`, [child, DUE]);
  const mother = () => person(deps, { id: '1001', hint: 'it' });

  it('offers the answers on the reminder itself', async () => {
    const [due] = await t.sql.query<{ choices: { id: string }[] }>(`select payload->'choices' as choices from public.outbox where idempotency_key like '%:${DUE}:due'`);
    expect(due!.choices.map((c) => c.id)).toEqual([`care:done:${child}:${DUE}`, `care:book:${child}:${DUE}`, `care:wait:${child}:${DUE}`, `care:help:${child}:${DUE}`, `care:stop:${child}`]);
    // on WhatsApp "1" must map back: the reminder became her current question once it was sent
    await deliverAll(t, '2026-11-23T10:00:00+01:00');
    const [c] = await t.sql.query<{ step: string }>(`select conversation->>'step' as step from public.contacts where provider_id = '1001'`);
    expect(c!.step).toBe('care');
  });

  it('done today: recorded, and no follow-up after the window', async () => {
    const p = mother();
    expect(texts(await p.tap(`care:done:${child}:${DUE}`))).toEqual([it_('care.askDoneDate', { example: '23/08/2026' })]);
    expect(texts(await p.tap('care:today'))).toEqual([`${it_('care.thanksDone')}\n${it_('menu.title')}`]);
    expect(await plan()).toEqual([
      { code: 'hexa-1', status: 'done', done_on: '2026-11-23', booked_on: null },
      { code: 'pcv-1', status: 'done', done_on: '2026-11-23', booked_on: null },
      { code: 'rota-1', status: 'done', done_on: '2026-11-23', booked_on: null },
    ]);
    await runJob('2027-01-05');
    expect(await queuedFor(`${DUE}:`)).toHaveLength(1);
  });

  it('done on a date she gives', async () => {
    const p = mother();
    await p.tap(`care:done:${child}:${DUE}`);
    await p.say('21/11/2026');
    expect((await plan())[0]).toMatchObject({ status: 'done', done_on: '2026-11-21' });
  });

  it('booked: a reminder the day before the appointment, and no follow-up', async () => {
    const p = mother();
    expect(texts(await p.tap(`care:book:${child}:${DUE}`))).toEqual([it_('care.askBookedDate', { example: '23/03/2027' })]);
    expect(texts(await p.say('20/11/2026'))).toEqual([it_('care.bookedPast', { example: '23/03/2027' })]);
    expect(texts(await p.say('02/12/2026'))[0]).toBe(`${it_('care.thanksBooked', { date: '2 dicembre 2026' })}\n${it_('menu.title')}`);
    await runJob('2026-11-30');
    expect(await queuedFor(':2026-12-02:appointment')).toHaveLength(0);
    await runJob('2026-12-01');
    const appt = await queuedFor(':2026-12-02:appointment');
    expect(appt).toHaveLength(1);
    expect(appt[0]!.text).toContain(it_('care.appointment', { child: 'Amir', date: '2 dicembre 2026', items: '' }).split('\n')[0]);
    await runJob('2027-01-05');
    expect(await queuedFor(`${DUE}:2026-12-20`)).toHaveLength(0);
  });

  it('not yet: asked again a week later', async () => {
    const p = mother();
    expect(texts(await p.tap(`care:wait:${child}:${DUE}`))).toEqual([`${it_('care.notYet')}\n${it_('menu.title')}`]);
    await runJob('2026-11-29');
    expect(await queuedFor(`${DUE}:2026-11-30:again`)).toHaveLength(0);
    await runJob('2026-11-30');
    const again = await queuedFor(`${DUE}:2026-11-30:again`);
    expect(again).toHaveLength(1);
    expect(again[0]!.text.split('\n')[0]).toBe(it_('care.followup', { child: 'Amir', items: '' }).split('\n')[0]);
  });

  it('I need help: a need for her tutor, with the child and the items', async () => {
    const tutor = await tutorFor(t, family);
    const p = mother();
    expect(texts(await p.tap(`care:help:${child}:${DUE}`))).toEqual([`${it_('care.helpSent')}\n${it_('menu.title')}`]);
    const [need] = await t.sql.query<{ category: string; source: string; details: { items: string[] } }>(`select category, source, details from public.needs`);
    expect(need).toMatchObject({ category: 'health', source: 'reminder', details: { items: ['hexa-1', 'pcv-1', 'rota-1'] } });
    const [notice] = await t.sql.query<{ text: string }>(`select payload->>'text' as text from public.outbox where contact_id = $1`, [tutor]);
    const lines = notice!.text.split('\n');
    expect(lines[0]).toMatch(/^📌 Nuova richiesta N-\d+ · 🩺 Salute, pediatra, vaccini$/);
    expect(lines[1]).toMatch(/^Famiglia F-\d+ · nome non indicato · Municipio 5 – Vigentino, Chiaravalle, Gratosoglio$/);
    expect(lines[2]).toBe('Bambini: Amir (2 mesi)');
    expect(lines[3]).toMatch(/^Da un promemoria: Amir, vaccino esavalente/);
  });

  it('stop these reminders: nothing more for that child, until she turns them on again', async () => {
    const p = mother();
    expect(texts(await p.tap(`care:stop:${child}`))).toEqual([`${it_('care.stopped', { child: 'Amir' })}\n${it_('menu.title')}`]);
    await runJob('2026-12-25');
    expect(await queuedFor(`${child}:2026-12-25`)).toHaveLength(0);
    expect(await queuedFor(':followup')).toHaveLength(0);
    await p.tap('menu:children');
    await p.tap(`child:${child}`);
    expect(texts(await p.tap('action:remindersOn'))[0]).toBe(it_('care.remindersOnDone', { child: 'Amir' }));
    await runJob('2026-12-26');
    expect((await queuedFor(':followup')).length).toBeGreaterThan(0);
  });
});
