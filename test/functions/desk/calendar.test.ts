import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planPending } from '../../../bot/features/care/job';
import { pgliteDb, type TestDb } from '../../support/door';
import { DESK_PUBLIC_URL, deskRig, type DeskRig } from '../../support/desk';
import { makeStaff } from '../../support/chat';
import { familyWithChild } from '../../support/families';

const NOW = '2026-11-23T10:00:00+01:00';
const TODAY = '2026-11-23';
/** pcv-2 as seeded, as the form shows it */
const PCV2 = {
  kind: 'vaccine', group_key: 'pcv', dose: '2', name_it: 'Pneumococco coniugato, 2ª dose', region: 'lombardia', offset_months: '0', offset_days: '121',
  window_days: '30', min_gap_days: '', verified: 'yes', source: 'PNPV 2023–2025; DGR Lombardia XII/3030', checked_on: '2026-11-23', active: 'yes',
};

describe('the desk\'s care calendar: list and form, by the import\'s rules, re-planning as the import does', () => {
  let t: TestDb;
  let close: () => Promise<void>;
  let get: DeskRig['get'];
  let post: DeskRig['post'];
  let session: DeskRig['session'];

  beforeEach(async () => {
    t = await pgliteDb();
    const rig = await deskRig(t, NOW);
    ({ close, get, post, session } = rig);
    await makeStaff(t, 'coordinator', 'Marco Rossi', '500');
  });
  afterEach(async () => {
    await close();
    await t.close();
  });

  const item = async (code: string) => (await t.sql.query<{ offset_days: number; window_days: number; mandatory: boolean; active: boolean }>(
    `select offset_days, window_days, mandatory, active from public.care_items where code = $1`, [code]))[0];
  const plan = (code: string) => t.sql.query<{ due_on: string; window_end: string }>(`select due_on::text, window_end::text from public.child_plan where item_code = $1`, [code]);
  const audit = () => t.sql.query<{ action: string; staff: string | null; details: Record<string, unknown> }>(
    `select a.action, s.full_name as staff, a.details from public.audit_log a left join public.staff s on s.id = a.staff_id where a.action in ('desk.calendar_saved', 'calendar.imported') order by a.id`);

  it('lists the seeded calendar by kind, each row with when, window, mandatory and check, in the menu', async () => {
    const s = await session();
    const html = await (await get('/desk/calendar', s.cookie)).text();
    expect(html).toMatch(/<a href="\/desk\/calendar" aria-current="page">Care calendar<\/a>/);
    const hexa = /<tr>\s*<th scope="row">Esavalente \(DTaP-IPV-HBV-Hib\), 1ª dose<br><span class="code">hexa-1<\/span><\/th>([\s\S]*?)<\/tr>/.exec(html)![1]!;
    expect(hexa).toContain('<td>61 days from birth</td>');
    expect(hexa).toContain('<td>30 days</td>');
    expect(hexa).toContain('<td>Yes</td>');
    expect(hexa).toContain('<td>Verified on 23 November 2026</td>');
    expect(hexa).toContain('<a href="/desk/calendar/hexa-1">Edit');
    expect(/<section aria-labelledby="calendar-vaccine">[\s\S]*?<\/section>/.exec(html)![0]).toContain('pcv-2');
  });

  it('saves a new offset from the form, audited, and every child\'s plan moves at the next planning run', async () => {
    await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-10-01' });
    await planPending(t.db, TODAY, new Date(NOW).toISOString());
    expect(await plan('pcv-2')).toEqual([{ due_on: '2027-01-30', window_end: '2027-03-01' }]);

    const s = await session();
    const form = await (await get('/desk/calendar/pcv-2', s.cookie)).text();
    expect(form).toMatch(/<input type="text" id="f-offset_days" name="offset_days" value="121"/);
    expect(form).toMatch(/<input type="text" id="f-code" name="code" value="pcv-2" readonly/);
    const res = await post('/desk/calendar/pcv-2', s, { ...PCV2, code: 'something-else', offset_days: '151' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/desk/calendar?saved=pcv-2');
    expect(await (await get('/desk/calendar?saved=pcv-2', s.cookie)).text()).toContain('<p class="done" role="status">Row pcv-2 saved: the children');
    expect(await item('pcv-2')).toEqual({ offset_days: 151, window_days: 30, mandatory: false, active: true });
    expect(await item('something-else')).toBeUndefined();
    expect(await audit()).toEqual([
      { action: 'calendar.imported', staff: null, details: { rows: 1, changed: 1 } },
      { action: 'desk.calendar_saved', staff: 'Marco Rossi', details: { code: 'pcv-2', added: false, changed: ['offset_days'] } },
    ]);

    // the reminders' next run plans her child again: the dose is due a month later
    await planPending(t.db, TODAY, new Date(NOW).toISOString());
    expect(await plan('pcv-2')).toEqual([{ due_on: '2027-03-01', window_end: '2027-03-31' }]);
  });

  it('saves an unchanged form without re-planning anyone', async () => {
    await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-10-01' });
    await planPending(t.db, TODAY, new Date(NOW).toISOString());
    const s = await session();
    const res = await post('/desk/calendar/pcv-2', s, PCV2);
    expect(res.headers.get('location')).toBe('/desk/calendar?unchanged=pcv-2');
    expect(await t.sql.query(`select count(*)::int as n from public.children where planned_for is null`)).toEqual([{ n: 0 }]);
  });

  it('adds a row, and a row with a code already used is refused beside the code', async () => {
    const s = await session();
    const added = await post('/desk/calendar/new', s, { ...PCV2, code: 'pcv-4', dose: '4', name_it: 'Pneumococco, richiamo', offset_days: '400' });
    expect(added.status).toBe(303);
    expect(added.headers.get('location')).toBe('/desk/calendar?added=pcv-4');
    expect(await item('pcv-4')).toEqual({ offset_days: 400, window_days: 30, mandatory: false, active: true });
    const again = await post('/desk/calendar/new', s, { ...PCV2, code: 'pcv-4', offset_days: '500' });
    expect(again.status).toBe(422);
    expect(await again.text()).toContain('<p class="field-error" id="f-code-error">There is already a row with code pcv-4.</p>');
    expect((await item('pcv-4'))!.offset_days).toBe(400);
  });

  it.each([
    ['group_key', { group_key: 'PCV!' }, 'The group “PCV!” must be 2 to 30 lowercase letters, digits or _.'],
    ['dose', { dose: '10' }, 'The dose “10” must be 1 to 9.'],
    ['offset_days', { offset_days: '12.5' }, '“12.5” is not a whole number of days'],
    ['window_days', { window_days: '900' }, 'The window “900” must be 0 to 730 days.'],
    ['min_gap_days', { min_gap_days: '0' }, '“0” must be empty or a positive number of days.'],
    ['source', { source: '  ' }, 'The source is required'],
    ['checked_on', { checked_on: '2026-02-30' }, '“2026-02-30” is not a date.'],
    ['kind', { kind: 'bath' }, 'Choose a kind from the list.'],
  ])('refuses a bad %s with 422, the error beside the field and her values kept, nothing changed or re-planned', async (field, change, error) => {
    await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-10-01' });
    await planPending(t.db, TODAY, new Date(NOW).toISOString());
    const s = await session();
    const res = await post('/desk/calendar/pcv-2', s, { ...PCV2, offset_days: '151', ...change });
    expect(res.status).toBe(422);
    const html = await res.text();
    const block = new RegExp(`<div class="field">\\s*<label for="f-${field}">[\\s\\S]*?</div>`).exec(html)![0];
    expect(block).toContain('aria-invalid="true"');
    expect(block).toContain(`<p class="field-error" id="f-${field}-error">${error}`);
    expect(html).toContain(`<a href="#f-${field}">`);
    expect(html).toMatch(/<input type="text" id="f-name_it" name="name_it" value="Pneumococco coniugato, 2ª dose"/);
    expect((await item('pcv-2'))!.offset_days).toBe(121);
    expect(await t.sql.query(`select count(*)::int as n from public.children where planned_for is null`)).toEqual([{ n: 0 }]);
    expect(await audit()).toEqual([]);
  });

  it.each([
    ['without the CSRF token', undefined, DESK_PUBLIC_URL],
    ['with another token', 'A'.repeat(43), DESK_PUBLIC_URL],
    ['from another origin', 'own', 'http://evil.example'],
  ] as const)('refuses an edit or a new row posted %s with 403, and changes nothing', async (_what, token, origin) => {
    const s = await session();
    const asked = { cookie: s.cookie, csrf: token === 'own' ? s.csrf : token };
    expect((await post('/desk/calendar/pcv-2', asked, { ...PCV2, offset_days: '151' }, { origin })).status).toBe(403);
    expect((await post('/desk/calendar/new', asked, { ...PCV2, code: 'pcv-9' }, { origin })).status).toBe(403);
    expect((await item('pcv-2'))!.offset_days).toBe(121);
    expect(await item('pcv-9')).toBeUndefined();
    expect(await audit()).toEqual([]);
  });

  it('lets only an active coordinator save a calendar row in the database (42501 for a tutor)', async () => {
    const tutor = await makeStaff(t, 'tutor', 'Eva Verdi', '501');
    const { error } = await t.db.rpc('desk_calendar_save', { p_staff_id: tutor, p_item: { code: 'pcv-2', kind: 'vaccine', group_key: 'pcv', dose: 2, name_it: 'x', region: 'lombardia', offset_months: 0, offset_days: 1, window_days: 1, min_gap_days: null, mandatory: false, verified: true, source: 'x', checked_on: TODAY, active: true }, p_now: NOW });
    expect(error?.code).toBe('42501');
    expect((await item('pcv-2'))!.offset_days).toBe(121);
  });
});

describe('the desk\'s care calendar: a CSV uploaded', () => {
  let t: TestDb;
  let close: () => Promise<void>;
  let base: string;
  let get: DeskRig['get'];
  let session: DeskRig['session'];

  beforeEach(async () => {
    t = await pgliteDb();
    const rig = await deskRig(t, NOW);
    ({ close, get, session, base } = rig);
    await makeStaff(t, 'coordinator', 'Marco Rossi', '500');
    await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-10-01' });
    await planPending(t.db, TODAY, new Date(NOW).toISOString());
  });
  afterEach(async () => {
    await close();
    await t.close();
  });

  const HEADER = 'code,kind,group_key,dose,name_it,region,offset_months,offset_days,window_days,min_gap_days,mandatory,verified,source,checked_on,active';
  const PCV2_LATER = 'pcv-2,vaccine,pcv,2,"Pneumococco coniugato, 2ª dose",lombardia,0,151,30,,no,yes,"PNPV 2023–2025; DGR Lombardia XII/3030",2026-11-23,yes';
  const PCV4 = 'pcv-4,vaccine,pcv,4,"Pneumococco, richiamo",lombardia,0,400,30,,no,yes,PNPV 2023–2025,2026-11-23,yes';
  const upload = (s: { cookie: string; csrf?: string }, csv: string) => {
    const body = new FormData();
    if (s.csrf) body.set('csrf', s.csrf);
    body.set('file', new Blob([csv], { type: 'text/csv' }), 'calendar.csv');
    return fetch(`${base}/desk/calendar/import`, { method: 'POST', redirect: 'manual', headers: { cookie: s.cookie, origin: DESK_PUBLIC_URL }, body });
  };
  const offset = async (code: string) => (await t.sql.query<{ offset_days: number }>(`select offset_days from public.care_items where code = $1`, [code]))[0]?.offset_days;
  const plan = (code: string) => t.sql.query<{ due_on: string }>(`select due_on::text from public.child_plan where item_code = $1`, [code]);
  const replanned = async () => (await t.sql.query<{ n: number }>(`select count(*)::int as n from public.children where planned_for is null`))[0]!.n;
  const audit = () => t.sql.query<{ action: string; staff: string | null; details: Record<string, unknown> }>(
    `select a.action, s.full_name as staff, a.details from public.audit_log a left join public.staff s on s.id = a.staff_id where a.action in ('desk.calendar_imported', 'calendar.imported') order by a.id`);

  it('imports nothing from a CSV with one bad line, and lists each bad line with its reason beside the upload; nobody is re-planned', async () => {
    const s = await session();
    const res = await upload(s, `${HEADER}\n${PCV2_LATER}\n${PCV4}\npcv-5,vaccine,pcv,10,Pneumococco,lombardia,0,500,30,,no,yes,PNPV,2026-11-23,yes\n`);
    expect(res.status).toBe(422);
    const html = await res.text();
    const report = /<div class="field-error" id="import-error">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '';
    expect(report).toContain('Nothing was imported');
    const items = [...report.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => m[1]);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatch(/^<strong>line 4<\/strong>: .*dose/);
    expect(html).toMatch(/<input type="file" id="import-file" name="file"[^>]*aria-invalid="true" aria-describedby="import-error">/);
    expect(await offset('pcv-2')).toBe(121);
    expect(await offset('pcv-4')).toBeUndefined();
    expect(await replanned()).toBe(0);
    expect(await audit()).toEqual([]);
  });

  it('imports a good CSV in one go, audited with who uploaded it, and the child\'s plan moves at the next planning run', async () => {
    expect(await plan('pcv-2')).toEqual([{ due_on: '2027-01-30' }]);
    const s = await session();
    const res = await upload(s, `${HEADER}\n${PCV2_LATER}\n${PCV4}\n`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/desk/calendar?imported_added=1&imported_updated=1');
    expect(await (await get(res.headers.get('location')!, s.cookie)).text()).toContain('File imported: 1 rows added, 1 changed: the children');
    expect(await offset('pcv-2')).toBe(151);
    expect(await offset('pcv-4')).toBe(400);
    expect(await audit()).toEqual([
      { action: 'calendar.imported', staff: null, details: { rows: 2, changed: 2 } },
      { action: 'desk.calendar_imported', staff: 'Marco Rossi', details: { rows: 2, added: 1, updated: 1 } },
    ]);
    await planPending(t.db, TODAY, new Date(NOW).toISOString());
    expect(await plan('pcv-2')).toEqual([{ due_on: '2027-03-01' }]);
    expect(await plan('pcv-4')).toEqual([{ due_on: '2027-11-05' }]);
  });

  it('refuses an upload without the CSRF token: 403, nothing imported', async () => {
    const s = await session();
    const res = await upload({ cookie: s.cookie }, `${HEADER}\n${PCV2_LATER}\n`);
    expect(res.status).toBe(403);
    expect(await offset('pcv-2')).toBe(121);
    expect(await audit()).toEqual([]);
  });

  it('refuses a tutor calling desk_calendar_import directly (42501), and imports nothing', async () => {
    const contact = await makeStaff(t, 'tutor', 'Eva Verdi', '501');
    const [{ staff_id: tutor }] = await t.sql.query<{ staff_id: string }>(`select staff_id from public.contacts where id = $1`, [contact]) as [{ staff_id: string }];
    const { error } = await t.db.rpc('desk_calendar_import', { p_staff_id: tutor, p_items: [{ code: 'pcv-2', kind: 'vaccine', group_key: 'pcv', dose: 2, name_it: 'x', region: 'lombardia', offset_months: 0, offset_days: 1, window_days: 1, min_gap_days: null, mandatory: false, verified: true, source: 'x', checked_on: TODAY, active: true }], p_now: NOW });
    expect(error?.code).toBe('42501');
    expect(await offset('pcv-2')).toBe(121);
    expect(await audit()).toEqual([]);
  });
});

describe('the calendar words on the desk', () => {
  const words = (lang: 'it' | 'en') => (JSON.parse(readFileSync(`locales/desk/${lang}.json`, 'utf8')) as Record<string, Record<string, unknown>>).calendar!;
  const keys = (o: Record<string, unknown>, at = ''): string[] =>
    Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${at}${k}.`) : [`${at}${k}`.replace(/_(one|many|other)$/, '')]));

  it('has the same messages in Italian and English, a problem each for every one the form can find', () => {
    expect([...new Set(keys(words('en')))].sort()).toEqual([...new Set(keys(words('it')))].sort());
    for (const lang of ['it', 'en'] as const) expect(Object.keys(words(lang).problem as object).sort(), lang).toEqual(['checked', 'code', 'days', 'dose', 'flag', 'gap', 'group', 'kind', 'months', 'name', 'source', 'taken', 'window']);
  });
});
