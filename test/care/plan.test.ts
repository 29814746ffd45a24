import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planChild, type CareItem } from '../../bot/care/plan';
import { DEFAULT_RULES, sendTime, stageOf, type Candidate } from '../../bot/care/reminders';
import { pgliteDb, type TestDb } from '../support/door';

let t: TestDb;
let calendar: CareItem[];
beforeAll(async () => {
  t = await pgliteDb();
  calendar = (await t.db.rpc('care_items_list')).data as CareItem[];
});
afterAll(() => t.close());

const plan = (birth: string, today: string, extra: Partial<Parameters<typeof planChild>[1]> = {}) =>
  Object.fromEntries(planChild(calendar, { child_id: 'c', birth_date: birth, due_date: null, first_plan: false, done: {}, ...extra }, today).items.map((i) => [i.code, i]));

describe('a child\'s plan from the seeded calendar', () => {
  it('puts each item at its completed-time offset from the birth', () => {
    const p = plan('2026-01-10', '2026-01-20');
    expect([p['checkup-1']!.due_on, p['checkup-2']!.due_on, p['hexa-1']!.due_on, p['pcv-1']!.due_on, p['rota-1']!.due_on]).toEqual(['2026-01-11', '2026-03-11', '2026-03-12', '2026-03-12', '2026-03-12']);
    expect([p['hexa-2']!.due_on, p['hexa-3']!.due_on, p['menb-1']!.due_on, p['menb-2']!.due_on]).toEqual(['2026-05-11', '2026-11-07', '2026-03-27', '2026-06-10']);
    expect([p['mmrv-1']!.due_on, p['menacwy-1']!.due_on, p['menb-3']!.due_on, p['mmrv-2']!.due_on, p['dtap-ipv-4']!.due_on]).toEqual(['2027-01-10', '2027-01-10', '2027-02-10', '2031-01-10', '2031-01-10']);
    expect(p['hexa-1']!.window_end).toBe('2026-04-11');
    expect(Object.values(p).every((i) => !i.late)).toBe(true);
    expect(p['preg-prepare']).toBeUndefined();
  });

  it('handles a birth on 29 February: month offsets land on the last day of a shorter month', () => {
    const p = plan('2024-02-29', '2024-03-01');
    expect(p['hexa-1']!.due_on).toBe('2024-04-30');
    expect(p['checkup-3']!.due_on).toBe('2024-06-29');
    expect(p['mmrv-1']!.due_on).toBe('2025-02-28');
    expect(p['checkup-7']!.due_on).toBe('2026-02-28');
    expect(p['mmrv-2']!.due_on).toBe('2029-02-28');
  });

  it('keeps the spacing after a dose done late', () => {
    const p = plan('2026-01-10', '2026-05-20', { done: { 'menb-1': '2026-05-01' } });
    // 151 days after the birth would be 10 June; 60 days after the first dose is 30 June
    expect(p['menb-2']!.due_on).toBe('2026-06-30');
  });

  it('marks what is already past its window at the first plan as late, not to be reminded', () => {
    const p = plan('2025-09-23', '2026-11-23', { first_plan: true });
    const late = Object.values(p).filter((i) => i.late).map((i) => i.code).sort();
    expect(late).toEqual(['checkup-1', 'checkup-2', 'checkup-3', 'checkup-4', 'checkup-5', 'hexa-1', 'hexa-2', 'hexa-3', 'menacwy-1', 'menb-1', 'menb-2', 'mmrv-1', 'pcv-1', 'pcv-2', 'pcv-3', 'rota-1', 'rota-2']);
    expect(p['menb-3']!.late).toBe(false);
  });

  const firstPlan = (birth: string | null, today: string, due: string | null = null) => {
    const items = planChild(calendar, { child_id: 'c', birth_date: birth, due_date: due, first_plan: true, done: {} }, today).items;
    return { late: items.filter((i) => i.late).map((i) => i.code).sort(), catchup: items.filter((i) => i.catchup).map((i) => i.code).sort() };
  };

  it.each([
    // the reported case: the first check-up is behind her, the 2-month one is due today; it covers the first
    ['on the day of the 2-month check-up', '2026-01-10', '2026-03-11', ['checkup-1'], []],
    ['the day after, when the vaccines are due', '2026-01-10', '2026-03-12', ['checkup-1'], []],
    // rotavirus (21-day window) missed: the 6-in-1 and pneumococcus of the same day go with it, and so does rota dose 2, due in 4 days
    ['at 86 days, rotavirus dose 1 missed', '2026-01-10', '2026-04-06', ['checkup-1', 'rota-1'], ['hexa-1', 'pcv-1', 'rota-1', 'rota-2']],
    // the booster of a series whose first doses are behind is not reminded on its own; the 15-month check-up is 27 days away
    ['at 14 months', '2025-09-20', '2026-11-23', ['checkup-1', 'checkup-2', 'checkup-3', 'checkup-4', 'checkup-5', 'hexa-1', 'hexa-2', 'hexa-3', 'menacwy-1', 'menb-1', 'menb-2', 'mmrv-1', 'pcv-1', 'pcv-2', 'pcv-3', 'rota-1', 'rota-2'],
      ['hexa-1', 'hexa-2', 'hexa-3', 'menacwy-1', 'menb-1', 'menb-2', 'menb-3', 'mmrv-1', 'pcv-1', 'pcv-2', 'pcv-3', 'rota-1', 'rota-2']],
    // the next check-up is three months away: the latest missed one is still worth a visit, the older ones are not
    ['at 12 months and 10 days', '2025-01-10', '2026-01-20', ['checkup-1', 'checkup-2', 'checkup-3', 'checkup-4', 'checkup-5', 'hexa-1', 'hexa-2', 'hexa-3', 'menb-1', 'menb-2', 'pcv-1', 'pcv-2', 'pcv-3', 'rota-1', 'rota-2'],
      ['checkup-5', 'hexa-1', 'hexa-2', 'hexa-3', 'menb-1', 'menb-2', 'pcv-1', 'pcv-2', 'pcv-3', 'rota-1', 'rota-2']],
  ])('first plan %s: behind her and in the catch-up', (_when, birth, today, late, catchup) => {
    expect(firstPlan(birth, today)).toEqual({ late, catchup });
  });

  it('puts a pregnancy step already past in no catch-up', () => {
    expect(firstPlan(null, '2027-04-20', '2027-03-15')).toEqual({ late: ['preg-born-1', 'preg-prepare'], catchup: [] });
  });

  it('keeps later reminders of a series that is behind when they are not due soon', () => {
    // registered at 86 days: the 6-in-1 dose 2 (day 121) is a month away, so it keeps its own reminder
    const p = planChild(calendar, { child_id: 'c', birth_date: '2026-01-10', due_date: null, first_plan: true, done: {} }, '2026-04-06').items;
    expect(p.find((i) => i.code === 'hexa-2')).toMatchObject({ late: false, catchup: false });
    // with a longer "soon" it joins the catch-up
    const longer = planChild(calendar, { child_id: 'c', birth_date: '2026-01-10', due_date: null, first_plan: true, done: {} }, '2026-04-06', { soonDays: 40 }).items;
    expect(longer.find((i) => i.code === 'hexa-2')).toMatchObject({ late: false, catchup: true });
  });

  it('plans a pregnancy from its due date', () => {
    const p = Object.fromEntries(planChild(calendar, { child_id: 'c', birth_date: null, due_date: '2027-03-15', first_plan: true, done: {} }, '2026-11-23').items.map((i) => [i.code, i.due_on]));
    expect(p).toEqual({ 'preg-prepare': '2027-02-13', 'preg-born-1': '2027-03-15', 'preg-born-2': '2027-03-29' });
  });
});

describe('when a reminder leaves', () => {
  it.each([
    ['12:00 in Rome goes now', '2026-06-10T10:00:00Z', '2026-06-10T10:00:00.000Z'],
    ['07:00 in Rome waits for 09:00 the same day', '2026-06-10T05:00:00Z', '2026-06-10T07:00:00.000Z'],
    ['19:30 in Rome waits for 09:00 the next day', '2026-06-10T17:30:00Z', '2026-06-11T07:00:00.000Z'],
    ['the night summer time starts: 09:00 CEST', '2026-03-29T00:30:00Z', '2026-03-29T07:00:00.000Z'],
    ['the evening before summer time: 09:00 CEST the next day', '2026-03-28T20:00:00Z', '2026-03-29T07:00:00.000Z'],
    ['the night summer time ends: 09:00 CET', '2026-10-25T01:30:00Z', '2026-10-25T08:00:00.000Z'],
    ['18:59 in Rome goes now', '2026-12-01T17:59:00Z', '2026-12-01T17:59:00.000Z'],
    ['19:00 in Rome waits', '2026-12-01T18:00:00Z', '2026-12-02T08:00:00.000Z'],
  ])('%s', (_what, now, expected) => {
    expect(sendTime(new Date(now)).toISOString()).toBe(expected);
  });

  const row = (extra: Partial<Candidate>): Candidate => ({
    child_id: 'c', child_name: 'Amir', birth_date: '2026-01-10', due_date: null, family_id: 'f', family_ref: 1, district: null, item_code: 'hexa-1', kind: 'vaccine',
    group_key: 'hexa', dose: 1, name_it: '', mandatory: true, verified: true, due_on: '2026-03-12', window_end: '2026-04-11', status: 'planned',
    booked_on: null, snooze_until: null, late_at_registration: false, contacts: [], tutor_contacts: [], ...extra,
  });
  it.each([
    ['2026-03-04', undefined],
    ['2026-03-05', 'before'],
    ['2026-03-11', 'before'],
    ['2026-03-12', 'due'],
    ['2026-04-11', 'due'],
    ['2026-04-12', 'followup'],
    ['2026-05-11', 'followup'],
    ['2026-05-12', undefined],
  ])('on %s a planned item due on 12 March is at stage %s', (today, stage) => {
    expect(stageOf(row({}), today, DEFAULT_RULES)).toBe(stage);
  });
});
