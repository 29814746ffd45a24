import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pgliteDb, type TestDb } from '../../support/door';
import { coreDeps, i18n, makeStaff, person, texts } from '../../support/chat';
import { familyWithChild } from '../../support/families';
import { DESK_PUBLIC_URL, deskRig, type DeskRig, type Fields } from '../../support/desk';

const ar = i18n.t('ar');
/**
 * 23 November 2026, 10:00 in Milan: earlier than the seed's own `now()`, so an edit stamped with this clock is not the
 * newest row of the knowledge base; the bot must see it all the same.
 */
const NOW = '2026-11-23T10:00:00+01:00';
const NEW_ANSWER = 'في إيطاليا 10 تطعيمات إلزامية ومجانية. اسألي طبيب الأطفال عن موعد التطعيم القادم. (نص جديد من المنسقة)';
const AR_QUESTION = 'هل التطعيمات إلزامية لطفلي؟';

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const attr = (tag: string, name: string) => { const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag); return m ? unescape(m[1]!) : undefined; };

/** What a browser would post from the entry's form as shown: its inputs, textareas and ticked boxes. */
function formFields(html: string): Fields {
  const form = /<form method="post" action="\/desk\/knowledge\/[^"]*" class="form kb-form"[\s\S]*?<\/form>/.exec(html)?.[0];
  if (!form) throw new Error('no entry form on the page');
  const out: Fields = {};
  for (const [tag] of form.matchAll(/<input\b[^>]*>/g)) {
    const name = attr(tag, 'name');
    if (!name || name === 'csrf') continue;
    if (attr(tag, 'type') === 'checkbox' && !/\schecked\b/.test(tag)) continue;
    out[name] = attr(tag, 'value') ?? '';
  }
  for (const [, open, text] of form.matchAll(/(<textarea\b[^>]*>)([\s\S]*?)<\/textarea>/g)) out[attr(open!, 'name')!] = unescape(text!);
  return out;
}

describe('the desk\'s knowledge base: search, an entry in 13 languages, verified', () => {
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

  const stored = async (slug: string) =>
    (await t.sql.query<{ language: string; question: string; answer: string; phrasings: string[]; unverified: boolean }>(
      `select t.language, t.question, t.answer, t.phrasings, e.unverified from public.kb_texts t join public.kb_entries e on e.id = t.entry_id
        where e.slug = $1 order by t.language`, [slug]));
  const kbAudit = async () => (await t.sql.query<{ action: string; staff: string | null; target_kind: string | null; details: Record<string, unknown> }>(
    `select a.action, s.full_name as staff, a.target_kind, a.details from public.audit_log a left join public.staff s on s.id = a.staff_id
      where a.action like 'desk.kb%' order by a.id`));
  /** The codes the list shows. */
  const listed = (html: string) => [...html.matchAll(/<th scope="row"><span class="code">([a-z0-9-]+)<\/span>/g)].map((m) => m[1]);
  /** The Arabic mother asks the bot her question, and gets its answer. */
  const askInArabic = async () => {
    const mother = person(deps, { id: '1001' });
    await mother.tap('menu:ask');
    return texts(await mother.say(AR_QUESTION));
  };

  it.each([
    ['Italian words of a question', 'vaccini obbligatori', 'vaccines-mandatory'],
    ['Italian words of an answer, in any case', 'POLIO difterite', 'vaccines-mandatory'],
    ['a code', 'isee-what', 'isee-what'],
  ])('finds entries by %s', async (_what, q, slug) => {
    const s = await session();
    const res = await get(`/desk/knowledge?q=${encodeURIComponent(q)}`, s.cookie);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(listed(html)).toContain(slug);
    const all = listed(await (await get('/desk/knowledge', s.cookie)).text());
    expect(listed(html).length).toBeLessThan(all.length);
    expect(html).toContain(`<a href="/desk/knowledge/${slug}">Edit`);
    expect(html).toMatch(/<a href="\/desk\/knowledge" aria-current="page">Knowledge base<\/a>/);
  });

  it('lists each entry with its area, whether it is verified, its languages and the missing ones, and finds nothing for unknown words', async () => {
    await t.sql.query(`delete from public.kb_texts where language in ('ur', 'si') and entry_id = (select id from public.kb_entries where slug = 'isee-what')`);
    await t.sql.query(`update public.kb_entries set unverified = true where slug = 'isee-what'`);
    const s = await session();
    const html = await (await get('/desk/knowledge?q=isee-what', s.cookie)).text();
    const row = /<tr>\s*<th scope="row"><span class="code">isee-what<\/span>[\s\S]*?<\/tr>/.exec(html)?.[0] ?? '';
    expect(row).toContain('<td>To be verified</td>');
    expect(row).toContain('11/13');
    expect(row).toContain('Missing: Sinhala, Urdu');
    const none = await (await get('/desk/knowledge?q=zzzz-nessuna-parola', s.cookie)).text();
    expect(listed(none)).toEqual([]);
    expect(none).toContain('No entry matches');
  });

  it('saves the Arabic answer edited beside the Italian; a mother asking in Arabic then gets it; the audit says who changed which language', async () => {
    await familyWithChild(t, { providerId: '1001', language: 'ar', birth: '2026-04-10' });
    const before = await askInArabic();
    expect(before[0]).not.toContain(NEW_ANSWER);
    expect(before.at(-1)).toBe(ar('kb.didItHelp'));

    const s = await session();
    const page = await get('/desk/knowledge/vaccines-mandatory', s.cookie);
    expect(page.status).toBe(200);
    const html = await page.text();
    // her textarea in Arabic, right to left; the Italian beside it, read only
    expect(html).toMatch(/<textarea id="kb-ar-answer" name="ar.answer" rows="6" lang="ar" dir="rtl">/);
    expect(html).toMatch(/<textarea id="kb-ur-answer" name="ur.answer" rows="6" lang="ur" dir="rtl">/);
    expect(html).toMatch(/<textarea id="kb-fr-answer" name="fr.answer" rows="6" lang="fr" dir="ltr">/);
    const arabic = /<fieldset class="kb-language" id="kb-ar">[\s\S]*?<\/fieldset>/.exec(html)?.[0] ?? '';
    expect(arabic).toContain('<div class="kb-reference" lang="it" dir="ltr">');
    expect(arabic).toContain('I vaccini per il mio bambino sono obbligatori?');
    expect(arabic).not.toMatch(/<(textarea|input)[^>]*name="it\./);

    const fields = formFields(html);
    expect(Object.keys(fields).filter((k) => k.endsWith('.answer'))).toHaveLength(13);
    const res = await post('/desk/knowledge/vaccines-mandatory', s, { ...fields, 'ar.answer': NEW_ANSWER, verified: 'yes' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/desk/knowledge?saved=vaccines-mandatory');
    expect(await (await get(res.headers.get('location')!, s.cookie)).text()).toContain('Entry vaccines-mandatory saved');

    const rows = await stored('vaccines-mandatory');
    expect(rows.find((r) => r.language === 'ar')!.answer).toBe(NEW_ANSWER);
    expect(rows.find((r) => r.language === 'it')!.answer).toContain('In Italia 10 vaccinazioni sono obbligatorie');
    expect(rows.every((r) => !r.unverified)).toBe(true);

    const after = await askInArabic();
    expect(after[0]).toContain(NEW_ANSWER);

    expect(await kbAudit()).toEqual([{ action: 'desk.kb_saved', staff: 'Marco Rossi', target_kind: 'kb_entry',
      details: { slug: 'vaccines-mandatory', changed: ['ar'], verified: true, was_verified: true } }]);
    // who marked it verified, and when, on the entry's page
    expect(await (await get('/desk/knowledge/vaccines-mandatory', s.cookie)).text()).toContain('Last marked verified by Marco Rossi on 23 November 2026.');
  });

  it.each([
    ['an Arabic answer too short', { 'ar.answer': 'قصير' }, 'ar', 'answer', 'The answer must be 10 to 1500 characters.'],
    ['an Urdu question emptied', { 'ur.question': '  ' }, 'ur', 'question', 'The question must be 3 to 300 characters.'],
  ])('refuses %s with 422, the problem beside the field, her values kept and nothing changed', async (_what, change, lang, field, message) => {
    const s = await session();
    const fields = formFields(await (await get('/desk/knowledge/vaccines-mandatory', s.cookie)).text());
    const before = await stored('vaccines-mandatory');
    // another change in the same post, kept on the page but not saved
    const res = await post('/desk/knowledge/vaccines-mandatory', s, { ...fields, 'fr.answer': 'Une réponse française modifiée, assez longue.', ...change });
    expect(res.status).toBe(422);
    const html = await res.text();
    const id = `kb-${lang}-${field}`;
    expect(html).toMatch(new RegExp(`<textarea id="${id}" name="${lang}\\.${field}" rows="\\d" aria-describedby="${id}-error" aria-invalid="true"`));
    expect(html).toContain(`<p class="field-error" id="${id}-error">${message}</p>`);
    expect(html).toContain(`<a href="#${id}">`);
    expect(formFields(html)['fr.answer']).toBe('Une réponse française modifiée, assez longue.');
    expect(formFields(html)[`${lang}.${field}`]).toBe(Object.values(change)[0]);
    expect(await stored('vaccines-mandatory')).toEqual(before);
    expect(await kbAudit()).toEqual([]);
  });

  it('refuses a post without the CSRF token: 403, nothing changed', async () => {
    const s = await session();
    const fields = formFields(await (await get('/desk/knowledge/vaccines-mandatory', s.cookie)).text());
    const before = await stored('vaccines-mandatory');
    const res = await post('/desk/knowledge/vaccines-mandatory', { cookie: s.cookie }, { ...fields, 'ar.answer': NEW_ANSWER });
    expect(res.status).toBe(403);
    expect(await stored('vaccines-mandatory')).toEqual(before);
    expect(await kbAudit()).toEqual([]);
  });

  it('adds a language the entry lacked, leaves empty languages alone, and says the form in Italian', async () => {
    await t.sql.query(`delete from public.kb_texts where language = 'ur' and entry_id = (select id from public.kb_entries where slug = 'isee-what')`);
    await t.sql.query(`delete from public.kb_texts where language = 'si' and entry_id = (select id from public.kb_entries where slug = 'isee-what')`);
    const s = await session('it');
    const html = await (await get('/desk/knowledge/isee-what', s.cookie)).text();
    expect(html).toContain('Italiano (riferimento)');
    expect(html).toContain('(ancora senza testo)');
    const fields = formFields(html);
    expect(fields['ur.answer']).toBe('');
    const res = await post('/desk/knowledge/isee-what', s, { ...fields, 'ur.question': 'ISEE کیا ہے؟', 'ur.answer': 'ISEE خاندان کی آمدنی اور جائیداد کا ایک اشاریہ ہے۔' });
    expect(res.status).toBe(303);
    const langs = (await stored('isee-what')).map((r) => r.language);
    expect(langs).toContain('ur');
    expect(langs).not.toContain('si');
    expect((await kbAudit())[0]!.details).toMatchObject({ changed: ['ur'] });
  });

  it('refuses a tutor calling the desk\'s functions directly (42501), and changes nothing', async () => {
    const contact = await makeStaff(t, 'tutor', 'Eva Verdi', '501');
    const [{ staff_id: tutor }] = await t.sql.query<{ staff_id: string }>(`select staff_id from public.contacts where id = $1`, [contact]) as [{ staff_id: string }];
    const before = await stored('vaccines-mandatory');
    const rows = before.map((r) => ({ slug: 'vaccines-mandatory', category: 'health', language: r.language, question: r.question, answer: 'Una risposta cambiata da chi non può.', phrasings: r.phrasings, keywords: '', unverified: false, source: null, active: true }));
    for (const [fn, args] of [
      ['desk_kb_list', { p_query: '' }],
      ['desk_kb_entry', { p_slug: 'vaccines-mandatory' }],
      ['desk_kb_save', { p_slug: 'vaccines-mandatory', p_rows: rows, p_now: new Date(NOW).toISOString() }],
    ] as const) {
      const { error } = await t.db.rpc(fn, { p_staff_id: tutor, ...args });
      expect(error?.code, fn).toBe('42501');
    }
    expect(await stored('vaccines-mandatory')).toEqual(before);
    expect(await kbAudit()).toEqual([]);
  });

  it('answers 404 for an entry that does not exist', async () => {
    const s = await session();
    expect((await get('/desk/knowledge/no-such-entry', s.cookie)).status).toBe(404);
  });
});

describe('the desk\'s knowledge base: a CSV uploaded', () => {
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
    await familyWithChild(t, { providerId: '1001', language: 'ar', birth: '2026-04-10' });
  });
  afterEach(async () => {
    await close();
    await t.close();
  });

  const HEADER = 'slug,category,language,question,answer,phrasings,keywords,unverified,source,active';
  const GOOD_AR = `vaccines-mandatory,health,ar,${AR_QUESTION},${NEW_ANSWER},,,no,,yes`;
  const NEW_IT = 'nido-iscrizione,education,it,Come iscrivo mio figlio al nido?,Le iscrizioni ai nidi comunali si fanno online sul sito del Comune tra febbraio e marzo.,,,yes,,yes';
  const upload = (s: { cookie: string; csrf?: string }, csv: string) => {
    const body = new FormData();
    if (s.csrf) body.set('csrf', s.csrf);
    body.set('file', new Blob([csv], { type: 'text/csv' }), 'knowledge.csv');
    return fetch(`${base}/desk/knowledge/import`, { method: 'POST', redirect: 'manual', headers: { cookie: s.cookie, origin: DESK_PUBLIC_URL }, body });
  };
  const answers = async (slug: string) =>
    (await t.sql.query<{ language: string; answer: string }>(
      `select t.language, t.answer from public.kb_texts t join public.kb_entries e on e.id = t.entry_id where e.slug = $1 order by t.language`, [slug]));
  const audit = async () => (await t.sql.query<{ action: string; staff: string | null; details: Record<string, unknown> }>(
    `select a.action, s.full_name as staff, a.details from public.audit_log a left join public.staff s on s.id = a.staff_id
      where a.action = 'desk.kb_imported' order by a.id`));
  const askInArabic = async () => texts(await (async () => {
    const mother = person(deps, { id: '1001' });
    await mother.tap('menu:ask');
    return mother.say(AR_QUESTION);
  })());

  it('shows the upload form on the list page, with the form token and the columns', async () => {
    const s = await session();
    const html = await (await get('/desk/knowledge', s.cookie)).text();
    expect(html).toMatch(/<form method="post" action="\/desk\/knowledge\/import" enctype="multipart\/form-data"[^>]*>\s*<input type="hidden" name="csrf" value="[^"]+">/);
    expect(html).toContain('slug, category, language, question, answer, phrasings');
  });

  it('imports nothing from a CSV with one bad line, and lists each bad line with its reason beside the upload', async () => {
    const s = await session();
    const before = await answers('vaccines-mandatory');
    const res = await upload(s, `${HEADER}\n${GOOD_AR}\n${NEW_IT}\nvaccines-mandatory,health,fr,Q?,corta,,,no,,yes\n`);
    expect(res.status).toBe(422);
    const html = await res.text();
    const report = /<div class="field-error" id="import-error">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '';
    expect(report).toContain('Nothing was imported');
    expect([...report.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => m[1])).toEqual([
      '<strong>line 4</strong>: question must be 3–300 characters; answer must be 10–1500 characters',
    ]);
    expect(html).toMatch(/<input type="file" id="import-file" name="file"[^>]*aria-invalid="true" aria-describedby="import-error">/);
    expect(await answers('vaccines-mandatory')).toEqual(before);
    expect(await answers('nido-iscrizione')).toEqual([]);
    expect(await audit()).toEqual([]);
    expect((await askInArabic())[0]).not.toContain(NEW_ANSWER);
  });

  it('imports a good CSV in one go, audited with who uploaded it; a mother asking in Arabic then gets the new answer', async () => {
    expect((await askInArabic())[0]).not.toContain(NEW_ANSWER);
    const s = await session();
    const res = await upload(s, `${HEADER}\n${GOOD_AR}\n${NEW_IT}\n`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/desk/knowledge?created=1&updated=1');
    expect(await (await get(res.headers.get('location')!, s.cookie)).text()).toContain('File imported: 1 texts added, 1 changed. The bot answers with them.');
    expect((await answers('vaccines-mandatory')).find((r) => r.language === 'ar')!.answer).toBe(NEW_ANSWER);
    expect(await answers('nido-iscrizione')).toEqual([{ language: 'it', answer: 'Le iscrizioni ai nidi comunali si fanno online sul sito del Comune tra febbraio e marzo.' }]);
    expect(await audit()).toEqual([{ action: 'desk.kb_imported', staff: 'Marco Rossi', details: { rows: 2, created: 1, updated: 1 } }]);
    expect((await askInArabic())[0]).toContain(NEW_ANSWER);
  });

  it.each([
    ['only the header', `${HEADER}\n`, 422, 'The file holds no rows: only the header.'],
    ['a file over 1 MB', `${HEADER}\n${'x'.repeat(1024 * 1024)}`, 413, 'The file is too large (1.0 MB): 1 MB at most.'],
  ])('refuses %s with a clear message and imports nothing', async (_what, csv, status, message) => {
    const s = await session();
    const res = await upload(s, csv);
    expect(res.status).toBe(status);
    expect(await res.text()).toContain(message);
    expect(await audit()).toEqual([]);
  });

  it('refuses an upload without the CSRF token: 403, nothing imported', async () => {
    const s = await session();
    const before = await answers('vaccines-mandatory');
    const res = await upload({ cookie: s.cookie }, `${HEADER}\n${GOOD_AR}\n`);
    expect(res.status).toBe(403);
    expect(await answers('vaccines-mandatory')).toEqual(before);
    expect(await audit()).toEqual([]);
  });

  it('refuses a tutor calling desk_kb_import directly (42501), and imports nothing', async () => {
    const contact = await makeStaff(t, 'tutor', 'Eva Verdi', '501');
    const [{ staff_id: tutor }] = await t.sql.query<{ staff_id: string }>(`select staff_id from public.contacts where id = $1`, [contact]) as [{ staff_id: string }];
    const rows = [{ slug: 'nido-iscrizione', category: 'education', language: 'it', question: 'Come iscrivo mio figlio al nido?', answer: 'Una risposta da chi non può.', phrasings: [], keywords: '', unverified: true, source: null, active: true }];
    const { error } = await t.db.rpc('desk_kb_import', { p_staff_id: tutor, p_rows: rows, p_now: new Date(NOW).toISOString() });
    expect(error?.code).toBe('42501');
    expect(await answers('nido-iscrizione')).toEqual([]);
    expect(await audit()).toEqual([]);
  });
});
