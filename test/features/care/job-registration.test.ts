import { TZDate } from '@date-fns/tz';
import { addDays, format, parseISO } from 'date-fns';
import { afterEach, describe, expect, it } from 'vitest';
import { itemLabel } from '../../../bot/care/reminders';
import { FakeClock } from '../../../bot/clock';
import { loadConfig } from '../../../bot/config';
import { ageLabel } from '../../../bot/core/format';
import { createTranslator, type Language } from '../../../bot/i18n';
import { createLogger } from '../../../bot/logger';
import { reminders } from '../../../bot/features/care/job';
import { deliverAll } from '../../support/chat';
import { pgliteDb, type TestDb } from '../../support/door';
import { familyWithChild } from '../../support/families';

const i18n = createTranslator();
const deps = (t: TestDb) => ({ db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n });
/** A wall-clock moment in Rome. */
const rome = (day: string, hour: number, minute = 0) => { const [y, m, d] = day.split('-').map(Number); return new Date(new TZDate(y!, m! - 1, d!, hour, minute, 0, 'Europe/Rome').getTime()); };
const plusDays = (day: string, n: number) => format(addDays(parseISO(day), n), 'yyyy-MM-dd');
/** Direction marks and isolates: a right-to-left text is compared without them. */
const bare = (text: string) => text.replace(/[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g, '');
const bullets = (text: string) => bare(text).split('\n').filter((l) => l.startsWith('• ')).map((l) => l.slice(2));

interface PlanRow { code: string; kind: string; group_key: string; dose: number; name_it: string; due_on: string; status: string; late_at_registration: boolean }
interface Sent { key: string; stage: string; day: string; text: string; not_before: string; status: string; choices: number }

const planOf = (t: TestDb, child: string) => t.sql.query<PlanRow>(`
  select p.item_code as code, i.kind, i.group_key, i.dose, i.name_it, p.due_on::text, p.status, p.late_at_registration
    from public.child_plan p join public.care_items i on i.code = p.item_code where p.child_id = $1 order by p.due_on, i.group_key`, [child]);

/** The reminders a child's mother got, in the order they were queued; the run's day is the day the job ran. */
async function messagesAbout(t: TestDb, child: string): Promise<Sent[]> {
  const rows = await t.sql.query<{ key: string; text: string; not_before: string; status: string; choices: number }>(
    `select idempotency_key as key, payload->>'text' as text, not_before::text, status, coalesce(jsonb_array_length(payload->'choices'), 0) as choices
       from public.outbox where kind = 'reminder' and idempotency_key like '%' || $1 || '%' order by id`, [child]);
  return rows.map((r) => ({ ...r, stage: r.key.split(':').at(-1)!, day: r.key.split(':')[3]! }));
}

/** Item code by the label she reads: every item of a plan must read differently, or two messages could seem to disagree. */
function codesByLabel(lng: Language, plan: PlanRow[], birth: string): Map<string, string> {
  const t = i18n.t(lng);
  const byLabel = new Map<string, string>();
  for (const row of plan) byLabel.set(bare(itemLabel(t, row, birth)), row.code);
  expect(byLabel.size, 'two items of the plan read the same').toBe(plan.length);
  return byLabel;
}

/** Registers a child late, runs the job at 08:06 Rome on that day and the next ones; returns what each day queued. */
async function registerLate(t: TestDb, opts: { birth: string; on: string; language?: Language; days?: number; name?: string }) {
  const { child_id } = await familyWithChild(t, { providerId: '1001', language: opts.language ?? 'it', birth: opts.birth, name: opts.name ?? 'Amir' });
  const clock = new FakeClock(rome(opts.on, 8, 6));
  const byDay: Sent[][] = [];
  for (let d = 0; d < (opts.days ?? 10); d++) {
    clock.set(rome(plusDays(opts.on, d), 8, 6));
    const before = (await messagesAbout(t, child_id)).length;
    await reminders.run(deps(t), clock.now());
    byDay.push((await messagesAbout(t, child_id)).slice(before));
  }
  return { child_id, byDay };
}

describe('a child registered late: one catch-up, never contradicted by the reminders', () => {
  let t: TestDb | undefined;
  afterEach(async () => { await t?.close(); t = undefined; });

  it.each([
    ['on the day of her 2-month check-up', '2026-01-10', '2026-03-11', 'it'],
    ['the day her first vaccines are due', '2026-01-10', '2026-03-12', 'en'],
    ['at 86 days, with rotavirus dose 1 missed', '2026-01-10', '2026-04-06', 'ar'],
    ['on the day of her 4-month check-up', '2026-01-10', '2026-05-10', 'uk'],
    ['at 5 months', '2025-12-01', '2026-05-01', 'it'],
    ['at 12 months and 10 days', '2025-01-10', '2026-01-20', 'ro'],
    ['at 14 months', '2025-09-20', '2026-11-23', 'ar'],
    ['at 2 years', '2024-11-20', '2026-11-23', 'fr'],
  ] as const)('%s', async (_when, birth, on, language) => {
    t = await pgliteDb();
    const { child_id, byDay } = await registerLate(t, { birth, on, language });
    const plan = await planOf(t, child_id);
    const code = codesByLabel(language, plan, birth);
    const all = byDay.flat();
    const catchups = all.filter((m) => m.stage === 'catchup');
    const reminded = all.filter((m) => ['before', 'due', 'followup'].includes(m.stage));

    // at most one catch-up, on the registration day, listing exactly what the plan put in it
    expect(catchups.length).toBeLessThanOrEqual(1);
    const inCatchup = plan.filter((r) => r.late_at_registration).map((r) => r.code).sort();
    expect(catchups.length).toBe(inCatchup.length > 0 ? 1 : 0);
    const catchup = catchups[0];
    if (catchup) {
      expect(byDay[0]).toContain(catchup);
      expect(bullets(catchup.text).map((l) => code.get(l)).sort()).toEqual(inCatchup);
      // its words say "maybe not done yet, as soon as possible", for exactly these items
      const tr = i18n.t(language);
      const rows = plan.filter((r) => r.late_at_registration).sort((a, b) => a.due_on.localeCompare(b.due_on) || a.kind.localeCompare(b.kind) || a.group_key.localeCompare(b.group_key) || a.dose - b.dose);
      expect(bare(catchup.text)).toBe(bare(tr('care.catchup', { child: 'Amir', age: ageLabel(tr, birth, on), items: rows.map((r) => `• ${itemLabel(tr, r, birth)}`).join('\n') })));
    }

    // no item both in the catch-up and in a reminder, on any of these days
    const remindedCodes = reminded.flatMap((m) => bullets(m.text).map((l) => code.get(l)!));
    expect(remindedCodes.filter((c) => inCatchup.includes(c))).toEqual([]);
    // nor, on the registration day, a dose of a series the catch-up lists, or a check-up beside a missed one
    const groupOf = (c: string) => plan.find((r) => r.code === c)!.group_key;
    const caughtUpGroups = new Set(inCatchup.map(groupOf));
    const sameDay = byDay[0]!.filter((m) => m.stage !== 'catchup').flatMap((m) => bullets(m.text).map((l) => code.get(l)!));
    expect(sameDay.filter((c) => caughtUpGroups.has(groupOf(c)))).toEqual([]);
    // a reminder names what the plan still has open, nothing behind her
    for (const c of remindedCodes) expect(plan.find((r) => r.code === c)!.status, c).not.toBe('overdue');
  });

  it('tells an Arabic mother her child is "two months" without a "2" before the dual', async () => {
    t = await pgliteDb();
    const { byDay } = await registerLate(t, { birth: '2026-01-10', on: '2026-04-06', language: 'ar', days: 1, name: 'عمر يوسف' });
    const catchup = byDay[0]!.find((m) => m.stage === 'catchup')!;
    const firstLine = bare(catchup.text).split('\n')[0]!;
    expect(firstLine.startsWith('عمر عمر يوسف الآن شهران.')).toBe(true);
    expect(firstLine).not.toMatch(/\p{Nd}/u);
  });

  it('names each check-up by its age, so two check-ups never read the same', () => {
    const it_ = i18n.t('it');
    const checkup = (dueOn: string) => itemLabel(it_, { group_key: 'checkup', dose: 1, name_it: '', due_on: dueOn }, '2026-01-10');
    expect([checkup('2026-01-11'), checkup('2026-03-11'), checkup('2026-05-10'), checkup('2027-04-10'), checkup('2028-01-10'), checkup('2031-01-10')]).toEqual([
      it_('care.item.checkupFirst'),
      it_('care.item.checkupAt', { age: it_('children.ageMonths', { count: 2 }) }),
      it_('care.item.checkupAt', { age: it_('children.ageMonths', { count: 4 }) }),
      it_('care.item.checkupAt', { age: it_('children.ageMonths', { count: 15 }) }),
      it_('care.item.checkupAt', { age: it_('children.ageYears', { count: 2 }) }),
      it_('care.item.checkupAt', { age: it_('children.ageYears', { count: 5 }) }),
    ]);
    // without the birth date (a staff list, an older caller) the plain label still works
    expect(itemLabel(it_, { group_key: 'checkup', dose: 2, name_it: '' })).toBe(it_('care.item.checkup'));
  });
});

describe('her first day with two children registered late', () => {
  let t: TestDb | undefined;
  afterEach(async () => { await t?.close(); t = undefined; });

  it('gets one catch-up per child, and nothing a catch-up lists comes back as due', async () => {
    t = await pgliteDb();
    const day = '2026-11-23';
    // a 5-month-old and a 2-year-old, with nothing recorded yet
    const { child_id: baby, family_id } = await familyWithChild(t, { providerId: '1001', language: 'it', birth: '2026-06-20', name: 'Sara' });
    const [{ id: toddler }] = (await t.sql.query<{ id: string }>(`insert into public.children (family_id, name, birth_date) values ($1, 'Luca', '2024-11-10') returning id`, [family_id])) as [{ id: string }];
    const clock = new FakeClock(rome(day, 8, 6));
    const summary = await reminders.run(deps(t), clock.now());
    expect(summary).toMatchObject({ planned: 2 });
    clock.set(rome(day, 9, 0));
    await deliverAll(t, clock.now().toISOString());
    clock.set(rome(day, 10, 0));
    await deliverAll(t, clock.now().toISOString());

    for (const [child, birth] of [[baby, '2026-06-20'], [toddler, '2024-11-10']] as const) {
      const messages = await messagesAbout(t, child);
      const plan = await planOf(t, child);
      const code = codesByLabel('it', plan, birth);
      const catchups = messages.filter((m) => m.stage === 'catchup');
      expect(catchups).toHaveLength(1);
      // the summary leaves on her first day
      expect(catchups[0]!.status).toBe('sent');
      const listed = bullets(catchups[0]!.text).map((l) => code.get(l)!);
      const reminded = messages.filter((m) => m.stage !== 'catchup').flatMap((m) => bullets(m.text).map((l) => code.get(l)!));
      expect(reminded.filter((c) => listed.includes(c))).toEqual([]);
    }
  });
});
