import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bot/config';
import { reminders } from '../../../bot/features/care/job';
import { createLogger } from '../../../bot/logger';
import { checkTemplate } from '../../../functions/desk/templates';
import { pgliteDb, type TestDb } from '../../support/door';
import { DESK_PUBLIC_URL, deskRig, type DeskRig } from '../../support/desk';
import { i18n, makeStaff } from '../../support/chat';
import { whatsappStack } from '../../support/whatsapp-stack';

const NOW = '2026-11-23T10:00:00Z';
const SID = `HX${'b'.repeat(32)}`;
const OTHER = `HX${'0123456789abcdef'.repeat(2)}`;
const MOTHER = '+8801711111111';

describe('the desk\'s WhatsApp templates: kinds × languages, set and cleared in a form', () => {
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
    await makeStaff(t, 'tutor', 'Eva Verdi', '501');
  });
  afterEach(async () => {
    await close();
    await t.close();
  });

  const stored = () => t.sql.query<{ kind: string; language: string; content_sid: string; variables: string[] }>(`select kind, language, content_sid, variables from public.message_templates order by kind, language`);
  const audit = () => t.sql.query<{ action: string; staff: string | null; target_kind: string | null; details: Record<string, unknown> }>(
    `select a.action, s.full_name as staff, a.target_kind, a.details from public.audit_log a left join public.staff s on s.id = a.staff_id where a.action like 'desk.template%' order by a.id`);
  /** The row of one language in one kind's table. */
  const row = (html: string, kind: string, lng: string) =>
    new RegExp(`<section aria-labelledby="kind-${kind}">[\\s\\S]*?<tr>\\s*<th scope="row">[^<]*<span class="code">\\(${lng}\\)</span></th>([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? '';

  it('lists every kind sent on a schedule in all 13 languages, with its Content SID or none, in the menu', async () => {
    await t.db.rpc('message_template_upsert', { p_kind: 'broadcast', p_language: 'it', p_content_sid: OTHER, p_variables: ['notice'], p_now: NOW });
    const s = await session();
    const res = await get('/desk/templates', s.cookie);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/<a href="\/desk\/templates" aria-current="page">WhatsApp templates<\/a>/);
    for (const kind of ['reminder', 'call_notice', 'broadcast', 'tutor_waiting']) {
      expect(html).toContain(`<section aria-labelledby="kind-${kind}">`);
      expect([...html.matchAll(new RegExp(`href="/desk/templates/${kind}/([a-z]+)"`, 'g'))].map((m) => m[1])).toEqual(['it', 'ar', 'tl', 'zh', 'es', 'si', 'ro', 'uk', 'sq', 'bn', 'en', 'fr', 'ur']);
    }
    expect(row(html, 'broadcast', 'it')).toContain(`<code>${OTHER}</code>`);
    expect(row(html, 'broadcast', 'it')).toContain('<code>{{1}}</code> notice');
    expect(row(html, 'broadcast', 'bn')).toContain('No template: held outside the window');
    expect(html).toContain('12 languages without a template.');
    expect(html).toContain('13 languages without a template.');
  });

  it('sets a template from the form, audited, and a reminder outside her window then goes as it at Twilio', async () => {
    const stack = await whatsappStack(t, NOW);
    try {
      const imported = await t.db.rpc('import_families', { p_now: '2026-11-01T10:00:00Z', p_families: [
        { channel: 'whatsapp', provider_id: MOTHER, language: 'bn', district_code: null, tutor_id: null, consent: true, children: [{ name: 'রাফি', birth_date: '2026-09-20' }] },
      ] });
      expect(imported.error).toBeNull();
      stack.emulator.addTemplate(SID, 'রিমাইন্ডার: {{1}}, {{2}}।');

      const s = await session();
      const form = await (await get('/desk/templates/reminder/bn', s.cookie)).text();
      // a new template's variables start as the fields the reminders job fills
      expect(form).toMatch(/<input type="text" id="f-variables" name="variables" value="child, date"/);
      expect(form).toContain('No template yet');
      const res = await post('/desk/templates/reminder/bn', s, { op: 'set', content_sid: ` ${SID} `, variables: 'child, date' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/desk/templates?set=reminder.bn#kind-reminder');
      const list = await (await get('/desk/templates?set=reminder.bn', s.cookie)).text();
      expect(list).toContain('<p class="done" role="status">Template saved: Care reminders, Bangla.</p>');
      expect(row(list, 'reminder', 'bn')).toContain(`<code>${SID}</code>`);
      expect(await stored()).toEqual([{ kind: 'reminder', language: 'bn', content_sid: SID, variables: ['child', 'date'] }]);
      expect(await audit()).toEqual([{ action: 'desk.template_set', staff: 'Marco Rossi', target_kind: 'message_template',
        details: { kind: 'reminder', language: 'bn', content_sid: SID, was: null, variables: ['child', 'date'] } }]);

      // she never wrote: her window is closed, so the reminder can only go as the template just set
      await reminders.run({ db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n }, stack.clock.now());
      await stack.flush();
      const sent = stack.emulator.messagesTo(MOTHER);
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.every((m) => m.contentSid === SID)).toBe(true);
      expect(sent[0]!.body).toMatch(/^রিমাইন্ডার: রাফি, /);
    } finally {
      await stack.close();
    }
  });

  it('removes a template, audited with the SID it replaced: a reminder outside her window is then held, not sent', async () => {
    const stack = await whatsappStack(t, NOW);
    try {
      await t.db.rpc('import_families', { p_now: '2026-11-01T10:00:00Z', p_families: [
        { channel: 'whatsapp', provider_id: MOTHER, language: 'bn', district_code: null, tutor_id: null, consent: true, children: [{ name: 'রাফি', birth_date: '2026-09-20' }] },
      ] });
      await t.db.rpc('message_template_upsert', { p_kind: 'reminder', p_language: 'bn', p_content_sid: OTHER, p_variables: ['child', 'date'], p_now: NOW });
      stack.emulator.addTemplate(OTHER, 'রিমাইন্ডার: {{1}}, {{2}}।');
      const s = await session('it');
      const form = await (await get('/desk/templates/reminder/bn', s.cookie)).text();
      expect(form).toContain(`Modello attuale: <code>${OTHER}</code>`);
      const res = await post('/desk/templates/reminder/bn', s, { op: 'clear' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/desk/templates?cleared=reminder.bn#kind-reminder');
      const list = await (await get('/desk/templates?cleared=reminder.bn', s.cookie)).text();
      expect(list).toContain('Modello tolto: Promemoria di cura, Bengalese.');
      expect(row(list, 'reminder', 'bn')).toContain('Nessun modello');
      expect(await stored()).toEqual([]);
      expect(await audit()).toEqual([{ action: 'desk.template_cleared', staff: 'Marco Rossi', target_kind: 'message_template',
        details: { kind: 'reminder', language: 'bn', content_sid: null, was: OTHER, variables: [] } }]);

      await reminders.run({ db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n }, stack.clock.now());
      await stack.flush();
      expect(stack.emulator.messagesTo(MOTHER)).toEqual([]);
      // the one due now is held until she writes; the next waits for its day
      const rows = await t.sql.query<{ status: string; due: boolean }>(`select status, not_before <= $1 as due from public.outbox where kind = 'reminder' order by id`, [stack.clock.now().toISOString()]);
      expect(rows.filter((r) => r.due).map((r) => r.status)).toEqual(['held']);
      expect(rows.map((r) => r.status)).not.toContain('sent');
    } finally {
      await stack.close();
    }
  });

  it.each([
    ['empty', '', 'Enter the Content SID'],
    ['too short', 'HX123', 'A Content SID is HX followed by 32 lowercase hexadecimal digits'],
    ['in capitals', `HX${'B'.repeat(32)}`, 'A Content SID is HX followed by 32 lowercase hexadecimal digits'],
    ['a message SID', `SM${'b'.repeat(32)}`, 'A Content SID is HX followed by 32 lowercase hexadecimal digits'],
  ])('refuses a Content SID %s with 422, the error beside the field and her value kept, nothing stored', async (_what, sid, error) => {
    const s = await session();
    const res = await post('/desk/templates/broadcast/it', s, { op: 'set', content_sid: sid, variables: 'notice' });
    expect(res.status).toBe(422);
    const html = await res.text();
    const field = /<div class="field">\s*<label for="f-content_sid">[\s\S]*?<\/div>/.exec(html)![0];
    expect(field).toContain(`value="${sid}"`);
    expect(field).toContain('aria-invalid="true"');
    expect(field).toContain('aria-describedby="f-content_sid-hint f-content_sid-error"');
    expect(field).toMatch(new RegExp(`<p class="field-error" id="f-content_sid-error">${error}`));
    expect(html).toContain('<a href="#f-content_sid">Content SID</a>');
    expect(await stored()).toEqual([]);
    expect(await audit()).toEqual([]);
  });

  it('refuses variables that are not payload fields, beside their field', async () => {
    const s = await session();
    const res = await post('/desk/templates/broadcast/it', s, { op: 'set', content_sid: SID, variables: 'notice, Nome!' });
    expect(res.status).toBe(422);
    const field = /<div class="field">\s*<label for="f-variables">[\s\S]*?<\/div>/.exec(await res.text())![0];
    expect(field).toContain('aria-invalid="true"');
    expect(field).toContain('Only lowercase letters and underscores: Nome!.');
    expect(await stored()).toEqual([]);
  });

  it.each([
    ['without the CSRF token', undefined, { origin: DESK_PUBLIC_URL }],
    ['with another token', 'A'.repeat(43), { origin: DESK_PUBLIC_URL }],
    ['from another origin', 'own', { origin: 'http://evil.example' }],
  ] as const)('refuses a set or a clear posted %s with 403, and changes nothing', async (_what, token, headers) => {
    await t.db.rpc('message_template_upsert', { p_kind: 'broadcast', p_language: 'it', p_content_sid: OTHER, p_variables: ['notice'], p_now: NOW });
    const s = await session();
    const asked = { cookie: s.cookie, csrf: token === 'own' ? s.csrf : token };
    expect((await post('/desk/templates/broadcast/it', asked, { op: 'set', content_sid: SID, variables: 'notice' }, headers)).status).toBe(403);
    expect((await post('/desk/templates/broadcast/it', asked, { op: 'clear' }, headers)).status).toBe(403);
    expect(await stored()).toEqual([{ kind: 'broadcast', language: 'it', content_sid: OTHER, variables: ['notice'] }]);
    expect(await audit()).toEqual([]);
  });

  it('answers 404 for a kind no message has or a language the bot does not speak', async () => {
    const s = await session();
    for (const path of ['/desk/templates/nonsense/it', '/desk/templates/reminder/de']) {
      expect((await get(path, s.cookie)).status).toBe(404);
      expect((await post(path, s, { op: 'set', content_sid: SID, variables: '' })).status).toBe(404);
    }
    expect(await stored()).toEqual([]);
  });

  it('lets only an active coordinator set a template in the database (42501 for a tutor)', async () => {
    const [tutor] = await t.sql.query<{ id: string }>(`select id from public.staff where role = 'tutor'`);
    const { error } = await t.db.rpc('desk_template_set', { p_staff_id: tutor!.id, p_kind: 'reminder', p_language: 'it', p_content_sid: SID, p_variables: [], p_now: NOW });
    expect(error?.code).toBe('42501');
    const [coordinator] = await t.sql.query<{ id: string }>(`select id from public.staff where role = 'coordinator'`);
    const bad = await t.db.rpc('desk_template_set', { p_staff_id: coordinator!.id, p_kind: 'reminder', p_language: 'it', p_content_sid: `HX${'B'.repeat(32)}`, p_variables: [], p_now: NOW });
    expect(bad.error?.code).toBe('22023');
    expect(await stored()).toEqual([]);
  });
});

describe('a template\'s two fields, checked before anything is stored', () => {
  it.each([
    [SID, 'child, date', [], ['child', 'date']],
    [` ${SID}\n`, 'child date', [], ['child', 'date']],
    ['', '', ['sidMissing'], []],
    [`HX${'g'.repeat(32)}`, '', ['sidFormat'], []],
    [SID, 'a-b', ['variableFormat'], ['a-b']],
  ])('checks %j with variables %j the way Twilio names a Content SID', (sid, variables, problems, list) => {
    const checked = checkTemplate(sid, variables);
    expect(checked.problems.map((p) => p.key)).toEqual(problems);
    expect(checked.variables).toEqual(list);
  });
});

describe('the templates words on the desk', () => {
  const words = (lang: 'it' | 'en') => (JSON.parse(readFileSync(`locales/desk/${lang}.json`, 'utf8')) as Record<string, Record<string, unknown>>).templates!;
  const keys = (o: Record<string, unknown>, at = ''): string[] =>
    Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${at}${k}.`) : [`${at}${k}`.replace(/_(one|many|other)$/, '')]));

  it('has the same messages in Italian and English, a problem each for every one the form can find', () => {
    expect([...new Set(keys(words('en')))].sort()).toEqual([...new Set(keys(words('it')))].sort());
    for (const lang of ['it', 'en'] as const) expect(Object.keys(words(lang).problem as object).sort(), lang).toEqual(['sidFormat', 'sidMissing', 'variableFormat']);
  });
});
