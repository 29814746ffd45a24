import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bar, periodOf, renderReport, sparkline, type ProgrammeReport } from '../../../bot/features/programme/report';
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

  it('counts families and children followed, by language, district and tutor, and the new ones', () => {
    expect(report.families).toEqual({ total: 3, new: 2, by_language: { ar: 2, it: 1 }, by_district: { 'milano-1': 2, 'milano-2': 1 }, by_tutor: { [tutor]: 2, queue: 1 } });
    expect(report.children).toMatchObject({ total: 4, new: 3, by_language: { ar: 3, it: 1 }, by_tutor: { [tutor]: 3, queue: 1 } });
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
  });

  it('counts questions answered vs forwarded, calls followed and applied, broadcasts and their delivery', () => {
    expect(report.questions).toEqual({ answered: 3, helped: 2, forwarded: 1 });
    expect(report.calls).toEqual({ following: 2, applied: 1, by_kind: { nido: { following: 2, applied: 1 } } });
    expect(report.broadcasts).toEqual({ total: 1, recipients: 2, sent: 1, delivered: 1, read: 1, failed: 0, skipped: 1 });
  });

  it('renders Markdown with Unicode-bar charts and CSV, with no personal data', () => {
    const md = renderReport(report, 'md');
    expect(md).toContain('# Programme report, 2026-11-01 to 2026-11-30');
    expect(md).toContain(`| ar | 2 | ${bar(2, 2)} |`);
    expect(md).toMatch(/health\s+[·▁-█]+\s+2/);
    expect(md).toContain('2026-11-02  sent     1 ');
    const csv = renderReport(report, 'csv');
    expect(csv.split('\n')[0]).toBe('section,breakdown,key,measure,value');
    expect(csv).toContain('needs,area,health,median_take_hours,3');
    expect(csv).toContain('reminders,all,,mandatory_overdue,2');
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
