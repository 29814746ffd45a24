import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bar, periodOf, publicFigures, renderReport, sparkline, type Cell, type ProgrammeReport } from '../../../bot/features/programme/report';
import { pgliteDb, type TestDb } from '../../support/door';

/** A month with known answers: every figure below is counted by hand from these rows. */
async function seedFixture(t: TestDb) {
  const q = (sql: string, params: unknown[] = []) => t.sql.query<Record<string, string>>(sql, params);
  const [t1] = await q(`insert into public.staff (role, full_name) values ('tutor', 'Giulia Bianchi') returning id, ref::text as ref`);
  const family = async (lng: string, district: string, created: string, tutor: boolean, status = 'active', phone = '') => {
    const [f] = await q(`insert into public.families (district_code, status, created_at) values ($1, $2, $3) returning id`, [district, status, created]);
    const [c] = await q(`insert into public.contacts (channel, provider_id, language, consent, family_id, created_at) values ('whatsapp', $1, $2, 'given', $3, $4) returning id`, [phone, lng, f!.id, created]);
    if (tutor) await q(`insert into public.family_assignments (family_id, tutor_id, assigned_at) values ($1, $2, $3)`, [f!.id, t1!.id, created]);
    return { id: f!.id!, contact: c!.id! };
  };
  const f1 = await family('ar', 'milano-1', '2026-10-01T10:00:00Z', true, 'active', '+393331111111');
  const f2 = await family('ar', 'milano-2', '2026-11-10T10:00:00Z', true, 'active', '+393332222222');
  const f3 = await family('it', 'milano-1', '2026-11-20T10:00:00Z', false, 'active', '+393333333333');
  const f4 = await family('bn', 'milano-3', '2026-11-05T10:00:00Z', false, 'closed', '+393334444444');
  const child = async (fam: string, name: string, birth: string | null, due: string | null, created: string) =>
    (await q(`insert into public.children (family_id, name, birth_date, due_date, created_at) values ($1, $2, $3::date, $4::date, $5) returning id`, [fam, name, birth, due, created]))[0]!.id!;
  const c1 = await child(f1.id, 'Amira', '2025-01-01', null, '2026-10-01T10:00:00Z');
  const c2 = await child(f2.id, 'Yusuf', '2026-06-01', null, '2026-11-10T10:00:00Z');
  await child(f2.id, 'Leila', '2024-02-01', null, '2026-11-10T10:00:00Z');
  await child(f3.id, 'X', null, '2027-01-01', '2026-11-20T10:00:00Z');
  await child(f4.id, 'Closed', '2025-05-01', null, '2026-11-05T10:00:00Z');

  // reminders: three sent in November, one in October, one not yet sent
  for (const [i, at, status] of [[1, '2026-11-03T09:00:00Z', 'sent'], [2, '2026-11-10T09:00:00Z', 'sent'], [3, '2026-11-17T09:00:00Z', 'sent'], [4, '2026-10-20T09:00:00Z', 'sent'], [5, null, 'pending']] as const) {
    await q(`insert into public.outbox (idempotency_key, contact_id, channel, kind, payload, status, sent_at) values ($1, $2, 'whatsapp', 'reminder', '{"text":"x"}', $3, $4)`, [`r${i}`, f1.contact, status, at]);
  }
  // plan: two confirmed done in November, one in October; two mandatory doses past their window for one child
  await q(`insert into public.child_plan (child_id, item_code, due_on, window_end, status, done_on) values
    ($1, 'pcv-1', '2025-03-03', '2025-04-02', 'done', '2026-11-04'),
    ($1, 'hexa-3', '2025-10-28', '2025-12-27', 'done', '2026-11-12'),
    ($1, 'hexa-1', '2025-03-03', '2025-04-02', 'done', '2026-10-15'),
    ($2, 'hexa-1', '2026-08-01', '2026-08-31', 'planned', null),
    ($2, 'hexa-2', '2026-10-01', '2026-10-31', 'not_yet', null)`, [c1, c2]);
  // needs opened in November (and one in October, outside the period)
  const need = (fam: string, category: string, urgency: string, created: string, takenH: number | null, resolvedH: number | null, kind = 'need') =>
    q(`insert into public.needs (family_id, kind, category, urgency, source, status, created_at, taken_at, resolved_at)
       values ($1, $2, $3, $4, 'menu', $5, $6::timestamptz, $6::timestamptz + make_interval(hours => $7::int), $6::timestamptz + make_interval(hours => $8::int))`,
    [fam, kind, category, urgency, resolvedH !== null ? 'resolved' : takenH !== null ? 'in_charge' : 'open', created, takenH, resolvedH]);
  await need(f1.id, 'health', 'urgent', '2026-11-02T10:00:00Z', 2, 24);
  await need(f2.id, 'health', 'normal', '2026-11-05T10:00:00Z', 4, null);
  await need(f2.id, 'housing', 'normal', '2026-11-10T10:00:00Z', 10, 48);
  await need(f3.id, 'other', 'normal', '2026-11-21T10:00:00Z', null, null, 'question');
  await need(f1.id, 'work', 'normal', '2026-10-10T10:00:00Z', 1, 2);
  // questions the knowledge base answered
  for (const [i, at, helped] of [[1, '2026-11-03T10:00:00Z', true], [2, '2026-11-04T10:00:00Z', true], [3, '2026-11-05T10:00:00Z', null], [4, '2026-10-05T10:00:00Z', true]] as const) {
    await q(`insert into public.kb_answers (id, language, helped, answered_at) values (gen_random_uuid(), 'ar', $1, $2)`, [helped, at]);
    void i;
  }
  // calls: two families follow the nido call, one applied in November
  await q(`insert into public.call_follows (family_id, call_id, following, applied_at) select $1, id, true, '2026-11-15T10:00:00Z'::timestamptz from public.calls where code = 'nido-2027'`, [f1.id]);
  await q(`insert into public.call_follows (family_id, call_id, following) select $1, id, true from public.calls where code = 'nido-2027'`, [f2.id]);
  // a broadcast in November: one read, one skipped (paused)
  const [b] = await q(`insert into public.broadcasts (source, texts, send_at, status, released_at) values ('api', '{"it":"x"}', '2026-11-18T10:00:00Z', 'done', '2026-11-18T10:00:00Z') returning id`);
  const [o] = await q(`insert into public.outbox (idempotency_key, contact_id, channel, kind, payload, status, delivery_status, sent_at) values ('b1', $1, 'whatsapp', 'broadcast', '{"text":"x"}', 'sent', 'read', '2026-11-18T10:00:01Z') returning id::text as id`, [f1.contact]);
  await q(`insert into public.broadcast_recipients (broadcast_id, contact_id, channel, language, text_language, outbox_id) values ($1, $2, 'whatsapp', 'ar', 'it', $3::bigint)`, [b!.id, f1.contact, o!.id]);
  await q(`insert into public.broadcast_recipients (broadcast_id, contact_id, channel, language, text_language, skipped) values ($1, $2, 'whatsapp', 'ar', 'it', 'paused')`, [b!.id, f2.contact]);
  // another, cancelled while it was being sent: one message had left, one was held (no template), one not yet sent
  const [b2] = await q(`insert into public.broadcasts (source, texts, send_at, status, released_at, cancelled_at) values ('api', '{"it":"y"}', '2026-11-19T10:00:00Z', 'cancelled', '2026-11-19T10:00:00Z', '2026-11-19T10:05:00Z') returning id`);
  for (const [contact, lng, status] of [[f3.contact, 'it', 'sent'], [f2.contact, 'ar', 'held'], [f1.contact, 'ar', 'cancelled']] as const) {
    const [o2] = await q(`insert into public.outbox (idempotency_key, contact_id, channel, kind, payload, status, error_kind) values ($1, $2, 'whatsapp', 'broadcast', '{"text":"y"}', $3, $4) returning id::text as id`,
      [`b2:${contact}`, contact, status, status === 'held' ? 'no_template' : null]);
    await q(`insert into public.broadcast_recipients (broadcast_id, contact_id, channel, language, text_language, outbox_id) values ($1, $2, 'whatsapp', $3, 'it', $4::bigint)`, [b2!.id, contact, lng, o2!.id]);
  }
  // and one cancelled before its time: never released, it counts nowhere
  await q(`insert into public.broadcasts (source, texts, send_at, status, cancelled_at) values ('api', '{"it":"z"}', '2026-11-25T10:00:00Z', 'cancelled', '2026-11-20T10:00:00Z')`);
  return { tutor: `T-${t1!.ref}` };
}

describe('the programme report', () => {
  let t: TestDb;
  let report: ProgrammeReport;
  let tutor: string;
  beforeAll(async () => {
    t = await pgliteDb();
    tutor = (await seedFixture(t)).tutor;
    const { data, error } = await t.db.rpc('programme_report', { p_from: '2026-11-01', p_to: '2026-11-30', p_now: '2026-11-23T10:00:00Z' });
    expect(error).toBeNull();
    report = data as ProgrammeReport;
  });
  afterAll(() => t.close());

  it('counts families and children followed, by language, district, tutor and channel, and the new ones', () => {
    expect(report.families).toEqual({ total: 3, new: 2, by_language: { ar: 2, it: 1 }, by_district: { 'milano-1': 2, 'milano-2': 1 }, by_tutor: { [tutor]: 2, queue: 1 }, by_channel: { whatsapp: 3 } });
    expect(report.children).toMatchObject({ total: 4, new: 3, by_language: { ar: 3, it: 1 }, by_tutor: { [tutor]: 3, queue: 1 }, by_channel: { whatsapp: 4 } });
  });

  it('counts reminders sent and confirmed done, and mandatory vaccinations overdue', () => {
    expect(report.reminders).toMatchObject({ sent: 3, done: 2, mandatory_overdue: 2, children_mandatory_overdue: 1 });
    const week = (d: string) => report.reminders.weekly.find((w) => w.week === d);
    expect(week('2026-11-02')).toEqual({ week: '2026-11-02', sent: 1, done: 1 });
    expect(week('2026-11-09')).toEqual({ week: '2026-11-09', sent: 1, done: 1 });
    expect(week('2026-11-16')).toEqual({ week: '2026-11-16', sent: 1, done: 0 });
  });

  it('counts needs by area and urgency with the median times to take charge and to resolve', () => {
    expect(report.needs.total).toBe(3);
    expect(report.needs.by_area).toEqual({
      health: { total: 2, urgent: 1, taken: 2, resolved: 1, median_take_hours: 3, median_resolve_hours: 24 },
      housing: { total: 1, urgent: 0, taken: 1, resolved: 1, median_take_hours: 10, median_resolve_hours: 48 },
    });
    expect(report.needs.by_urgency).toEqual({
      urgent: { total: 1, taken: 1, resolved: 1, median_take_hours: 2, median_resolve_hours: 24 },
      normal: { total: 2, taken: 2, resolved: 1, median_take_hours: 7, median_resolve_hours: 48 },
    });
    expect(report.needs.weekly.find((w) => w.week === '2026-11-02')!.areas).toEqual({ health: 2 });
    // week by week: the week's needs taken in charge (2 h and 4 h) and resolved (24 h)
    expect(report.needs.weekly.find((w) => w.week === '2026-11-02')).toMatchObject({ taken: 2, resolved: 1, median_take_hours: 3, median_resolve_hours: 24 });
    expect(report.needs.weekly.find((w) => w.week === '2026-11-09')).toMatchObject({ taken: 1, resolved: 1, median_take_hours: 10, median_resolve_hours: 48 });
    expect(report.needs.weekly.find((w) => w.week === '2026-11-16')).toMatchObject({ taken: 0, resolved: 0, median_take_hours: null });
  });

  it('counts questions answered vs forwarded, calls followed and applied, broadcasts and their delivery', () => {
    expect(report.questions).toEqual({ answered: 3, helped: 2, forwarded: 1 });
    expect(report.calls).toEqual({ following: 2, applied: 1, by_kind: { nido: { following: 2, applied: 1 } } });
    // a broadcast cancelled while sending counts (its message that left did leave); only messages that left count as sent
    // or as "got the Italian text": the held and the cancelled Arabic speakers did not get it
    expect(report.broadcasts).toEqual({ total: 2, recipients: 5, queued: 4, sent: 2, delivered: 1, read: 1, failed: 0, held: 1, cancelled: 1, waiting: 0, skipped: 1, fallback: 1 });
  });

  it('renders Markdown with Unicode-bar charts and CSV, with no personal data and every small figure as "<5"', () => {
    const md = renderReport(publicFigures(report), 'md');
    expect(md).toContain('# Programme report, 2026-11-01 to 2026-11-30');
    expect(md).toContain('| ar | <5 |  |');
    expect(md).toMatch(/health\s+[·░]*░[·░]*\s+<5/);
    expect(md).toContain('2026-11-02  sent    <5 ');
    const csv = renderReport(publicFigures(report), 'csv');
    expect(csv.split('\n')[0]).toBe('section,breakdown,key,measure,value');
    // two needs taken in charge: their median describes fewer than five and is not given
    expect(csv).toContain('needs,area,health,median_take_hours,\n');
    expect(csv).toContain('reminders,all,,mandatory_overdue,<5');
    for (const personal of ['Amira', 'Yusuf', 'Leila', 'Giulia', '+39333']) {
      expect(md).not.toContain(personal);
      expect(csv).not.toContain(personal);
    }
  });

  it('draws bars and sparklines to scale, and reads the period', () => {
    expect(bar(0, 10)).toBe('');
    expect(bar(10, 10, 4)).toBe('████');
    expect(bar(5, 10, 4)).toBe('██');
    expect(sparkline([0, 1, 4, 8])).toBe('·▁▄█');
    const now = new Date('2026-11-23T10:00:00+01:00');
    expect(periodOf(undefined, undefined, now)).toEqual({ from: '2026-11-01', to: '2026-11-23' });
    expect(periodOf('2026-11-30', '2026-11-01', now)).toEqual({ error: 'from must not be after to' });
    expect(periodOf('2026-02-30', undefined, now)).toHaveProperty('error');
  });
});

/** A report whose every count of people is `n` (and every median 7.5 hours), as programme_report would answer it. */
function uniform(n: number): ProgrammeReport {
  const who = { total: n, new: n, by_language: { ar: n }, by_district: { 'milano-1': n }, by_tutor: { 'T-1': n, queue: n }, by_channel: { telegram: n } };
  const timed = { total: n, taken: n, resolved: n, median_take_hours: 7.5, median_resolve_hours: 30 };
  return {
    period: { from: '2026-11-01', to: '2026-11-30' },
    families: who,
    children: { ...who, by_language: { ...who.by_language } },
    reminders: { sent: n, done: n, mandatory_overdue: n, children_mandatory_overdue: n, weekly: [{ week: '2026-10-26', sent: n, done: n }] },
    needs: { total: n, by_area: { health: { ...timed, urgent: n } }, by_urgency: { urgent: timed }, weekly: [{ week: '2026-10-26', areas: { health: n }, taken: n, resolved: n, median_take_hours: 7.5, median_resolve_hours: 30 }] },
    questions: { answered: n, helped: n, forwarded: n },
    calls: { following: n, applied: n, by_kind: { nido: { following: n, applied: n } } },
    broadcasts: { total: n, recipients: n, queued: n, sent: n, delivered: n, read: n, failed: n, held: n, cancelled: n, waiting: n, skipped: n, fallback: n },
  };
}

/** Every figure of a report, by its path, but the period, the weeks and the medians (checked on their own). */
function figures(value: unknown, path = ''): [string, unknown][] {
  if (value === null || typeof value !== 'object') return [[path, value]];
  return Object.entries(value).flatMap(([k, v]) => (['period', 'week', 'median_take_hours', 'median_resolve_hours'].includes(k) ? [] : figures(v, path ? `${path}.${k}` : k)));
}

describe('publicFigures: what every programme output shows', () => {
  it.each([
    [0, 0], [1, '<5'], [2, '<5'], [3, '<5'], [4, '<5'], [5, 5], [6, 6], [1234, 1234],
  ] as [number, Cell][])('shows %s people as %s, in every count and every breakdown', (n, shown) => {
    const all = figures(publicFigures(uniform(n)));
    // each of the 50 figures is there, none dropped, none added
    expect(all.map(([path]) => path).sort()).toEqual(figures(uniform(n)).map(([path]) => path).sort());
    expect(all).toHaveLength(50);
    // the number of broadcasts counts notices, not people: it stays as it is
    expect(all.filter(([path]) => path !== 'broadcasts.total').filter(([, v]) => v !== shown)).toEqual([]);
    expect(all.find(([path]) => path === 'broadcasts.total')).toEqual(['broadcasts.total', n]);
  });

  it.each([
    { taken: 4, resolved: 9, take: null, resolve: 30 },
    { taken: 5, resolved: 4, take: 7.5, resolve: null },
    { taken: 1, resolved: 1, take: null, resolve: null },
    { taken: 12, resolved: 7, take: 7.5, resolve: 30 },
  ])('gives a median only over five needs or more: $taken taken in charge → $take, $resolved resolved → $resolve', ({ taken, resolved, take, resolve }) => {
    const r = uniform(20);
    r.needs.by_area.health = { total: 20, urgent: 2, taken, resolved, median_take_hours: 7.5, median_resolve_hours: 30 };
    const shown = publicFigures(r).needs.by_area.health!;
    expect(shown).toEqual({ total: 20, urgent: '<5', taken: taken < 5 ? '<5' : taken, resolved: resolved < 5 ? '<5' : resolved, median_take_hours: take, median_resolve_hours: resolve });
  });

  it('leaves the exact report untouched and serialises to plain JSON', () => {
    const r = uniform(3);
    const shown = publicFigures(r);
    expect(r.families.by_district['milano-1']).toBe(3);
    expect(JSON.parse(JSON.stringify(shown))).toEqual(shown);
  });
});

describe('the Markdown and CSV report (npm run report, GET /api/report)', () => {
  const r = uniform(0);
  r.families = { total: 18, new: 6, by_language: { ar: 11, bn: 7 }, by_district: { 'milano-1': 9, 'milano-2': 6, 'milano-9': 3 }, by_tutor: { 'T-1': 14, queue: 4 }, by_channel: { telegram: 15, whatsapp: 3 } };
  const wk = (week: string, areas: Record<string, number>) => ({ week, areas, taken: 0, resolved: 0, median_take_hours: null, median_resolve_hours: null });
  r.needs.weekly = [wk('2026-11-02', { health: 8 }), wk('2026-11-09', { health: 2 }), wk('2026-11-16', {})];
  r.needs.by_area = { health: { total: 10, urgent: 3, taken: 9, resolved: 4, median_take_hours: 6, median_resolve_hours: 50 } };
  r.questions = { answered: 30, helped: 12, forwarded: 3 };

  it('shows a district with 3 families as "<5", never as 3, and draws no bar for it', () => {
    const md = renderReport(publicFigures(r), 'md');
    expect(md).toContain(`| milano-1 | 9 | ${bar(9, 9)} |`);
    expect(md).toContain(`| milano-2 | 6 | ${bar(6, 9)} |`);
    expect(md).toContain('| milano-9 | <5 |  |');
    expect(md).not.toMatch(/milano-9 \| 3/);
    expect(md).toContain('| queue | <5 |  |');
    // a week with 2 needs is ░, the area's total is shown, the median over 4 resolved needs is not; the share of
    // questions answered automatically would give the 3 forwarded back
    expect(md).toMatch(/health\s+█░·\s+10/);
    expect(md).toContain('| health | 10 | <5 | 9 | <5 | 6 h | – |');
    expect(md).toContain('answered automatically: –');

    const csv = renderReport(publicFigures(r), 'csv');
    expect(csv).toContain('families,district,milano-9,total,<5\n');
    expect(csv).not.toContain('families,district,milano-9,total,3');
    // no count of people anywhere from 1 to 4 (the number of broadcasts and the medians are not counts of people)
    const small = csv.split('\n').filter((line) => /,[1-4]$/.test(line) && !/^broadcasts,all,,total,|,median_/.test(line));
    expect(small).toEqual([]);
  });
});
