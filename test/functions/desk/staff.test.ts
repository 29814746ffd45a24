import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pgliteDb, type TestDb } from '../../support/door';
import { coreDeps, makeStaff, person } from '../../support/chat';
import { familyWithChild } from '../../support/families';
import { DESK_PUBLIC_URL, deskRig } from '../../support/desk';

/** 10 February 2027, 10:00 in Milan */
const NOW = '2027-02-10T10:00:00+01:00';

/**
 * Marco (T-1) coordinates; Eva (T-2) follows F-3, which has an urgent and a normal need open and one resolved;
 * Giulia (T-3) follows nobody; Luca (T-4) left. F-1 (English, Telegram, a baby born 10 September 2026) and F-2
 * (Italian, WhatsApp, a baby due 1 March 2027) wait for a tutor, F-2 since a tutor's assignment ended.
 */
async function seed(t: TestDb) {
  await makeStaff(t, 'coordinator', 'Marco Rossi', '500');
  await makeStaff(t, 'tutor', 'Eva Verdi', '501');
  await makeStaff(t, 'tutor', 'Giulia Bianchi', '502');
  await makeStaff(t, 'tutor', 'Luca Neri', '503');
  await t.sql.query(`update public.staff set active = false where full_name = 'Luca Neri'`);
  const f1 = await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-09-10', name: 'Amir' });
  const f2 = await familyWithChild(t, { providerId: '393331112222', channel: 'whatsapp', language: 'it', due: '2027-03-01' });
  const f3 = await familyWithChild(t, { providerId: '1003', language: 'ar', birth: '2026-06-01', name: 'Sara' });
  await t.sql.query(`update public.families set created_at = $2 where id = $1`, [f1.family_id, '2027-01-20T09:00:00Z']);
  await t.sql.query(`update public.families set created_at = $2 where id = $1`, [f2.family_id, '2026-12-01T09:00:00Z']);
  await t.sql.query(`update public.families set created_at = $2 where id = $1`, [f3.family_id, '2026-12-01T09:00:00Z']);
  await t.sql.query(`update public.families set caller_name = 'Fatima' where id = $1`, [f3.family_id]);
  await t.sql.query(`insert into public.family_assignments (family_id, tutor_id, assigned_at, ended_at) select $1, id, '2026-12-02T09:00:00Z', '2027-01-05T09:00:00Z' from public.staff where full_name = 'Luca Neri'`, [f2.family_id]);
  await t.sql.query(`insert into public.family_assignments (family_id, tutor_id, assigned_at) select $1, id, '2026-12-02T09:00:00Z' from public.staff where full_name = 'Eva Verdi'`, [f3.family_id]);
  for (const [category, urgency, status, at] of [['housing', 'urgent', 'open', '2027-02-01T09:00:00Z'], ['health', 'normal', 'in_charge', '2027-02-03T09:00:00Z'], ['work', 'normal', 'resolved', '2027-01-10T09:00:00Z']]) {
    await t.sql.query(`insert into public.needs (family_id, category, urgency, source, status, created_at, updated_at, taken_by, taken_at)
      values ($1, $2, $3, 'menu', $4, $5, $5, case when $4 = 'in_charge' then (select id from public.staff where full_name = 'Eva Verdi') end, case when $4 = 'in_charge' then $5::timestamptz end)`, [f3.family_id, category, urgency, status, at]);
  }
  return { f1, f2, f3 };
}

/** The desk, served, on a seeded database, and a coordinator's session obtained through the chat. */
const deskOn = (t: TestDb) => deskRig(t, NOW);

/** The queue's families on the list page, as the refs of its rows. */
const queueRefs = (html: string) =>
  [...(/<section aria-labelledby="staff-queue">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '').matchAll(/<th scope="row"><a href="\/desk\/staff\/(F-\d+)">/g)].map((m) => m[1]);
const row = (html: string, start: RegExp) => new RegExp(`<tr[^>]*>\\s*${start.source}[\\s\\S]*?</tr>`).exec(html)?.[0] ?? '';
const cells = (tr: string) => [...tr.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((m) => m[1]!.replace(/<form[\s\S]*<\/form>/, '[form]').replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim());

/** Messages queued for others (not the replies to whoever acted), as who gets what: keys aside, they must be equal. */
async function notices(t: TestDb) {
  return t.sql.query<{ to: string; kind: string; payload: unknown }>(
    `select c.provider_id as to, o.kind, o.payload from public.outbox o join public.contacts c on c.id = o.contact_id
      where o.kind <> 'reply' order by o.id`);
}
const audit = async (t: TestDb) => (await t.sql.query<{ action: string; staff: string | null; target: string | null; details: Record<string, unknown> }>(
  `select a.action, s.full_name as staff, coalesce('F-' || f.ref, 'T-' || ts.ref) as target, a.details from public.audit_log a
     left join public.staff s on s.id = a.staff_id left join public.families f on f.id = a.target_id left join public.staff ts on ts.id = a.target_id
    where a.action not in ('desk.link', 'desk.signin') order by a.id`));
const currentTutor = async (t: TestDb, familyRef: number) => (await t.sql.query<{ name: string | null }>(
  `select (select s.full_name from public.family_assignments a join public.staff s on s.id = a.tutor_id where a.family_id = f.id and a.ended_at is null) as name
     from public.families f where f.ref = $1`, [familyRef]))[0]!.name;

describe('the desk\'s staff page: tutors, the queue, assigning, deactivating', () => {
  let t: TestDb;
  let desk: Awaited<ReturnType<typeof deskOn>>;

  beforeEach(async () => {
    t = await pgliteDb();
    await seed(t);
    desk = await deskOn(t);
  });
  afterEach(async () => {
    await desk.close();
    await t.close();
  });

  it('lists each tutor with her caseload and open and urgent needs, and the families waiting, longest first, without names or numbers', async () => {
    const s = await desk.session();
    const res = await desk.get('/desk/staff', s.cookie);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/<a href="\/desk\/staff" aria-current="page">Staff<\/a>/);
    // tutors: active first; the coordinator is not listed while she follows nobody
    const tutors = [...html.matchAll(/<th scope="row"><span class="code">(T-\d+)<\/span>/g)].map((m) => m[1]);
    expect(tutors).toEqual(['T-2', 'T-3', 'T-4']);
    expect(cells(row(html, /<th scope="row"><span class="code">T-2/))).toEqual(['T-2 Eva Verdi', 'Active', '1', '2', '1', 'Deactivate Eva Verdi']);
    expect(cells(row(html, /<th scope="row"><span class="code">T-3/))).toEqual(['T-3 Giulia Bianchi', 'Active', '0', '0', '0', 'Deactivate Giulia Bianchi']);
    expect(cells(row(html, /<th scope="row"><span class="code">T-4/))).toEqual(['T-4 Luca Neri', 'Deactivated', '0', '0', '0', '']);
    expect(html).toContain('Tutors <span class="count">(2 active)</span>');

    // the queue: F-2 waits since Luca's assignment ended (5 January), F-1 since she registered (20 January)
    expect(html).toContain('Families waiting for a tutor <span class="count">(2 families)</span>');
    expect(queueRefs(html)).toEqual(['F-2', 'F-1']);
    expect(cells(row(html, /<th scope="row"><a href="\/desk\/staff\/F-1">/))).toEqual(['F-1', 'Municipio 5 – Vigentino, Chiaravalle, Gratosoglio', 'English', 'Telegram', '20 January 2027', '5 months', '[form]']);
    expect(cells(row(html, /<th scope="row"><a href="\/desk\/staff\/F-2">/))).toEqual(['F-2', 'Municipio 5 – Vigentino, Chiaravalle, Gratosoglio', 'Italian', 'WhatsApp', '5 January 2027', 'expected on 1 March 2027', '[form]']);
    // each row's form offers the active tutors, with how many families each follows
    const form = /<form method="post" action="\/desk\/staff\/F-1" class="assign-inline">[\s\S]*?<\/form>/.exec(html)![0];
    expect(form).toMatch(/<input type="hidden" name="csrf" value="[^"]+">/);
    expect(form).toContain('<label for="assign-F-1" class="vh">Tutor for family F-1</label>');
    expect([...form.matchAll(/<option value="([^"]*)"[^>]*>([^<]*)<\/option>/g)].map((m) => [m[1], m[2]])).toEqual([
      ['', 'Choose a tutor'], ['T-2', 'T-2 Eva Verdi (1 family)'], ['T-3', 'T-3 Giulia Bianchi (0 families)'],
    ]);
    // nothing about the mothers beyond what the queue needs: no child's name, no number
    for (const secret of ['Amir', 'Sara', 'Fatima', '393331112222', '1001']) expect(html).not.toContain(secret);
    // the page looked at, audited as what the coordinator saw (her session was opened on a page that reads no one)
    expect((await audit(t)).map((a) => a.action)).toEqual(['desk.staff']);
  });

  it('says the page in Italian to a coordinator reading the desk in Italian', async () => {
    const s = await desk.session('it');
    const html = await (await desk.get('/desk/staff', s.cookie)).text();
    expect(html).toContain('Famiglie in attesa di una tutor <span class="count">(2 famiglie)</span>');
    expect(cells(row(html, /<th scope="row"><a href="\/desk\/staff\/F-1">/))).toEqual(['F-1', 'Municipio 5 – Vigentino, Chiaravalle, Gratosoglio', 'inglese', 'Telegram', '20 gennaio 2027', '5 mesi', '[form]']);
  });

  it('assigns a family from the queue: she leaves it, the assignment is audited, the mother and the tutor are told', async () => {
    const s = await desk.session();
    const res = await desk.post('/desk/staff/F-1', s, { tutor: 'T-3' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/desk/staff?assigned=F-1&to=T-3');
    const html = await (await desk.get(res.headers.get('location')!, s.cookie)).text();
    expect(html).toContain('<p class="done" role="status">Family F-1 assigned to T-3: she and the tutor have been told.</p>');
    expect(queueRefs(html)).toEqual(['F-2']);
    expect(cells(row(html, /<th scope="row"><span class="code">T-3/)).slice(2, 3)).toEqual(['1']);
    expect(await currentTutor(t, 1)).toBe('Giulia Bianchi');
    expect((await audit(t)).filter((a) => a.action === 'family.assigned')).toEqual([
      { action: 'family.assigned', staff: 'Marco Rossi', target: 'F-1', details: { tutor_id: expect.any(String), desk: true } },
    ]);
    expect((await notices(t)).map((n) => [n.to, n.kind])).toEqual([['1001', 'notice'], ['502', 'staff_notice']]);

    // the same again changes nothing and tells nobody twice
    const again = await desk.post('/desk/staff/F-1', s, { tutor: 'T-3' });
    expect(again.headers.get('location')).toBe('/desk/staff?unchanged=F-1&to=T-3');
    expect(await (await desk.get(again.headers.get('location')!, s.cookie)).text()).toContain('Family F-1 was already followed by T-3: nothing changed.');
    expect(await notices(t)).toHaveLength(2);
    expect((await audit(t)).filter((a) => a.action === 'family.assigned')).toHaveLength(1);
  });

  it.each([
    ['no tutor chosen', {}, 'Choose the tutor to assign the family to.'],
    ['a deactivated tutor', { tutor: 'T-4' }, 'There is no active staff member T-4: choose one from the list.'],
    ['a tutor that does not exist', { tutor: 'T-99' }, 'There is no active staff member T-99: choose one from the list.'],
  ])('refuses an assignment with %s: 422, the error beside the choice, nothing changed or sent', async (_what, fields, message) => {
    const s = await desk.session();
    const res = await desk.post('/desk/staff/F-1', s, fields);
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain(`<p class="field-error" id="assign-error">${message}</p>`);
    expect(html).toMatch(/<select id="assign-tutor" name="tutor" required aria-describedby="assign-hint assign-error" aria-invalid="true">/);
    expect(await currentTutor(t, 1)).toBeNull();
    expect(await notices(t)).toEqual([]);
  });

  it('re-assigns a family from her page; her open needs follow her to the new tutor, and the previous one is told', async () => {
    const s = await desk.session();
    const page = await desk.get('/desk/staff/family?family=f-3', s.cookie);
    expect(page.headers.get('location')).toBe('/desk/staff/F-3');
    const html = await (await desk.get('/desk/staff/F-3', s.cookie)).text();
    expect(html).toContain('<h1>Family F-3</h1>');
    expect(html).toContain('<dt>Tutor</dt><dd>T-2 Eva Verdi</dd>');
    expect(html).toContain('<dt>Needs not yet resolved</dt><dd>2</dd>');
    expect(html).toContain('<label for="assign-tutor">Assign to another tutor</label>');
    for (const secret of ['Sara', 'Fatima', '1003']) expect(html).not.toContain(secret);

    expect((await desk.post('/desk/staff/F-3', s, { tutor: 'T-3' })).headers.get('location')).toBe('/desk/staff?assigned=F-3&to=T-3');
    expect(await currentTutor(t, 3)).toBe('Giulia Bianchi');
    const needs = await t.sql.query<{ assignee: string; status: string }>(`select s.full_name as assignee, n.status from public.needs n join public.staff s on s.id = n.assignee_id where n.status <> 'resolved' order by n.ref`);
    expect(needs).toEqual([{ assignee: 'Giulia Bianchi', status: 'open' }, { assignee: 'Giulia Bianchi', status: 'open' }]);
    expect((await notices(t)).map((n) => [n.to, n.kind])).toEqual([['1003', 'notice'], ['502', 'staff_notice'], ['501', 'staff_notice']]);
  });

  it.each([
    ['from the queue', 1, 'T-2'],
    ['again, to another tutor (her needs and the previous tutor)', 3, 'T-3'],
  ])('queues the very messages the chat\'s /assign queues, assigning %s', async (_what, family, tutor) => {
    // the twin: the same programme, where the coordinator types /assign in the chat
    const twin = await pgliteDb();
    try {
      await seed(twin);
      const chat = coreDeps(twin, NOW);
      await person(chat, { id: '500' }).say(`/assign F-${family} ${tutor}`);
      const s = await desk.session();
      expect((await desk.post(`/desk/staff/F-${family}`, s, { tutor })).status).toBe(303);
      const byDesk = await notices(t);
      expect(byDesk.length).toBeGreaterThanOrEqual(2);
      expect(byDesk).toEqual(await notices(twin));
      expect(await currentTutor(t, family)).toBe(await currentTutor(twin, family));
      const assigned = async (db: TestDb) => (await audit(db)).filter((a) => a.action === 'family.assigned').map((a) => [a.staff, a.target]);
      expect(await assigned(t)).toEqual(await assigned(twin));
    } finally {
      await twin.close();
    }
  });

  it('deactivates a tutor only after showing what happens and with the box ticked; her families go back to the queue', async () => {
    const s = await desk.session();
    const preview = await desk.get('/desk/staff/T-2/deactivate', s.cookie);
    expect(preview.status).toBe(200);
    const html = await preview.text();
    expect(html).toContain('<h1>Deactivate T-2</h1>');
    expect(html).toContain('The family she follows goes back to the queue:');
    expect(html).toContain('<li><a href="/desk/staff/F-3">F-3</a></li>');
    expect(html).toContain('2 open needs go back to the queue, to be taken in charge again.');
    expect(html).toMatch(/<form method="post" action="\/desk\/staff\/T-2\/deactivate" class="form">\s*<input type="hidden" name="csrf"/);
    expect(html).toContain('<input type="checkbox" id="deactivate-confirm" name="confirm" value="yes" required><label for="deactivate-confirm">Yes, deactivate T-2 Eva Verdi</label>');
    expect((await audit(t)).map((a) => a.action)).not.toContain('staff.deactivated');

    const unticked = await desk.post('/desk/staff/T-2/deactivate', s, {});
    expect(unticked.status).toBe(422);
    expect(await unticked.text()).toContain('<p class="field-error" id="deactivate-error" role="alert">To deactivate, tick the confirmation box.</p>');
    expect(await currentTutor(t, 3)).toBe('Eva Verdi');

    const done = await desk.post('/desk/staff/T-2/deactivate', s, { confirm: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/desk/staff?deactivated=T-2');
    const list = await (await desk.get('/desk/staff?deactivated=T-2', s.cookie)).text();
    expect(list).toContain('T-2 deactivated: her families are back in the queue.');
    expect(queueRefs(list)).toEqual(['F-2', 'F-1', 'F-3']);
    expect(cells(row(list, /<th scope="row"><span class="code">T-2/)).slice(1, 5)).toEqual(['Deactivated', '0', '0', '0']);
    expect(await currentTutor(t, 3)).toBeNull();
    expect((await audit(t)).filter((a) => a.action === 'staff.deactivated')).toEqual([
      { action: 'staff.deactivated', staff: 'Marco Rossi', target: 'T-2', details: { families: 1, needs: 2 } },
    ]);
    // done once: asked again, the page says so and nothing more happens
    expect(await (await desk.get('/desk/staff/T-2/deactivate', s.cookie)).text()).toContain('T-2 Eva Verdi is already deactivated.');
    expect((await desk.post('/desk/staff/T-2/deactivate', s, { confirm: 'yes' })).status).toBe(409);
  });

  it('refuses to let a coordinator deactivate herself, on the page and in the database', async () => {
    const s = await desk.session();
    const page = await desk.get('/desk/staff/T-1/deactivate', s.cookie);
    const html = await page.text();
    expect(html).toContain('You cannot deactivate yourself: ask another coordinator.');
    expect(html).not.toContain('name="confirm"');
    expect((await desk.post('/desk/staff/T-1/deactivate', s, { confirm: 'yes' })).status).toBe(403);
    const [{ id }] = await t.sql.query<{ id: string }>(`select id from public.staff where ref = 1`) as [{ id: string }];
    expect((await t.db.rpc('desk_staff_deactivate', { p_staff_id: id, p_staff_ref: 1, p_now: '2027-02-10T09:00:00Z' })).error?.code).toBe('22023');
    expect((await t.sql.query<{ active: boolean }>(`select active from public.staff where ref = 1`))[0]!.active).toBe(true);
    expect((await audit(t)).map((a) => a.action)).not.toContain('staff.deactivated');
  });

  it.each([
    ['without the form token', undefined, { origin: DESK_PUBLIC_URL }],
    ['with another session\'s token', 'A'.repeat(43), { origin: DESK_PUBLIC_URL }],
    ['from another site', 'own', { origin: 'https://evil.example' }],
  ] as const)('refuses an assignment or a deactivation posted %s with 403, and changes nothing', async (_what, token, headers) => {
    const s = await desk.session();
    const asked = { cookie: s.cookie, csrf: token === 'own' ? s.csrf : token };
    expect((await desk.post('/desk/staff/F-1', asked, { tutor: 'T-3' }, headers)).status).toBe(403);
    expect((await desk.post('/desk/staff/T-2/deactivate', asked, { confirm: 'yes' }, headers)).status).toBe(403);
    expect(await currentTutor(t, 1)).toBeNull();
    expect(await currentTutor(t, 3)).toBe('Eva Verdi');
    expect(await notices(t)).toEqual([]);
    // nothing was done, so nothing is audited
    expect((await audit(t)).map((a) => a.action)).toEqual([]);
  });

  it('gives a tutor nothing: the database refuses her every desk staff function', async () => {
    const [{ id }] = await t.sql.query<{ id: string }>(`select id from public.staff where full_name = 'Eva Verdi'`) as [{ id: string }];
    const [{ family }] = await t.sql.query<{ family: string }>(`select id as family from public.families where ref = 1`) as [{ family: string }];
    const now = '2027-02-10T09:00:00Z';
    for (const [fn, args] of [
      ['desk_staff', { p_staff_id: id, p_limit: 10, p_offset: 0, p_now: now }],
      ['desk_family', { p_staff_id: id, p_family_ref: 1, p_now: now }],
      ['desk_assign_context', { p_staff_id: id, p_family_ref: 1, p_tutor_ref: 2 }],
      ['desk_family_assign', { p_staff_id: id, p_family_id: family, p_tutor_id: id, p_notices: [], p_now: now }],
      ['desk_staff_deactivate_preview', { p_staff_id: id, p_staff_ref: 3 }],
      ['desk_staff_deactivate', { p_staff_id: id, p_staff_ref: 3, p_now: now }],
    ] as const) {
      expect((await t.db.rpc(fn, args)).error?.code, fn).toBe('42501');
    }
    expect(await currentTutor(t, 1)).toBeNull();
  });

  it('answers 404 to a family or a staff member that does not exist', async () => {
    const s = await desk.session();
    expect((await desk.get('/desk/staff/F-99', s.cookie)).status).toBe(404);
    expect((await desk.post('/desk/staff/F-99', s, { tutor: 'T-2' })).status).toBe(404);
    expect((await desk.get('/desk/staff/T-99/deactivate', s.cookie)).status).toBe(404);
    expect((await desk.get('/desk/staff/family?family=nobody', s.cookie)).status).toBe(404);
  });
});

describe('the staff page\'s words on the desk', () => {
  const staff = (lang: 'it' | 'en') => (JSON.parse(readFileSync(`locales/desk/${lang}.json`, 'utf8')) as { staff: Record<string, unknown> }).staff;
  const keys = (o: Record<string, unknown>, at = ''): string[] =>
    Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${at}${k}.`) : [`${at}${k}`.replace(/_(one|many|other)$/, '')]));

  it('has the same messages in Italian and English', () => {
    expect([...new Set(keys(staff('en')))].sort()).toEqual([...new Set(keys(staff('it')))].sort());
  });
});
