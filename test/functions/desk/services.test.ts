import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pgliteDb, type TestDb } from '../../support/door';
import { DESK_PUBLIC_URL, deskRig, type DeskRig } from '../../support/desk';
import { coreDeps, i18n, makeStaff, person, texts } from '../../support/chat';
import { familyWithChild } from '../../support/families';

const en = i18n.t('en');
const NOW = '2026-11-23T10:00:00+01:00';
const INPS = 'INPS – contact center (bonus nido, Assegno Unico)';

describe('the desk\'s services: list and form, by the import\'s rules', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  let close: () => Promise<void>;
  let get: DeskRig['get'];
  let post: DeskRig['post'];
  let session: DeskRig['session'];

  beforeEach(async () => {
    t = await pgliteDb();
    const rig = await deskRig(t, NOW);
    ({ deps, close, get, post, session } = rig);
    await makeStaff(t, 'coordinator', 'Marco Rossi', '500');
  });
  afterEach(async () => {
    await close();
    await t.close();
  });

  const idOf = async (name: string) => (await t.sql.query<{ id: string }>(`select id from public.services where name = $1`, [name]))[0]!.id;
  const row = (name: string) => t.sql.query<{ name: string; phone: string | null; unverified: boolean; district_code: string | null; languages: string[]; active: boolean }>(
    `select name, phone, unverified, district_code, languages, active from public.services where name = $1`, [name]);
  const audit = () => t.sql.query<{ action: string; staff: string; target: string; details: Record<string, unknown> }>(
    `select a.action, s.full_name as staff, v.name as target, a.details from public.audit_log a join public.staff s on s.id = a.staff_id left join public.services v on v.id = a.target_id where a.action like 'desk.service%' order by a.id`);
  /** What a mother is shown after asking for help with documents. */
  const documentsServices = async () => {
    const mother = person(deps, { id: '1001' });
    await mother.tap('menu:help');
    await mother.tap('need:cat:documents');
    await mother.tap('need:noname');
    return texts(await mother.say('I need help with the Assegno Unico application')).find((r) => r.startsWith(en('needs.servicesHead'))) ?? '';
  };
  const INPS_FORM = { name: INPS, category: 'documents', district: '', address: '', hours: '', phone: '803 164', languages: 'it', source: 'INPS contact centre', active: 'yes' };

  it('lists the seeded services with area, district, phone and check, each with its form, in the menu', async () => {
    const s = await session();
    const html = await (await get('/desk/services', s.cookie)).text();
    expect(html).toMatch(/<a href="\/desk\/services" aria-current="page">Services<\/a>/);
    expect(html).toContain('(4 services)');
    const inps = new RegExp(`<tr>\\s*<th scope="row">${INPS.replace(/[()]/g, '\\$&')}</th>([\\s\\S]*?)</tr>`).exec(html)![1]!;
    expect(inps).toContain('<td>Documents and permits</td>');
    expect(inps).toContain('<td>The whole city</td>');
    expect(inps).toContain('<td>803 164</td>');
    expect(inps).toContain('<td>To be verified</td>');
    expect(inps).toContain(`<a href="/desk/services/${await idOf(INPS)}">Edit`);
  });

  it('saves an edited phone and the check from the form: audited, and the mother is shown the new number without "check with the service"', async () => {
    await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-01-10' });
    const before = await documentsServices();
    expect(before).toContain('803 164');
    expect(before).toContain('check with the service');

    const s = await session();
    const id = await idOf(INPS);
    const form = await (await get(`/desk/services/${id}`, s.cookie)).text();
    expect(form).toMatch(/<input type="text" id="f-phone" name="phone" value="803 164"/);
    expect(form).toMatch(/<input type="checkbox" id="f-unverified" name="unverified" value="yes" checked/);
    // the box "to be verified" unticked: not posted
    const res = await post(`/desk/services/${id}`, s, { ...INPS_FORM, phone: '06 164 164' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/desk/services?saved=${id}`);
    expect(await (await get(res.headers.get('location')!, s.cookie)).text()).toContain(`<p class="done" role="status">Service saved: ${INPS}.</p>`);
    expect(await row(INPS)).toEqual([{ name: INPS, phone: '06 164 164', unverified: false, district_code: null, languages: ['it'], active: true }]);
    expect(await audit()).toEqual([{ action: 'desk.service_saved', staff: 'Marco Rossi', target: INPS, details: { added: false, changed: ['phone', 'source', 'unverified'] } }]);

    deps.clock.set('2026-11-24T10:00:00+01:00');
    const after = await documentsServices();
    expect(after).toContain('06 164 164');
    expect(after).not.toContain('803 164');
    expect(after).not.toContain('check with the service');
  });

  it('adds a district\'s service, and an inactive one is not offered', async () => {
    const s = await session();
    const res = await post('/desk/services/new', s, { name: 'CAF Municipio 5', category: 'documents', district: 'milano-5', phone: '02 555 555', languages: 'it, ar', active: 'yes' });
    expect(res.status).toBe(303);
    expect(await row('CAF Municipio 5')).toEqual([{ name: 'CAF Municipio 5', phone: '02 555 555', unverified: false, district_code: 'milano-5', languages: ['it', 'ar'], active: true }]);
    const near = async () => (await t.db.rpc('services_near', { p_category: 'documents', p_district: 'milano-5', p_limit: 5 })).data as { name: string }[];
    expect((await near()).map((x) => x.name)).toEqual(['CAF Municipio 5', INPS]);
    const id = await idOf('CAF Municipio 5');
    // the box "active" unticked
    expect((await post(`/desk/services/${id}`, s, { name: 'CAF Municipio 5', category: 'documents', district: 'milano-5', phone: '02 555 555', languages: 'it, ar' })).status).toBe(303);
    expect((await near()).map((x) => x.name)).toEqual([INPS]);
    expect((await audit()).map((a) => a.details)).toEqual([{ added: true, changed: [] }, { added: false, changed: ['active'] }]);
  });

  it.each([
    ['name', { name: 'X' }, 'The name must be 2 to 160 characters.'],
    ['category', { category: 'food' }, 'Choose an area from the list.'],
    ['district', { district: 'milano-99' }, 'There is no district “milano-99”.'],
    ['languages', { languages: 'it, italiano' }, '“italiano” is not a two- or three-letter language code'],
    ['phone', { phone: 'call us' }, '“call us” is not a phone number.'],
    ['name', { name: '114 – Emergenza Infanzia (anche chat)' }, 'There is already a service with this name in this district.'],
  ])('refuses a bad %s with 422, the error beside the field and her values kept, nothing changed', async (field, change, error) => {
    const s = await session();
    const id = await idOf(INPS);
    const res = await post(`/desk/services/${id}`, s, { ...INPS_FORM, ...change });
    expect(res.status).toBe(422);
    const html = await res.text();
    const block = new RegExp(`<div class="field">\\s*<label for="f-${field}">[\\s\\S]*?</div>`).exec(html)![0];
    expect(block).toContain('aria-invalid="true"');
    expect(block).toContain(`<p class="field-error" id="f-${field}-error">${error}`);
    expect(html).toContain(`<a href="#f-${field}">`);
    expect(html).toMatch(/<input type="text" id="f-source" name="source" value="INPS contact centre"/);
    expect(await row(INPS)).toEqual([{ name: INPS, phone: '803 164', unverified: true, district_code: null, languages: ['it'], active: true }]);
    expect(await audit()).toEqual([]);
  });

  it.each([
    ['without the CSRF token', undefined, DESK_PUBLIC_URL],
    ['with another token', 'A'.repeat(43), DESK_PUBLIC_URL],
    ['from another origin', 'own', 'http://evil.example'],
  ] as const)('refuses an edit or a new service posted %s with 403, and changes nothing', async (_what, token, origin) => {
    const s = await session();
    const asked = { cookie: s.cookie, csrf: token === 'own' ? s.csrf : token };
    expect((await post(`/desk/services/${await idOf(INPS)}`, asked, { ...INPS_FORM, phone: '06 164 164' }, { origin })).status).toBe(403);
    expect((await post('/desk/services/new', asked, { ...INPS_FORM, name: 'Nuovo servizio' }, { origin })).status).toBe(403);
    expect((await row(INPS))[0]!.phone).toBe('803 164');
    expect(await row('Nuovo servizio')).toEqual([]);
    expect(await audit()).toEqual([]);
  });

  it('lets only an active coordinator save a service in the database (42501 for a tutor)', async () => {
    const tutor = await makeStaff(t, 'tutor', 'Eva Verdi', '501');
    const { error } = await t.db.rpc('desk_service_save', { p_staff_id: tutor, p_id: null, p_row: { name: 'Nuovo', category: 'other' }, p_now: NOW });
    expect(error?.code).toBe('42501');
    expect(await row('Nuovo')).toEqual([]);
  });
});

describe('the services words on the desk', () => {
  const words = (lang: 'it' | 'en') => (JSON.parse(readFileSync(`locales/desk/${lang}.json`, 'utf8')) as Record<string, Record<string, unknown>>).services!;
  const keys = (o: Record<string, unknown>, at = ''): string[] =>
    Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${at}${k}.`) : [`${at}${k}`.replace(/_(one|many|other)$/, '')]));

  it('has the same messages in Italian and English, a problem each for every one the form can find', () => {
    expect([...new Set(keys(words('en')))].sort()).toEqual([...new Set(keys(words('it')))].sort());
    for (const lang of ['it', 'en'] as const) expect(Object.keys(words(lang).problem as object).sort(), lang).toEqual(['category', 'district', 'flag', 'language', 'name', 'phone', 'taken']);
  });
});

describe('the desk\'s services: a CSV uploaded', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  let close: () => Promise<void>;
  let base: string;
  let get: DeskRig['get'];
  let session: DeskRig['session'];

  beforeEach(async () => {
    t = await pgliteDb();
    const rig = await deskRig(t, NOW);
    ({ deps, close, get, session, base } = rig);
    await makeStaff(t, 'coordinator', 'Marco Rossi', '500');
    await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-01-10' });
  });
  afterEach(async () => {
    await close();
    await t.close();
  });

  const HEADER = 'name,category,district,address,hours,phone,languages,unverified,source,active';
  const INPS_LINE = `"${INPS}",documents,,,,02 4000 1234,it,no,INPS contact centre,yes`;
  const NEW_LINE = 'CAF Acli Milano,documents,,Via della Signora 3,lun-ven 9-13,02 7723 1,it|en|ar,no,Acli,yes';
  const upload = (s: { cookie: string; csrf?: string }, csv: string) => {
    const body = new FormData();
    if (s.csrf) body.set('csrf', s.csrf);
    body.set('file', new Blob([csv], { type: 'text/csv' }), 'services.csv');
    return fetch(`${base}/desk/services/import`, { method: 'POST', redirect: 'manual', headers: { cookie: s.cookie, origin: DESK_PUBLIC_URL }, body });
  };
  const phones = () => t.sql.query<{ name: string; phone: string | null }>(`select name, phone from public.services order by name`);
  const audit = () => t.sql.query<{ action: string; staff: string; details: Record<string, unknown> }>(
    `select a.action, s.full_name as staff, a.details from public.audit_log a join public.staff s on s.id = a.staff_id where a.action = 'desk.services_imported' order by a.id`);
  const documentsServices = async () => {
    const mother = person(deps, { id: '1001' });
    await mother.tap('menu:help');
    await mother.tap('need:cat:documents');
    await mother.tap('need:noname');
    return texts(await mother.say('I need help with the Assegno Unico application')).find((r) => r.startsWith(en('needs.servicesHead'))) ?? '';
  };

  it('imports nothing from a CSV with one bad line, and lists each bad line with its reason beside the upload', async () => {
    const s = await session();
    const before = await phones();
    const res = await upload(s, `${HEADER}\n${INPS_LINE}\n${NEW_LINE}\nSportello X,documents,zz9,,,,it,no,,yes\n`);
    expect(res.status).toBe(422);
    const html = await res.text();
    const report = /<div class="field-error" id="import-error">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '';
    expect(report).toContain('Nothing was imported');
    const items = [...report.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => m[1]);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatch(/^<strong>line 4<\/strong>: district &quot;zz9&quot; is not known; known: /);
    expect(html).toMatch(/<input type="file" id="import-file" name="file"[^>]*aria-invalid="true" aria-describedby="import-error">/);
    expect(await phones()).toEqual(before);
    expect(await audit()).toEqual([]);
    expect(await documentsServices()).toContain('803 164');
  });

  it('imports a good CSV in one go, audited with who uploaded it; a mother asking for help is shown the new number', async () => {
    expect(await documentsServices()).toContain('803 164');
    const s = await session();
    const res = await upload(s, `${HEADER}\n${INPS_LINE}\n${NEW_LINE}\n`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/desk/services?created=1&updated=1');
    const list = await (await get(res.headers.get('location')!, s.cookie)).text();
    expect(list).toContain('File imported: 1 services added, 1 changed.');
    expect(list).toContain('<th scope="row">CAF Acli Milano</th>');
    expect((await phones()).filter((p) => p.name === INPS || p.name === 'CAF Acli Milano')).toEqual([
      { name: 'CAF Acli Milano', phone: '02 7723 1' },
      { name: INPS, phone: '02 4000 1234' },
    ]);
    expect(await audit()).toEqual([{ action: 'desk.services_imported', staff: 'Marco Rossi', details: { rows: 2, created: 1, updated: 1 } }]);
    const after = await documentsServices();
    expect(after).toContain('02 4000 1234');
    expect(after).not.toContain('803 164');
  });

  it('refuses an upload without the CSRF token: 403, nothing imported', async () => {
    const s = await session();
    const before = await phones();
    const res = await upload({ cookie: s.cookie }, `${HEADER}\n${INPS_LINE}\n`);
    expect(res.status).toBe(403);
    expect(await phones()).toEqual(before);
    expect(await audit()).toEqual([]);
  });

  it('refuses a tutor calling desk_services_import directly (42501), and imports nothing', async () => {
    const contact = await makeStaff(t, 'tutor', 'Eva Verdi', '501');
    const [{ staff_id: tutor }] = await t.sql.query<{ staff_id: string }>(`select staff_id from public.contacts where id = $1`, [contact]) as [{ staff_id: string }];
    const before = await phones();
    const { error } = await t.db.rpc('desk_services_import', { p_staff_id: tutor, p_rows: [{ name: 'X', category: 'documents' }], p_now: new Date(NOW).toISOString() });
    expect(error?.code).toBe('42501');
    expect(await phones()).toEqual(before);
    expect(await audit()).toEqual([]);
  });
});

