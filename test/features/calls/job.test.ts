import { TZDate } from '@date-fns/tz';
import { addDays, format } from 'date-fns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bot/config';
import { createLogger } from '../../../bot/logger';
import { calls, callStages } from '../../../bot/features/calls/job';
import { findJob, runJob } from '../../../functions/jobs';
import { pgliteDb, type TestDb } from '../../support/door';
import { coreDeps, i18n, person } from '../../support/chat';
import { familyWithChild } from '../../support/families';

const deps = (t: TestDb) => ({ db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n });
const rome = (day: string, hour: number) => { const [y, m, d] = day.split('-').map(Number); return new Date(new TZDate(y!, m! - 1, d!, hour, 0, 0, 'Europe/Rome').getTime()); };
const localTime = (iso: string) => format(new TZDate(new Date(iso).getTime(), 'Europe/Rome'), 'yyyy-MM-dd HH:mm');
const en = i18n.t('en');

interface Row { key: string; status: string; not_before: string; text: string; choices: { id: string }[] }
const notices = (t: TestDb) => t.sql.query<Row>(`select idempotency_key as key, status, not_before::text, payload->>'text' as text, payload->'choices' as choices from public.outbox where kind = 'call_notice' order by id`);
const stageOf = (key: string) => key.split(':')[2];

/** Runs the job every day from one day to another, at the given Rome hour. */
async function everyDay(t: TestDb, from: string, to: string, hour = 9) {
  for (let d = new Date(`${from}T12:00:00Z`); d <= new Date(`${to}T12:00:00Z`); d = addDays(d, 1)) await calls.run(deps(t), rome(format(d, 'yyyy-MM-dd'), hour));
}

describe('which notice a call calls for', () => {
  it.each([
    { following: false, closes_on: '2027-02-24', today: '2027-02-03', stages: ['open'] },
    { following: true, closes_on: '2027-02-24', today: '2027-02-10', stages: [] },
    { following: true, closes_on: '2027-02-24', today: '2027-02-17', stages: ['close7'] },
    { following: true, closes_on: '2027-02-24', today: '2027-02-22', stages: ['close7'] },
    { following: true, closes_on: '2027-02-24', today: '2027-02-23', stages: ['close1'] },
    { following: true, closes_on: '2027-02-24', today: '2027-02-24', stages: ['close1'] },
  ])('following $following, closing $closes_on, on $today: $stages', ({ stages, today, ...row }) => {
    expect(callStages(row, today)).toEqual(stages);
  });
});

describe('the calls job', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await pgliteDb();
    // 10 months old in February 2027: the nido call fits
    await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-04-10', name: 'Amir' });
  });
  afterEach(() => t.close());

  it('tells her once when a call that fits her opens, at 09:00 and never at night', async () => {
    await everyDay(t, '2027-01-20', '2027-02-02', 7);
    expect(await notices(t)).toEqual([]);
    // the job run late in the evening of the opening day: the notice waits for the morning
    await calls.run(deps(t), rome('2027-02-03', 22));
    await everyDay(t, '2027-02-04', '2027-02-28', 7);
    const rows = await notices(t);
    expect(rows.map((r) => [stageOf(r.key), localTime(r.not_before)])).toEqual([['open', '2027-02-04 09:00']]);
    expect(rows[0]!.text).toBe(en('calls.noticeOpen', { title: en('calls.kind.nido.name'), date: '24 February 2027' }));
    expect(rows[0]!.choices.map((c) => c.id)).toEqual(['call:show:nido-2027', 'call:applied:nido-2027']);
  });

  it('reminds her 7 days and 1 day before the close when she follows the call, each once', async () => {
    await person(coreDeps(t, '2027-02-05T10:00:00+01:00'), { id: '1001' }).tap('call:follow:nido-2027');
    await everyDay(t, '2027-02-05', '2027-02-28');
    await everyDay(t, '2027-02-15', '2027-02-24', 15);
    const rows = await notices(t);
    expect(rows.map((r) => [stageOf(r.key), localTime(r.not_before)])).toEqual([['close7', '2027-02-17 09:00'], ['close1', '2027-02-23 09:00']]);
    expect(rows[0]!.text).toBe(en('calls.noticeClose_other', { title: en('calls.kind.nido.name'), count: 7, date: '24 February 2027' }));
    expect(rows[1]!.text).toBe(en('calls.noticeClose_one', { title: en('calls.kind.nido.name'), count: 1, date: '24 February 2027' }));
  });

  it('sends nothing more after she says she applied, and drops what was waiting for the morning', async () => {
    await person(coreDeps(t, '2027-02-05T10:00:00+01:00'), { id: '1001' }).tap('call:follow:nido-2027');
    // queued early on the 17th for 09:00 …
    await calls.run(deps(t), rome('2027-02-17', 6));
    expect((await notices(t)).map((r) => [stageOf(r.key), r.status])).toEqual([['close7', 'pending']]);
    // … and she applies at 07:00, before it leaves
    await person(coreDeps(t, '2027-02-17T07:00:00+01:00'), { id: '1001' }).tap('call:applied:nido-2027');
    await everyDay(t, '2027-02-17', '2027-02-28');
    expect((await notices(t)).map((r) => [stageOf(r.key), r.status])).toEqual([['close7', 'cancelled']]);
  });

  it('a family who applied before the call opened gets no "now open" notice', async () => {
    await person(coreDeps(t, '2027-01-25T10:00:00+01:00'), { id: '1001' }).tap('call:applied:nido-2027');
    await everyDay(t, '2027-02-01', '2027-02-28');
    expect(await notices(t)).toEqual([]);
  });

  it('runs once per day through the scheduler\'s claim, and is in the list of jobs', async () => {
    const job = findJob('calls')!;
    expect(job.schedule).toBe('0 9 * * *');
    const first = await runJob(job, deps(t), rome('2027-02-03', 9));
    const second = await runJob(job, deps(t), rome('2027-02-03', 9));
    expect(first).toMatchObject({ ran: true, summary: { queued: 1, stages: { open: 1 } } });
    expect(second).toMatchObject({ ran: false });
  });
});
