import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../bot/logger';
import { loadConfig } from '../../../bot/config';
import { broadcasts } from '../../../bot/features/broadcasts/job';
import { countsText, renderNotice, type BroadcastCounts, type BroadcastReport } from '../../../bot/features/broadcasts/service';
import { runJob } from '../../../functions/jobs';
import { pgliteDb, type TestDb } from '../../support/door';
import { coreDeps, deliverAll, i18n, makeStaff, person, texts } from '../../support/chat';
import { familyWithChild } from '../../support/families';
import { deskRig, type DeskRig, type DeskSession, type Fields } from '../../support/desk';

/** Monday 23 November 2026, 10:00 in Milan: inside the notices' window */
const START = '2026-11-23T10:00:00+01:00';
const IT = 'Sabato 28 open day al nido di via Rossi, ore 10.';
const AR = 'يوم مفتوح في الحضانة يوم السبت 28 الساعة 10.';

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
/** The figures of one block of a page: data-figure="sent">17< → { sent: 17 }. */
const figuresIn = (html: string) => Object.fromEntries([...html.matchAll(/data-figure="(\w+)">(\d+)</g)].map((m) => [m[1]!, Number(m[2])]));
/** The list's funnel, as the chat's and the API's counts say it. */
const funnel = (c: BroadcastCounts) => ({
  recipients: c.recipients, queued: c.queued, sent: c.sent, delivered: c.delivered, read: c.read, failed: c.failed, held: c.held,
  skipped: c.skipped.paused + c.skipped.unreachable, fallback: c.fallback,
});
/** The report's figures, as the chat's and the API's counts say them. */
const reportFigures = (c: BroadcastCounts) => ({
  recipients: c.recipients, queued: c.queued, waiting: c.waiting, sent: c.sent, delivered: c.delivered, read: c.read, whatsapp_sent: c.whatsapp_sent,
  failed: c.failed, held: c.held, cancelled: c.cancelled, paused: c.skipped.paused, unreachable: c.skipped.unreachable, fallback: c.fallback,
});

describe('the desk\'s broadcasts: list, report, cancel, a new one', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  let close: () => Promise<void>;
  let get: DeskRig['get'];
  let post: DeskRig['post'];
  let session: () => Promise<DeskSession>;

  beforeEach(async () => {
    t = await pgliteDb();
    const rig = await deskRig(t, START);
    ({ deps, close, get, post } = rig);
    session = () => rig.session('en');
    await makeStaff(t, 'coordinator', 'Marco Rossi', '500');
    // two Italian, three Arabic, one English family on Telegram; one Spanish who paused notices
    const families: [string, string][] = [['1001', 'it'], ['1002', 'it'], ['1003', 'ar'], ['1004', 'ar'], ['1005', 'ar'], ['1006', 'en'], ['1007', 'es']];
    for (const [id, language] of families) await familyWithChild(t, { providerId: id, language, birth: '2026-03-01' });
    await t.sql.query(`update public.contacts set status = 'paused' where provider_id = '1007'`);
  });
  afterEach(async () => {
    await close();
    await t.close();
  });


  /** The new-broadcast form drawn, then previewed with these fields: the preview's page and what sending it posts. */
  async function previewed(s: { cookie: string; csrf: string }, fields: Fields) {
    const form = await (await get('/desk/broadcasts/new', s.cookie)).text();
    const key = /name="key" value="([^"]+)"/.exec(form)![1]!;
    const res = await post('/desk/broadcasts/new', s, { key, ...fields, preview: '1' });
    expect(res.status).toBe(200);
    const html = await res.text();
    const fingerprint = /name="previewed" value="([^"]+)"/.exec(html)?.[1];
    return { html, send: { key, ...fields, previewed: fingerprint ?? '', send: '1' } };
  }
  const job = () => runJob(broadcasts, { db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n }, deps.clock.now());
  const report = async (ref: number) => (await t.db.rpc('broadcast_report', { p_staff_id: (await staffId()), p_ref: ref, p_now: deps.clock.now().toISOString() })).data as BroadcastReport;
  const staffId = async () => (await t.sql.query<{ id: string }>(`select id from public.staff where full_name = 'Marco Rossi'`))[0]!.id;
  const stored = () => t.sql.query<{ ref: number; status: string; source: string; send_at: string; texts: Record<string, string>; audience: unknown }>(`select ref::int as ref, status, source, send_at::text, texts, audience from public.broadcasts order by ref`);

  it('lists each broadcast with the figures the chat\'s /broadcast B-n and the API report, and shows the same in its report with its failures', async () => {
    const marco = person(deps, { id: '500' });
    await marco.say('/avviso');
    await marco.tap('bc:next');
    await marco.say(IT);
    await marco.tap('bc:now');
    await job();
    // the English mother blocked the bot, one Arabic one is held for a template, the rest left; one Italian read it
    const row = (language: string, n = 0) => `(select r.outbox_id from public.broadcast_recipients r where r.language = '${language}' and r.skipped is null order by r.family_ref offset ${n} limit 1)`;
    await t.sql.query(`update public.outbox set status = 'held', error_kind = 'no_template', error = 'no approved template' where id = ${row('ar')}`);
    await deliverAll(t, START);
    await t.sql.query(`update public.outbox set status = 'failed', error_kind = 'contact_gone', error = 'provider error 403' where id = ${row('en')}`);
    await t.sql.query(`update public.outbox set delivery_status = 'read' where id = ${row('it')}`);

    const api = await report(1);
    // counted by hand, so the comparisons below cannot pass on empty figures
    expect(funnel(api.counts)).toEqual({ recipients: 7, queued: 6, sent: 4, delivered: 1, read: 1, failed: 1, held: 1, skipped: 1, fallback: 2 });
    expect(texts(await marco.say('/avviso B-1'))[0]).toContain(countsText(i18n, 'it', 1, api.counts));

    const s = await session();
    const list = await (await get('/desk/broadcasts', s.cookie)).text();
    expect(list).toMatch(/<a href="\/desk\/broadcasts" aria-current="page">Broadcasts<\/a>/);
    const listed = /<tr data-ref="1">[\s\S]*?<\/tr>/.exec(list)![0];
    expect(figuresIn(listed)).toEqual(funnel(api.counts));
    expect(listed).toContain('<td>Every family</td>');
    expect(listed).toContain('<td>Sending</td>');
    expect(listed).toContain('23 Nov 2026, 10:00');

    const res = await get('/desk/broadcasts/B-1', s.cookie);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(figuresIn(/<section aria-labelledby="h-figures">[\s\S]*?<\/section>/.exec(html)![0])).toEqual(reportFigures(api.counts));
    expect(html).toContain(`<p class="message" lang="it" dir="ltr" data-text="it">${IT}</p>`);
    // the failures, exact and by family reference, with the chat's words for the reason
    const failures = /<table class="list failures">[\s\S]*?<\/table>/.exec(html)![0];
    const refs = await t.sql.query<{ ref: string; language: string }>(`select f.ref::text as ref, c.language from public.families f join public.contacts c on c.family_id = f.id where c.provider_id in ('1003', '1006', '1007') order by f.ref`);
    expect([...failures.matchAll(/<th scope="row">(F-\d+)<\/th>/g)].map((m) => m[1])).toEqual(refs.map((r) => `F-${r.ref}`));
    expect(unescape(failures)).toContain(i18n.t('en')('broadcast.reason.contact_gone'));
    expect(failures).toContain('(provider error 403)');
    expect(unescape(failures)).toContain(i18n.t('en')('broadcast.reason.paused'));
    // still sending: it can be cancelled
    expect(html).toContain('action="/desk/broadcasts/B-1/cancel"');
  });

  it('creates a broadcast to one language from the desk; the job queues it with the fake clock and its report shows what was sent', async () => {
    const s = await session();
    const { html, send } = await previewed(s, { languages: 'ar', text_it: IT, text_ar: AR, when: 'now' });
    expect(html).toContain('It goes to 3 people (3 families).');
    const res = await post('/desk/broadcasts/new', s, send);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/desk/broadcasts/B-1?done=created');
    expect(await stored()).toEqual([expect.objectContaining({ ref: 1, status: 'scheduled', source: 'desk', texts: { it: IT, ar: AR }, audience: { languages: ['ar'] } })]);

    await job();
    const queued = await t.sql.query<{ text: string; provider_id: string }>(`select o.payload ->> 'text' as text, c.provider_id from public.outbox o join public.contacts c on c.id = o.contact_id where o.kind = 'broadcast' order by c.provider_id`);
    expect(queued).toEqual(['1003', '1004', '1005'].map((id) => ({ provider_id: id, text: renderNotice(i18n, { it: IT, ar: AR }, 'ar').text })));
    await deliverAll(t, START);
    expect(await t.sql.query(`select status, count(*)::int as n from public.outbox where kind = 'broadcast' group by status`)).toEqual([{ status: 'sent', n: 3 }]);
    deps.clock.advance(60_000);
    await job();

    const page = await (await get('/desk/broadcasts/B-1?done=created', s.cookie)).text();
    expect(page).toContain('<p class="done" role="status">B-1 is scheduled.</p>');
    expect(page).toContain('<dd data-fact="status">Done</dd>');
    expect(figuresIn(/<section aria-labelledby="h-figures">[\s\S]*?<\/section>/.exec(page)![0])).toMatchObject({ recipients: 3, queued: 3, sent: 3, failed: 0, held: 0, fallback: 0, waiting: 0 });
    expect(page).toContain(`<p class="message" lang="ar" dir="rtl" data-text="ar">${AR}</p>`);
    expect(page).toContain('None: every message left or is still to send.');
    expect(page).not.toContain('action="/desk/broadcasts/B-1/cancel"');
    const audit = await t.sql.query<{ action: string; details: Record<string, unknown> }>(`select action, details from public.audit_log where action = 'broadcast.created'`);
    expect(audit).toEqual([{ action: 'broadcast.created', details: { audience: { languages: ['ar'] }, languages: ['ar', 'it'], source: 'desk' } }]);
  });

  it('previews per language exactly what each will read: her own text, or the Italian under a line in her language saying so', async () => {
    const s = await session();
    const { html } = await previewed(s, { text_it: IT, text_ar: AR, when: 'now' });
    const block = (l: string) => /<section class="preview-language" data-language="(\w+)"[\s\S]*?<\/section>/g.exec(html.slice(html.indexOf(`data-language="${l}"`) - 40))![0];
    expect(html).toContain('It goes to 6 people (6 families).');
    expect(html).toContain('Left out: 1 who paused reminders and notices, 0 unreachable.');
    const reads = (l: string) => unescape(/<p class="message"[^>]*data-reads="\w+">([\s\S]*?)<\/p>/.exec(block(l))![1]!);
    expect(block('ar')).toContain('Arabic: 3 people will read');
    expect(reads('ar')).toBe(renderNotice(i18n, { it: IT, ar: AR }, 'ar').text);
    expect(reads('ar')).toContain(AR);
    expect(reads('ar')).not.toContain(i18n.t('ar')('broadcast.inItalian'));
    expect(block('en')).toContain('English: 1 person will read');
    expect(reads('en')).toBe(`${i18n.t('en')('broadcast.head')}\n${i18n.t('en')('broadcast.inItalian')}\n\n${IT}`);
    expect(block('en')).toContain('No text in this language: the Italian one, with the line that says so.');
    expect(reads('it')).toBe(`${i18n.t('it')('broadcast.head')}\n\n${IT}`);
    // a text box for each language the audience reaches; nothing created by a preview
    expect(html).toMatch(/<textarea id="text_en" name="text_en"/);
    expect(html).not.toMatch(/<textarea id="text_es"/);
    expect(html).toContain('<button type="submit" name="send" value="1" class="primary">Send now</button>');
    expect(await stored()).toEqual([]);
  });

  it('creates one broadcast when the same form is posted twice, and moves a night-time send to 09:00', async () => {
    const s = await session();
    const { html, send } = await previewed(s, { channels: 'telegram', text_it: IT, when: 'at', at: '2026-11-23T22:30' });
    expect(html).toContain('It leaves on 24 Nov 2026, 09:00. (Moved: families are written to between 09:00 and 19:00 only.)');
    const first = await post('/desk/broadcasts/new', s, send);
    const again = await post('/desk/broadcasts/new', s, send);
    expect([first.status, again.status]).toEqual([303, 303]);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    const rows = await stored();
    expect(rows).toHaveLength(1);
    expect(new Date(rows[0]!.send_at).toISOString()).toBe('2026-11-24T08:00:00.000Z');
    expect(await t.sql.query(`select count(*)::int as n from public.audit_log where action = 'broadcast.created'`)).toEqual([{ n: 1 }]);
  });

  it('does not send a form changed after its preview: it shows the new preview instead', async () => {
    const s = await session();
    const { send } = await previewed(s, { text_it: IT, when: 'now' });
    const res = await post('/desk/broadcasts/new', s, { ...send, languages: 'it' });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('The form changed after its preview: check the new preview, then send.');
    expect(html).toContain('It goes to 2 people (2 families).');
    expect(await stored()).toEqual([]);
  });

  it('cancels a scheduled broadcast only with the box ticked, as /cancelbroadcast does; a cancelled one cannot be cancelled again', async () => {
    const s = await session();
    const { send } = await previewed(s, { text_it: IT, when: 'at', at: '2026-11-24T10:00' });
    expect((await post('/desk/broadcasts/new', s, send)).status).toBe(303);
    const page = await (await get('/desk/broadcasts/B-1', s.cookie)).text();
    expect(page).toContain('<dd data-fact="status">Scheduled</dd>');
    expect(page).toContain('It has not left yet: cancelling it sends nothing.');

    const unticked = await post('/desk/broadcasts/B-1/cancel', s, {});
    expect(unticked.status).toBe(422);
    expect(await unticked.text()).toMatch(/aria-invalid="true"><label for="cancel-confirm">Yes, cancel B-1<\/label>\s*<p class="field-error" id="cancel-error" role="alert">Tick the box to confirm.<\/p>/);
    expect((await stored())[0]!.status).toBe('scheduled');

    const ticked = await post('/desk/broadcasts/B-1/cancel', s, { confirm: 'yes' });
    expect(ticked.status).toBe(303);
    expect(ticked.headers.get('location')).toBe('/desk/broadcasts/B-1?done=cancelled&messages=0');
    expect((await stored())[0]!.status).toBe('cancelled');
    const after = await (await get(ticked.headers.get('location')!, s.cookie)).text();
    expect(after).toContain('B-1 is cancelled: nothing was sent.');
    expect(after).not.toContain('action="/desk/broadcasts/B-1/cancel"');
    const audit = await t.sql.query<{ action: string; staff: string }>(`select a.action, s.full_name as staff from public.audit_log a join public.staff s on s.id = a.staff_id where a.action = 'broadcast.cancelled'`);
    expect(audit).toEqual([{ action: 'broadcast.cancelled', staff: 'Marco Rossi' }]);

    const twice = await post('/desk/broadcasts/B-1/cancel', s, { confirm: 'yes' });
    expect(twice.status).toBe(409);
    expect(await twice.text()).toContain('B-1 cannot be cancelled: it is Cancelled.');
    expect((await post('/desk/broadcasts/B-9/cancel', s, { confirm: 'yes' })).status).toBe(404);
    // its time comes: nothing is queued
    deps.clock.set('2026-11-24T10:01:00+01:00');
    await job();
    expect(await t.sql.query(`select count(*)::int as n from public.outbox where kind = 'broadcast'`)).toEqual([{ n: 0 }]);
  });

  it('refuses a post without the CSRF token: nothing created, nothing cancelled', async () => {
    const s = await session();
    const { send } = await previewed(s, { text_it: IT, when: 'at', at: '2026-11-24T10:00' });
    const forged = await post('/desk/broadcasts/new', { cookie: s.cookie }, send);
    expect(forged.status).toBe(403);
    expect(await stored()).toEqual([]);
    expect((await post('/desk/broadcasts/new', s, send)).status).toBe(303);
    const cancel = await post('/desk/broadcasts/B-1/cancel', { cookie: s.cookie }, { confirm: 'yes' });
    expect(cancel.status).toBe(403);
    expect((await stored())[0]!.status).toBe('scheduled');
  });

  it('asks for the Italian text and a valid time beside the fields, keeping what she wrote', async () => {
    const s = await session();
    const form = await (await get('/desk/broadcasts/new', s.cookie)).text();
    const key = /name="key" value="([^"]+)"/.exec(form)![1]!;
    const res = await post('/desk/broadcasts/new', s, { key, languages: 'ar', text_ar: AR, when: 'at', at: '2026-11-22T10:00', preview: '1' });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toMatch(/<textarea id="text_it" name="text_it"[^>]*aria-describedby="text_it-hint text_it-error" aria-invalid="true">/);
    expect(html).toContain('<p class="field-error" id="text_it-error">Write the Italian text.</p>');
    expect(html).toContain('<p class="field-error" id="at-error">That time has passed.</p>');
    expect(html).toContain(`>${AR}</textarea>`);
    expect(html).toContain('<input type="checkbox" id="f-languages-ar" name="languages" value="ar" checked>');
    expect(html).toContain(`name="key" value="${key}"`);
  });
});
