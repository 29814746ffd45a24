import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../bot/logger';
import { secretHash } from '../../../bot/features/desk/flow';
import { callsCsv, type DeskCall } from '../../../functions/desk/calls';
import { checkCallsCsv } from '../../../bot/features/calls/import';
import { calls } from '../../../bot/features/calls/job';
import { loadConfig } from '../../../bot/config';
import { pgliteDb, type TestDb } from '../../support/door';
import { choiceIds, coreDeps, i18n, makeStaff, person, texts } from '../../support/chat';
import { DESK_LINK, DESK_PUBLIC_URL, deskRig, type DeskRig, type Fields } from '../../support/desk';
import { familyWithChild } from '../../support/families';

const en = i18n.t('en');
/** 10 February 2027, 10:00 in Milan: the seeded nido call (3–24 February) is open */
const IN_WINDOW = '2027-02-10T10:00:00+01:00';
const HEADER = 'code,kind,title_it,opens_on,closes_on,districts,child_min_months,child_max_months,age_on,isee_max,residence,permit,documents,apply_how,apply_url,source,checked_on,unverified';

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const attr = (tag: string, name: string) => { const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag); return m ? unescape(m[1]!) : undefined; };

/** What a browser would post from the call form as shown: its inputs, ticked boxes and selected options. */
function formFields(html: string): Fields {
  const form = /<form method="post" action="\/desk\/calls\/[^"]*" class="form call-form"[\s\S]*?<\/form>/.exec(html)?.[0];
  if (!form) throw new Error('no call form on the page');
  const out: Fields = {};
  const add = (name: string, value: string) => { const had = out[name]; out[name] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value]; };
  for (const [tag] of form.matchAll(/<input\b[^>]*>/g)) {
    const name = attr(tag, 'name');
    if (!name || name === 'csrf') continue;
    if (attr(tag, 'type') === 'checkbox' && !/\schecked\b/.test(tag)) continue;
    add(name, attr(tag, 'value') ?? '');
  }
  for (const [, open, options] of form.matchAll(/(<select\b[^>]*>)([\s\S]*?)<\/select>/g)) {
    const selected = /<option value="([^"]*)" selected>/.exec(options!)?.[1];
    add(attr(open!, 'name')!, unescape(selected ?? /<option value="([^"]*)"/.exec(options!)?.[1] ?? ''));
  }
  return out;
}

/** The field's own block: its label, input, hint and error. */
const fieldBlock = (html: string, column: string) =>
  new RegExp(`<div class="field">\\s*<label for="f-${column}">[\\s\\S]*?</div>|<fieldset class="field" id="f-${column}"[\\s\\S]*?</fieldset>`).exec(html)?.[0] ?? '';

describe('the desk\'s calls: list, form, close, CSV upload', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  let base: string;
  let close: () => Promise<void>;
  let get: DeskRig['get'];
  let post: DeskRig['post'];
  let session: DeskRig['session'];

  beforeEach(async () => {
    t = await pgliteDb();
    const rig = await deskRig(t, IN_WINDOW);
    ({ deps, base, close, get, post, session } = rig);
    await makeStaff(t, 'coordinator', 'Marco Rossi', '500');
    await makeStaff(t, 'tutor', 'Eva Verdi', '501');
  });
  afterEach(async () => {
    await close();
    await t.close();
  });

  const upload = (s: { cookie: string; csrf: string }, csv: string | Uint8Array<ArrayBuffer>, name = 'calls.csv') => {
    const body = new FormData();
    body.set('csrf', s.csrf);
    body.set('file', new Blob([csv], { type: 'text/csv' }), name);
    return fetch(`${base}/desk/calls/import`, { method: 'POST', redirect: 'manual', headers: { cookie: s.cookie, origin: DESK_PUBLIC_URL }, body });
  };
  const storedCall = async (code: string) =>
    (await t.sql.query<{ closes_on: string | null; districts: string[]; closed_at: string | null; isee_max: string | null; updated_at: string }>(
      `select closes_on::text, districts, closed_at::text, isee_max::text, updated_at::text from public.calls where code = $1`, [code]))[0];
  const audit = async () => (await t.sql.query<{ action: string; staff: string | null; target_kind: string | null; code: string | null; details: Record<string, unknown> | null }>(
    `select a.action, s.full_name as staff, a.target_kind, c.code, a.details from public.audit_log a left join public.staff s on s.id = a.staff_id
      left join public.calls c on c.id = a.target_id order by a.id`));
  const deskAudit = async () => (await audit()).filter((a) => a.action.startsWith('desk.call') || a.action === 'call.closed');
  /** The mother's nido menu, as she sees it today. */
  const nidoMenu = async () => {
    const replies = await person(deps, { id: '1001' }).tap('menu:nido');
    return { text: texts(replies).join('\n'), choices: choiceIds(replies) };
  };
  /** The codes listed in one group of the list page. */
  const group = (html: string, state: 'open' | 'upcoming' | 'closed') =>
    [...(new RegExp(`<section aria-labelledby="calls-${state}">([\\s\\S]*?)</section>`).exec(html)?.[1] ?? '').matchAll(/<span class="code">([a-z0-9-]+)<\/span><\/th>/g)].map((m) => m[1]);

  it.each([
    ['before the nido window', '2026-12-01T10:00:00+01:00', { open: ['bonus-nido', 'nidi-gratis', 'doti', 'sat-milano', 'affitto-unica', 'morosita'], upcoming: ['nido-2027', 'primavera-2027'], closed: [] }],
    ['during it', IN_WINDOW, { open: ['nido-2027', 'primavera-2027', 'bonus-nido', 'nidi-gratis', 'doti', 'sat-milano', 'affitto-unica', 'morosita'], upcoming: [], closed: [] }],
    ['after it', '2027-03-01T10:00:00+01:00', { open: ['bonus-nido', 'nidi-gratis', 'doti', 'sat-milano', 'affitto-unica', 'morosita'], upcoming: [], closed: ['nido-2027', 'primavera-2027'] }],
  ])('lists the seeded calls as open, upcoming or closed %s, each with its dates, districts, check and form', async (_when, now, groups) => {
    deps.clock.set(now);
    const s = await session();
    const res = await get('/desk/calls', s.cookie);
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const state of ['open', 'upcoming', 'closed'] as const) expect(group(html, state).sort()).toEqual([...groups[state]].sort());
    expect(html).toMatch(/<a href="\/desk\/calls" aria-current="page">Calls<\/a>/);
    const nido = /<tr>\s*<th scope="row">Iscrizioni nidi d&#39;infanzia 2027\/28[\s\S]*?<\/tr>/.exec(html)?.[0];
    expect(nido).toContain('<td>Nido enrollment</td>');
    expect(nido).toContain('<td>3 February 2027</td>');
    expect(nido).toContain('<td>24 February 2027</td>');
    expect(nido).toContain('<td>The whole city</td>');
    expect(nido).toContain('To be verified (checked on 23 November 2026)');
    expect(nido).toContain('<a href="/desk/calls/nido-2027">Edit');
    expect(html).toContain('<a class="button" href="/desk/calls/new">New call</a>');
    expect(html).toMatch(/<form method="post" action="\/desk\/calls\/import" enctype="multipart\/form-data"[^>]*>\s*<input type="hidden" name="csrf" value="[^"]+">/);
  });

  it('saves a new closing date from the form, and the mother\'s nido menu shows it; the audit says who changed what', async () => {
    await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-04-10', name: 'Amir' });
    expect((await nidoMenu()).text).toContain(`• ${en('calls.kind.nido.name')}: ${en('calls.openUntil', { date: '24 February 2027' })}`);
    const s = await session();
    const form = await get('/desk/calls/nido-2027', s.cookie);
    expect(form.status).toBe(200);
    const html = await form.text();
    // every field is labelled, dates are date inputs, districts are boxes, the kind a list
    for (const [, id] of html.matchAll(/<(?:input|select)\b[^>]*\sid="([^"]+)"/g)) {
      if (id !== 'close-confirm') expect(html, id).toContain(`<label for="${id}">`);
    }
    for (const c of ['opens_on', 'closes_on', 'age_on', 'checked_on']) expect(html).toMatch(new RegExp(`<input type="date" id="f-${c}" name="${c}"`));
    expect(html).toMatch(/<input type="checkbox" id="f-districts-milano-2" name="districts" value="milano-2"[^>]*><label for="f-districts-milano-2">Municipio 2 [^<]*<span class="code">\(milano-2\)<\/span><\/label>/);
    expect(html).toMatch(/<select id="f-kind" name="kind" required>[\s\S]*<option value="nido" selected>/);
    const fields = formFields(html);
    expect(fields).toMatchObject({ code: 'nido-2027', kind: 'nido', opens_on: '2027-02-03', closes_on: '2027-02-24', child_min_months: '3', child_max_months: '36', residence: 'milan', unverified: 'yes' });
    expect(fields.documents).toEqual(['isee_minors', 'spid', 'codice_fiscale', 'id_document', 'vaccinations']);

    const saved = await post('/desk/calls/nido-2027', s, { ...fields, closes_on: '2027-02-28' });
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe('/desk/calls?saved=nido-2027');
    expect(await (await get(saved.headers.get('location')!, s.cookie)).text()).toContain('<p class="done" role="status">Call nido-2027 saved.</p>');
    expect((await storedCall('nido-2027'))!.closes_on).toBe('2027-02-28');
    expect((await nidoMenu()).text).toContain(`• ${en('calls.kind.nido.name')}: ${en('calls.openUntil', { date: '28 February 2027' })}`);
    expect(await deskAudit()).toEqual([
      { action: 'desk.call_saved', staff: 'Marco Rossi', target_kind: 'call', code: 'nido-2027', details: { code: 'nido-2027', added: false, reopened: false, changed: ['closes_on'] } },
    ]);

    // a closing date of yesterday: the call leaves her menu
    await post('/desk/calls/nido-2027', s, { ...fields, closes_on: '2027-02-09' });
    expect((await nidoMenu()).choices).not.toContain('call:show:nido-2027');
    expect(group(await (await get('/desk/calls', s.cookie)).text(), 'closed')).toEqual(['nido-2027']);
  });

  it('saves a form shown and posted unchanged as it was, an amount with cents included', async () => {
    const s = await session();
    const fields = formFields(await (await get('/desk/calls/affitto-unica', s.cookie)).text());
    expect(fields.isee_max).toBe('26000');
    expect((await post('/desk/calls/affitto-unica', s, { ...fields, isee_max: '26.000,50' })).status).toBe(303);
    expect((await storedCall('affitto-unica'))!.isee_max).toBe('26000.50');
    const again = formFields(await (await get('/desk/calls/affitto-unica', s.cookie)).text());
    expect(again.isee_max).toBe('26000,5');
    expect((await post('/desk/calls/affitto-unica', s, again)).status).toBe(303);
    expect((await storedCall('affitto-unica'))!.isee_max).toBe('26000.50');
    expect((await deskAudit()).map((a) => a.details!.changed)).toEqual([['isee_max'], []]);
    // the boxes are shown in one order for every call; the call keeps its own
    const [{ documents }] = await t.sql.query<{ documents: string[] }>(`select documents from public.calls where code = 'affitto-unica'`) as [{ documents: string[] }];
    expect(documents).toEqual(['isee', 'lease', 'id_document', 'permit']);
  });

  it.each([
    ['a date that does not exist', { closes_on: '2027-02-30' }, 'closes_on', '“2027-02-30” is not a date: write it as YYYY-MM-DD.', 'value="2027-02-30"'],
    ['a deadline before the opening', { closes_on: '2027-02-01' }, 'closes_on', 'The deadline (2027-02-01) comes before the opening (2027-02-03).', 'value="2027-02-01"'],
    ['an unknown district', { districts: ['milano-1', 'milano-99'] }, 'districts', 'Unknown districts: milano-99.', 'value="milano-99" checked'],
    ['an age range upside down', { child_min_months: '36', child_max_months: '3' }, 'child_max_months', 'The maximum age (3) must be above the minimum (36).', 'value="3"'],
    ['a link that is not https', { apply_url: 'http://www.comune.milano.it' }, 'apply_url', 'The link must start with https:// (you wrote “http://www.comune.milano.it”).', 'value="http://www.comune.milano.it"'],
    ['no source', { source: '' }, 'source', 'The source is required: where the call comes from.', 'value=""'],
  ])('refuses %s with 422, the error beside the field, her values kept, and nothing changed', async (_what, change, column, message, kept) => {
    const s = await session();
    const fields = formFields(await (await get('/desk/calls/nido-2027', s.cookie)).text());
    const before = await storedCall('nido-2027');
    const res = await post('/desk/calls/nido-2027', s, { ...fields, title_it: 'Titolo che non viene salvato', ...change });
    expect(res.status).toBe(422);
    const html = await res.text();
    const block = fieldBlock(html, column);
    expect(unescape(block.replace(/&#x2F;/g, '/'))).toContain(`<p class="field-error" id="f-${column}-error">${message}</p>`);
    expect(block).toMatch(new RegExp(`aria-describedby="[^"]*f-${column}-error"`));
    expect(block).toContain('aria-invalid="true"');
    expect(block).toContain(kept);
    // the summary names the field and links to it; the other values she typed are kept
    expect(html).toMatch(new RegExp(`<div class="error-summary" role="alert"[\\s\\S]*<a href="#f-${column}">`));
    expect(formFields(html).title_it).toBe('Titolo che non viene salvato');
    expect(await storedCall('nido-2027')).toEqual(before);
    expect(await deskAudit()).toEqual([]);
  });

  it('says the errors in Italian to a coordinator reading the desk in Italian', async () => {
    const s = await session('it');
    const fields = formFields(await (await get('/desk/calls/nido-2027', s.cookie)).text());
    const html = await (await post('/desk/calls/nido-2027', s, { ...fields, closes_on: '2027-02-30', districts: 'milano-99' })).text();
    expect(fieldBlock(html, 'closes_on')).toContain('«2027-02-30» non è una data: scrivila come AAAA-MM-GG.');
    expect(fieldBlock(html, 'districts')).toContain('Zone sconosciute: milano-99.');
    expect(html).toContain('Il bando non è stato salvato.');
  });

  it('adds a new call from the empty form, and refuses a code already taken', async () => {
    const s = await session();
    const blank = formFields(await (await get('/desk/calls/new', s.cookie)).text());
    expect(blank).toMatchObject({ code: '', kind: '', checked_on: '2027-02-10' });
    const call = {
      ...blank, code: 'sap-m8-2027', kind: 'sap', title_it: 'Avviso SAP Municipio 8', opens_on: '2027-02-01', closes_on: '2027-03-05', districts: ['milano-8'],
      isee_max: '16000', residence: 'lombardy', permit: 'sap', documents: ['id_document', 'permit', 'isee'], apply_how: ['online_spid', 'sicet'], source: 'Regione Lombardia',
    };
    const res = await post('/desk/calls/new', s, call);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/desk/calls?added=sap-m8-2027');
    const list = await (await get('/desk/calls?added=sap-m8-2027', s.cookie)).text();
    expect(list).toContain('Call sap-m8-2027 added.');
    expect(group(list, 'open')).toContain('sap-m8-2027');
    expect(await storedCall('sap-m8-2027')).toMatchObject({ closes_on: '2027-03-05', districts: ['milano-8'], isee_max: '16000.00' });

    const taken = await post('/desk/calls/new', s, { ...call, title_it: 'Un altro avviso' });
    expect(taken.status).toBe(422);
    expect(fieldBlock(await taken.text(), 'code')).toContain('There is already a call with code sap-m8-2027');
    expect((await deskAudit()).map((a) => [a.action, a.code, a.details!.added])).toEqual([['desk.call_saved', 'sap-m8-2027', true]]);
  });

  it('closes a call only with the box ticked: it leaves the mother\'s menu and its pending notices are not sent; saving reopens it', async () => {
    await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-04-10', name: 'Amir' });
    // at 09:00 the calls job queues her 'nido is open' notice, to be sent later
    await calls.run({ db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n }, new Date('2027-02-10T08:00:00Z'));
    const notices = () => t.sql.query<{ status: string }>(`select status from public.outbox where kind = 'call_notice' and payload->>'title' = $1`, [en('calls.kind.nido.name')]);
    expect(await notices()).toEqual([{ status: 'pending' }]);
    const s = await session();
    const page = await (await get('/desk/calls/nido-2027', s.cookie)).text();
    expect(page).toMatch(/<form method="post" action="\/desk\/calls\/nido-2027\/close" class="form">\s*<input type="hidden" name="csrf"[^>]*>\s*<p id="close-text">If you close the call/);
    expect(page).toContain('<label for="close-confirm">Yes, close call nido-2027</label>');

    const unticked = await post('/desk/calls/nido-2027/close', s, {});
    expect(unticked.status).toBe(422);
    expect(await unticked.text()).toContain('To close the call, tick the confirmation box.');
    expect((await storedCall('nido-2027'))!.closed_at).toBeNull();

    const closed = await post('/desk/calls/nido-2027/close', s, { confirm: 'yes' });
    expect(closed.status).toBe(303);
    expect(closed.headers.get('location')).toBe('/desk/calls?closed=nido-2027');
    expect((await storedCall('nido-2027'))!.closed_at).toBe('2027-02-10 09:00:00+00');
    expect((await nidoMenu()).choices).not.toContain('call:show:nido-2027');
    expect(await notices()).toEqual([{ status: 'cancelled' }]);
    const list = await (await get('/desk/calls?closed=nido-2027', s.cookie)).text();
    expect(list).toContain('Call nido-2027 closed: families no longer see it.');
    expect(group(list, 'closed')).toEqual(['nido-2027']);
    expect(list).toContain('Closed on 10 February 2027');

    const form = await (await get('/desk/calls/nido-2027', s.cookie)).text();
    expect(form).toContain('This call was closed on 10 February 2027: saving it makes it visible to families again.');
    expect(form).not.toContain('/close"');
    const reopened = await post('/desk/calls/nido-2027', s, formFields(form));
    expect(reopened.headers.get('location')).toBe('/desk/calls?reopened=nido-2027');
    expect((await nidoMenu()).choices).toContain('call:show:nido-2027');
    expect((await deskAudit()).map((a) => [a.action, a.staff, a.code, a.details?.reopened ?? null])).toEqual([
      ['call.closed', 'Marco Rossi', 'nido-2027', null],
      ['desk.call_saved', 'Marco Rossi', 'nido-2027', true],
    ]);
  });

  it.each([
    ['without the form token', 'none', 'ours'],
    ['with another session\'s token', 'other', 'ours'],
    ['from another site', 'own', 'evil'],
    ['with no origin at all', 'own', 'none'],
  ] as const)('refuses a save, a new call or a close posted %s with 403, and changes nothing', async (_what, token, origin) => {
    const s = await session();
    const fields = formFields(await (await get('/desk/calls/nido-2027', s.cookie)).text());
    const before = await storedCall('nido-2027');
    const asked = { cookie: s.cookie, csrf: token === 'own' ? s.csrf : token === 'other' ? 'A'.repeat(43) : undefined };
    const headers: Record<string, string> = origin === 'ours' ? { origin: DESK_PUBLIC_URL } : origin === 'evil' ? { origin: 'https://evil.example' } : {};
    expect((await post('/desk/calls/nido-2027', asked, { ...fields, closes_on: '2027-02-28' }, headers)).status).toBe(403);
    expect((await post('/desk/calls/nido-2027/close', asked, { confirm: 'yes' }, headers)).status).toBe(403);
    expect((await post('/desk/calls/new', asked, { ...fields, code: 'nuovo-2027' }, headers)).status).toBe(403);
    expect(await storedCall('nido-2027')).toEqual(before);
    expect(await storedCall('nuovo-2027')).toBeUndefined();
    expect(await deskAudit()).toEqual([]);
  });

  it('gives a tutor no way in: no link, no session, and the database refuses her a save', async () => {
    const [reply] = await person(deps, { id: '501' }).say('/desk');
    expect(reply!.text).not.toMatch(DESK_LINK);
    const [{ id: tutor }] = await t.sql.query<{ id: string }>(`select id from public.staff where full_name = 'Eva Verdi'`) as [{ id: string }];
    // a session planted for her (the desk never opens one) is not a session
    const planted = 't'.repeat(43);
    await t.sql.query(`insert into public.desk_sessions (token_hash, staff_id, created_at, expires_at) values ($1, $2, now(), now() + interval '10 years')`, [secretHash(planted), tutor]);
    expect((await get('/desk/calls', `desk=${planted}`)).status).toBe(401);
    expect((await post('/desk/calls/nido-2027', { cookie: `desk=${planted}`, csrf: 'x' }, { closes_on: '2027-02-28' })).status).toBe(401);
    const { error } = await t.db.rpc('desk_call_save', { p_staff_id: tutor, p_call: { code: 'nido-2027' }, p_now: '2027-02-10T09:00:00Z' });
    expect(error?.code).toBe('42501');
    expect((await t.db.rpc('calls_close', { p_staff_id: tutor, p_code: 'nido-2027', p_now: '2027-02-10T09:00:00Z' })).error?.code).toBe('42501');
    expect((await t.db.rpc('desk_calls_import', { p_staff_id: tutor, p_rows: [], p_now: '2027-02-10T09:00:00Z' })).error?.code).toBe('42501');
    expect((await storedCall('nido-2027'))!.closes_on).toBe('2027-02-24');
  });

  it('imports nothing from a CSV with one bad line, and lists each bad line with its reasons beside the upload', async () => {
    const s = await session();
    const csv = [HEADER,
      'sap-m8-2027,sap,Avviso SAP Municipio 8,2027-02-01,2027-03-05,milano-8,,,,16000,lombardy,sap,id_document|permit,online_spid,,Regione Lombardia,2027-01-20,no',
      'sap-m9-2027,sap,Avviso SAP Municipio 9,2027-02-30,2027-03-05,milano-99,,,,16000,lombardy,sap,id_document,online_spid,,Regione Lombardia,2027-01-20,no',
    ].join('\n');
    const res = await upload(s, csv);
    expect(res.status).toBe(422);
    const html = await res.text();
    const report = /<div class="field-error" id="import-error">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '';
    expect(report).toContain('No call was imported');
    expect(report).toContain('<li><strong>line 3</strong>: <code>opens_on</code>: “2027-02-30” is not a date: write it as YYYY-MM-DD.; <code>districts</code>: Unknown districts: milano-99.</li>');
    expect(report).not.toContain('line 2');
    expect(html).toMatch(/<input type="file" id="import-file" name="file"[^>]*aria-invalid="true" aria-describedby="import-error">/);
    expect(await storedCall('sap-m8-2027')).toBeUndefined();
    expect((await audit()).map((a) => a.action)).not.toContain('desk.calls_imported');

    // the header's own problems are said in the import's words
    const header = await upload(s, 'code,kind,title_it,deadline,source,checked_on\n');
    expect(header.status).toBe(422);
    expect(await header.text()).toContain('<li><strong>line 1</strong>: unknown column(s): deadline;');
  });

  it('imports a good CSV in one go, audited with who uploaded it, and reopens a closed call it edits', async () => {
    const s = await session();
    expect((await post('/desk/calls/doti/close', s, { confirm: 'yes' })).status).toBe(303);
    const csv = [HEADER,
      'sap-m8-2027,sap,Avviso SAP Municipio 8,2027-02-01,2027-03-05,milano-8,,,,"16.000 €",lombardy,sap,id_document|permit,online_spid,,Regione Lombardia,2027-01-20,no',
      'doti,dote,Doti per le famiglie del programma,,,,,,,,,,isee|id_document,tutor,,Programma,2027-02-01,no',
    ].join('\r\n');
    const res = await upload(s, csv);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/desk/calls?imported=2&added=1');
    expect(await (await get(res.headers.get('location')!, s.cookie)).text()).toContain('File imported: 1 calls added, 1 changed.');
    expect(await storedCall('sap-m8-2027')).toMatchObject({ closes_on: '2027-03-05', isee_max: '16000.00' });
    expect((await storedCall('doti'))!.closed_at).toBeNull();
    expect((await audit()).filter((a) => a.action === 'desk.calls_imported')).toEqual([
      { action: 'desk.calls_imported', staff: 'Marco Rossi', target_kind: null, code: null, details: { rows: 2, added: 1 } },
    ]);
  });

  it.each([
    ['no file', undefined, 422, 'Choose a CSV file to import.'],
    ['a file over 1 MB', `${HEADER}\n${'x'.repeat(1024 * 1024)}`, 413, 'The file is too large (1.0 MB): 1 MB at most.'],
    ['a file in Windows-1252', new Uint8Array([...Buffer.from(`${HEADER}\nmorosita,arrears,Fondo morosit`), 0xe0, ...Buffer.from(' incolpevole,,,,,,,,,,,,,,Comune,2027-01-01,\n')]), 422, 'The file is not UTF-8.'],
    ['only the header', `${HEADER}\n`, 422, 'The file holds no calls: only the header.'],
  ])('refuses %s with a clear message and imports nothing', async (_what, content, status, message) => {
    const s = await session();
    const res = content === undefined
      ? await fetch(`${base}/desk/calls/import`, { method: 'POST', redirect: 'manual', headers: { cookie: s.cookie, origin: DESK_PUBLIC_URL }, body: (() => { const f = new FormData(); f.set('csrf', s.csrf); return f; })() })
      : await upload(s, content);
    expect(res.status).toBe(status);
    expect(await res.text()).toContain(message);
    expect((await audit()).map((a) => a.action)).not.toContain('desk.calls_imported');
    expect((await storedCall('morosita'))!.updated_at).toEqual((await storedCall('nido-2027'))!.updated_at);
  });

  it('downloads every call in the import\'s columns, which the import reads back unchanged', async () => {
    const s = await session();
    const res = await get('/desk/calls.csv', s.cookie);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const text = await res.text();
    expect(text.split('\r\n')[0]).toBe(HEADER);
    const districts = (await t.sql.query<{ code: string }>(`select code from public.districts`)).map((d) => d.code);
    const back = checkCallsCsv(text, districts);
    expect(back.errors).toEqual([]);
    expect(back.rows).toHaveLength(8);
    const calls = (await t.db.rpc('desk_calls', { p_staff_id: (await t.sql.query<{ id: string }>(`select id from public.staff where full_name = 'Marco Rossi'`))[0]!.id })).data as DeskCall[];
    expect(callsCsv(calls)).toBe(text);
    expect(back.rows.find((r) => r.code === 'nidi-gratis')).toMatchObject({ isee_max: 25000, residence: 'lombardy', unverified: true, source: expect.stringContaining('ISEE ≤ 20,000') });
  });

  it('answers 404 to a call that does not exist', async () => {
    const s = await session();
    expect((await get('/desk/calls/no-such-call', s.cookie)).status).toBe(404);
    expect((await post('/desk/calls/no-such-call', s, { title_it: 'x' })).status).toBe(404);
    expect((await post('/desk/calls/no-such-call/close', s, { confirm: 'yes' })).status).toBe(404);
  });
});

describe('the calls\' words on the desk', () => {
  const calls = (lang: 'it' | 'en') => (JSON.parse(readFileSync(`locales/desk/${lang}.json`, 'utf8')) as { calls: Record<string, unknown> }).calls;
  const keys = (o: Record<string, unknown>, at = ''): string[] =>
    Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${at}${k}.`) : [`${at}${k}`.replace(/_(one|many|other)$/, '')]));

  it('has the same messages in Italian and English', () => {
    expect([...new Set(keys(calls('en')))].sort()).toEqual([...new Set(keys(calls('it')))].sort());
  });

  it('says every problem the import can find in both languages', () => {
    const found = checkCallsCsv([HEADER,
      'a-2027,dote,Dote,,,,,,,,,,,,,F,2027-01-01,',
      'a-2027,housing,ab,2027-03-01,2027-02-01,milano-99,x,,,abc,rome,x,passport,fax,http://x,,,maybe',
      'X!,dote,Dote,2027-02-30,,,36,3,,,,,,,,F,2027-01-01,',
    ].join('\n'), ['milano-1']).errors.flatMap((e) => e.problems.map((p) => p.key));
    const all = [...new Set([...found, 'codeTaken'])].sort();
    expect(all).toHaveLength(19);
    for (const lang of ['it', 'en'] as const) {
      const problems = calls(lang).problem as Record<string, string>;
      expect(all.filter((k) => !problems[k]), lang).toEqual([]);
      expect(Object.keys(problems).sort(), lang).toEqual(all);
    }
  });
});
