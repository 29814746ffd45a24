import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { itemLabel } from '../../../bot/care/reminders';
import { parseCallsCsv } from '../../../bot/features/calls/import';
import { planPending } from '../../../bot/features/care/job';
import { pgliteDb, type TestDb } from '../../support/door';
import { choiceIds, coreDeps, i18n, makeStaff, person, texts } from '../../support/chat';
import { familyWithChild, tutorFor } from '../../support/families';

const en = i18n.t('en');
const it_ = i18n.t('it');
const DISTRICTS = ['milano-1', 'milano-2', 'milano-3', 'milano-4', 'milano-5', 'milano-6', 'milano-7', 'milano-8', 'milano-9'];
/** 10 February 2027: the nido window (3–24 February) is open; a child born 10 April 2026 is 10 months old */
const IN_WINDOW = '2027-02-10T10:00:00+01:00';
const AFTER_WINDOW = '2027-03-01T10:00:00+01:00';
const BIRTH = '2026-04-10';

async function importCalls(t: TestDb, csv: string) {
  const parsed = parseCallsCsv(csv, DISTRICTS);
  expect(parsed.errors).toEqual([]);
  const { error } = await t.db.rpc('calls_upsert', { p_rows: parsed.rows, p_now: '2026-11-23T09:00:00Z' });
  if (error) throw new Error(error.message);
}

const SAP_MUNICIPIO_8 = [
  'code,kind,title_it,opens_on,closes_on,districts,isee_max,residence,permit,documents,apply_how,source,checked_on',
  'sap-m8-2027,sap,Avviso SAP Municipio 8 – febbraio 2027,2027-02-01,2027-03-05,milano-8,16000,lombardy,sap,id_document|permit|isee|revenue_stamp,online_spid|sicet,Regione Lombardia (test),2027-01-20',
].join('\n');

describe('the nido and housing menus show the calls that fit her family now', () => {
  let t: TestDb;
  beforeEach(async () => { t = await pgliteDb(); });
  afterEach(() => t.close());

  it('a family with a 10-month-old sees the nido call during the window, and not after it closes', async () => {
    await familyWithChild(t, { providerId: '1001', language: 'en', birth: BIRTH, name: 'Amir' });
    const during = person(coreDeps(t, IN_WINDOW), { id: '1001' });
    const list = await during.tap('menu:nido');
    expect(choiceIds(list)).toContain('call:show:nido-2027');
    expect(texts(list).join('\n')).toContain(`• ${en('calls.kind.nido.name')}: ${en('calls.openUntil', { date: '24 February 2027' })}`);

    const card = await during.tap('call:show:nido-2027');
    const text = texts(card).join('\n');
    expect(text).toContain(en('calls.kind.nido.what'));
    expect(text).toContain(en('calls.forChildren', { children: 'Amir' }));
    expect(text).toContain(en('needs.checkWithService', { context: 'team' }));
    expect(choiceIds(card)).toEqual(['call:elig:nido-2027', 'call:docs:nido-2027', 'call:follow:nido-2027', 'call:help:nido-2027', 'call:applied:nido-2027', 'call:list:nido']);

    const after = person(coreDeps(t, AFTER_WINDOW), { id: '1001' });
    const later = await after.tap('menu:nido');
    expect(choiceIds(later)).not.toContain('call:show:nido-2027');
    // the standing INPS bonus is still there for a child under 3
    expect(choiceIds(later)).toContain('call:show:bonus-nido');
    expect(texts(await after.tap('call:show:nido-2027'))[0]).toContain(en('calls.notFound'));
  });

  it('a baby of four years is too old for nido calls; a family without children is told to add them first', async () => {
    await familyWithChild(t, { providerId: '1002', language: 'en', birth: '2023-01-15', name: 'Sara' });
    const old = await person(coreDeps(t, IN_WINDOW), { id: '1002' }).tap('menu:nido');
    expect(texts(old)[0]).toContain(en('calls.noneNido'));
    await t.sql.query(`delete from public.children`);
    const none = await person(coreDeps(t, IN_WINDOW), { id: '1002' }).tap('menu:nido');
    expect(texts(none)[0]).toContain(en('calls.noChildren'));
  });

  it('a family in another district does not see a district-only housing call; one in the district does', async () => {
    await importCalls(t, SAP_MUNICIPIO_8);
    await familyWithChild(t, { providerId: '1003', language: 'en', birth: BIRTH });
    const [m8] = await t.sql.query<{ family_id: string }>(`select family_id from public.contacts where provider_id = '1003'`);
    await familyWithChild(t, { providerId: '1004', language: 'en', birth: BIRTH });
    await t.sql.query(`update public.families set district_code = 'milano-8' where id = $1`, [m8!.family_id]);

    const inside = await person(coreDeps(t, IN_WINDOW), { id: '1003' }).tap('menu:housing');
    expect(choiceIds(inside)).toContain('call:show:sap-m8-2027');
    const outside = await person(coreDeps(t, IN_WINDOW), { id: '1004' }).tap('menu:housing');
    expect(choiceIds(outside)).not.toContain('call:show:sap-m8-2027');
    // the citywide measures are there for both, and the way to say "I am being evicted"
    expect(choiceIds(outside)).toEqual(expect.arrayContaining(['call:show:sat-milano', 'call:show:affitto-unica', 'call:evicted']));
  });
});

describe('eligibility and the documents checklist', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await pgliteDb();
    await familyWithChild(t, { providerId: '2001', language: 'en', birth: BIRTH, name: 'Amir' });
  });
  afterEach(() => t.close());

  const answerAll = async (answers: string[]) => {
    const p = person(coreDeps(t, IN_WINDOW), { id: '2001' });
    let replies = await p.tap('call:elig:nidi-gratis');
    expect(texts(replies)[0]).toContain(en('calls.eligIntro', { context: 'team' }));
    expect(texts(replies)[0]).toContain(en('calls.q.isee', { amount: '€25,000' }));
    for (const [i, a] of answers.entries()) replies = await p.tap(`call:ans:nidi-gratis:${i}:${a}`);
    return texts(replies).join('\n');
  };

  it('"yes" to every question: she is likely eligible', async () => {
    expect(await answerAll(['yes', 'yes'])).toContain(en('calls.likely'));
  });

  it('"no" to the ISEE question: she is told why she may not be eligible, and to talk to her tutor anyway', async () => {
    expect(await answerAll(['no', 'yes'])).toContain(en('calls.unlikely', { context: 'team', reasons: en('calls.short.isee', { amount: '€25,000' }) }));
  });

  it('"I don\'t know": it is unclear, and she is told what an ISEE is and where to get it', async () => {
    const said = await answerAll(['unsure', 'yes']);
    expect(said).toContain(en('calls.unclear', { context: 'team', reasons: en('calls.short.isee', { amount: '€25,000' }) }));
    expect(said).toContain(en('calls.iseeHint'));
    const [row] = await t.sql.query<{ answers: Record<string, string> }>(`select answers from public.call_follows`);
    expect(row!.answers).toEqual({ isee: 'unsure', residence_lombardy: 'yes' });
  });

  it('the checklist she ticks is still there days later, with where to get the missing documents', async () => {
    const monday = person(coreDeps(t, IN_WINDOW), { id: '2001' });
    const list = await monday.tap('call:docs:nido-2027');
    expect(texts(list)[0]).toContain(`⬜ ${en('calls.doc.spid')}`);
    expect(texts(list)[0]).toContain(`${en('calls.doc.spid')}: ${en('calls.where.spid')}`);
    const ticked = await monday.tap('call:doc:nido-2027:spid');
    expect(texts(ticked)[0]).toContain(`✅ ${en('calls.doc.spid')}`);
    await monday.tap('call:doc:nido-2027:codice_fiscale');

    const friday = person(coreDeps(t, '2027-02-14T10:00:00+01:00'), { id: '2001' });
    const again = texts(await friday.tap('call:docs:nido-2027'))[0]!;
    expect(again).toContain(`✅ ${en('calls.doc.spid')}`);
    expect(again).toContain(`✅ ${en('calls.doc.codice_fiscale')}`);
    expect(again).toContain(`⬜ ${en('calls.doc.isee_minors')}`);
    expect(again).not.toContain(`${en('calls.doc.spid')}: ${en('calls.where.spid')}`);
    expect(texts(await friday.tap('call:show:nido-2027'))[0]).toContain(en('calls.docsProgress', { done: 2, total: 5 }));
    // a second tap undoes
    expect(texts(await friday.tap('call:doc:nido-2027:spid'))[0]).toContain(`⬜ ${en('calls.doc.spid')}`);
  });
});

describe('what she told about calls is hers to see and erase', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await pgliteDb();
    await familyWithChild(t, { providerId: '2101', language: 'en', birth: BIRTH, name: 'Amir' });
  });
  afterEach(() => t.close());

  it('My data shows her checklist and answers; erasing removes them', async () => {
    const p = person(coreDeps(t, IN_WINDOW), { id: '2101' });
    await p.tap('call:doc:nido-2027:spid');
    await p.tap('call:elig:nidi-gratis');
    await p.tap('call:ans:nidi-gratis:0:no');
    await p.tap('call:ans:nidi-gratis:1:yes');
    const [summary] = texts(await p.tap('privacy:show'));
    expect(summary).toContain(`• ${en('calls.kind.nido.name')}: ${en('calls.docsProgress', { done: 1, total: 5 })}`);
    expect(summary).toContain(`${en('calls.short.isee', { amount: '€25,000' })}: ${en('calls.no')}`);
    await p.tap('privacy:erase');
    await p.tap('erase:yes');
    const [left] = await t.sql.query<{ n: number }>(`select count(*)::int as n from public.call_follows`);
    expect(left!.n).toBe(0);
  });
});

describe('nido and vaccinations', () => {
  let t: TestDb;
  beforeEach(async () => { t = await pgliteDb(); });
  afterEach(() => t.close());

  it('a child whose mandatory vaccinations look incomplete gets a gentle warning with the way to fix it; a child in order does not', async () => {
    const { child_id: late } = await familyWithChild(t, { providerId: '3001', language: 'en', birth: BIRTH, name: 'Amir' });
    const { child_id: inOrder } = await familyWithChild(t, { providerId: '3002', language: 'en', birth: BIRTH, name: 'Lina' });
    await planPending(t.db, '2027-02-10', '2027-02-10T09:00:00Z');
    await t.sql.query(`update public.child_plan set status = 'done', done_on = due_on where child_id = $1`, [inOrder]);
    const [hexa] = await t.sql.query<{ n: number }>(`select count(*)::int as n from public.child_plan where child_id = $1 and item_code like 'hexa-%'`, [late]);
    expect(hexa!.n).toBe(3);

    const [before] = en('calls.vaccineWarning', { child: 'Amir', items: '§' }).split('§');
    const warned = texts(await person(coreDeps(t, IN_WINDOW), { id: '3001' }).tap('menu:nido')).join('\n');
    expect(warned).toContain(before);
    expect(warned).toContain(itemLabel(en, { group_key: 'hexa', dose: 1, name_it: '' }));
    // not a vaccine that is only recommended
    expect(warned).not.toContain(itemLabel(en, { group_key: 'rota', dose: 1, name_it: '' }));
    const card = texts(await person(coreDeps(t, IN_WINDOW), { id: '3001' }).tap('call:show:nido-2027')).join('\n');
    expect(card).toContain(before);

    const fine = texts(await person(coreDeps(t, IN_WINDOW), { id: '3002' }).tap('menu:nido')).join('\n');
    expect(fine).not.toContain('⚠️');
  });
});

describe('help to apply: her tutor gets the call, her answers and her checklist, and records the application and its outcome', () => {
  let t: TestDb;
  let family: string;
  beforeEach(async () => {
    t = await pgliteDb();
    ({ family_id: family } = await familyWithChild(t, { providerId: '4001', language: 'en', birth: BIRTH, name: 'Amir' }));
    await tutorFor(t, family, '4900');
  });
  afterEach(() => t.close());

  it('opens an education need with the call and what she prepared; the tutor marks it applied, then ranked 12th', async () => {
    const deps = coreDeps(t, IN_WINDOW);
    const mother = person(deps, { id: '4001' });
    await mother.tap('call:doc:nido-2027:spid');
    await mother.tap('call:follow:nido-2027');
    const sent = texts(await mother.tap('call:help:nido-2027'));
    const [need] = await t.sql.query<{ ref: string; category: string; details: { call: string; docs: string[] } }>(`select ref::text, category, details from public.needs`);
    expect(sent[0]).toContain(en('calls.helpSent', { tutor: 'Giulia', title: en('calls.kind.nido.name'), need: `N-${need!.ref}` }));
    expect(need).toMatchObject({ category: 'education', details: { call: 'nido-2027', docs: ['spid'] } });
    // asking twice does not open a second request
    expect(texts(await mother.tap('call:help:nido-2027'))[0]).toBe(en('calls.helpAlready', { need: `N-${need!.ref}` }));

    const [alert] = await t.sql.query<{ text: string; choices: { id: string }[] }>(
      `select o.payload->>'text' as text, o.payload->'choices' as choices from public.outbox o join public.contacts c on c.id = o.contact_id where c.provider_id = '4900'`);
    expect(alert!.text).toContain(it_('calls.staffHelp', { title: "Iscrizioni nidi d'infanzia 2027/28", when: it_('calls.openUntil', { date: '24 febbraio 2027' }) }));
    expect(alert!.text).toContain(it_('calls.staffDocs', { done: 1, total: 5, missing: ['codice_fiscale', 'id_document', 'isee_minors', 'vaccinations'].map((d) => it_(`calls.doc.${d}`)).join(', ') }));
    expect(alert!.choices.map((c) => c.id)).toEqual(expect.arrayContaining([`callneed:applied:${need!.ref}`, `callneed:result:${need!.ref}`]));

    const tutor = person(deps, { id: '4900' });
    const [fam] = await t.sql.query<{ ref: string }>(`select ref::text from public.families where id = $1`, [family]);
    expect(texts(await tutor.tap(`callneed:applied:${need!.ref}`))[0]).toBe(it_('calls.staffAppliedOk', { family: fam!.ref, title: "Iscrizioni nidi d'infanzia 2027/28" }));
    const [follow] = await t.sql.query<{ applied: boolean; following: boolean }>(`select applied_at is not null as applied, following from public.call_follows`);
    expect(follow).toEqual({ applied: true, following: false });
    const [told] = await t.sql.query<{ text: string }>(`select o.payload->>'text' as text from public.outbox o join public.contacts c on c.id = o.contact_id where c.provider_id = '4001' and o.idempotency_key like '%applied-by-staff%'`);
    expect(told!.text).toBe(en('calls.appliedByTutor', { title: en('calls.kind.nido.name') }));

    await tutor.tap(`callneed:result:${need!.ref}`);
    expect(texts(await tutor.tap(`callneed:outcome:${need!.ref}:ranked`))[0]).toBe(it_('calls.staffAskRank'));
    expect(texts(await tutor.say('dodici'))[0]).toBe(it_('calls.staffAskRank'));
    await tutor.say('12');
    const [outcome] = await t.sql.query<{ outcome: string; ranking: number }>(`select outcome, ranking from public.call_follows`);
    expect(outcome).toEqual({ outcome: 'ranked', ranking: 12 });
  });

  it('another tutor cannot mark the application of a family she does not follow', async () => {
    const mother = person(coreDeps(t, IN_WINDOW), { id: '4001' });
    await mother.tap('call:help:nido-2027');
    const [need] = await t.sql.query<{ ref: string }>(`select ref::text from public.needs`);
    const other = await t.sql.query<{ id: string }>(`insert into public.staff (role, full_name) values ('tutor', 'Paola Neri') returning id`);
    await t.sql.query(`insert into public.contacts (channel, provider_id, language, language_confirmed, consent, staff_id) values ('telegram', '4901', 'it', true, 'given', $1)`, [other[0]!.id]);
    const replies = await person(coreDeps(t, IN_WINDOW), { id: '4901' }).tap(`callneed:applied:${need!.ref}`);
    expect(texts(replies)[0]).toBe(it_('staff.unknownNeed', { need: `N-${need!.ref}` }));
    const [follow] = await t.sql.query<{ applied: boolean }>(`select applied_at is not null as applied from public.call_follows`);
    expect(follow?.applied ?? false).toBe(false);
  });
});

describe('"I am being evicted"', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await pgliteDb();
    const { family_id } = await familyWithChild(t, { providerId: '5001', language: 'it', birth: BIRTH });
    await tutorFor(t, family_id, '5900');
    await familyWithChild(t, { providerId: '5002', language: 'en', birth: BIRTH });
  });
  afterEach(() => t.close());

  it('in her words opens an urgent housing need and points to SAT, SICET and rent support', async () => {
    const replies = texts(await person(coreDeps(t), { id: '5001' }).say('Il padrone di casa ci ha mandato lo sfratto, entro marzo dobbiamo uscire'));
    const [need] = await t.sql.query<{ ref: string; category: string; urgency: string }>(`select ref::text, category, urgency from public.needs`);
    expect(need).toMatchObject({ category: 'housing', urgency: 'urgent' });
    expect(replies[0]).toBe(it_('calls.evictionSent', { tutor: 'Giulia', need: `N-${need!.ref}` }));
    expect(replies[1]).toContain(it_('calls.kind.sat.name'));
    expect(replies[1]).toContain(it_('calls.kind.arrears.name'));
    expect(replies[1]).toContain(it_('calls.kind.rent_support.name'));
    expect(replies[1]).toContain(it_('calls.sicet'));
    // her words reach the tutor, marked urgent
    const [alert] = await t.sql.query<{ text: string }>(`select o.payload->>'text' as text from public.outbox o join public.contacts c on c.id = o.contact_id where c.provider_id = '5900'`);
    expect(alert!.text).toContain('sfratto');
  });

  it('from the housing menu asks her to tell what is happening; a second message joins the same urgent need', async () => {
    const p = person(coreDeps(t), { id: '5002' });
    const replies = texts(await p.tap('call:evicted'));
    expect(replies[2]).toBe(en('needs.urgentDescribe', { context: 'team' }));
    await p.say('The landlord changed the lock');
    expect(texts(await p.say('We are being evicted tomorrow'))[0]).toBe(en('needs.urgentAgain', { context: 'team' }));
    const needs = await t.sql.query<{ n: number }>(`select count(*)::int as n from public.needs`);
    expect(needs[0]!.n).toBe(1);
    const [thread] = await t.sql.query<{ n: number }>(`select count(*)::int as n from public.need_messages`);
    expect(thread!.n).toBe(2);
  });
});

describe('staff: the calls and closing one', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await pgliteDb();
    await familyWithChild(t, { providerId: '6001', language: 'en', birth: BIRTH });
    await makeStaff(t, 'coordinator', 'Marco Rossi', '6900');
    await makeStaff(t, 'tutor', 'Giulia Bianchi', '6901');
  });
  afterEach(() => t.close());

  it('lists the calls with their counts; a coordinator closes one and families stop seeing it; a tutor may not', async () => {
    const deps = coreDeps(t, IN_WINDOW);
    await person(deps, { id: '6001' }).tap('call:follow:nido-2027');
    const list = texts(await person(deps, { id: '6901' }).say('/bandi'))[0]!;
    expect(list).toContain(it_('calls.staffListLine', { code: 'nido-2027', title: "Iscrizioni nidi d'infanzia 2027/28", when: it_('calls.openUntil', { date: '24 febbraio 2027' }), following: 1, applied: 0 }));

    expect(texts(await person(deps, { id: '6901' }).say('/chiudibando nido-2027'))[0]).toBe(it_('staff.notAllowed'));
    expect(texts(await person(deps, { id: '6900' }).say('/closecall nope'))[0]).toBe(it_('calls.staffUnknownCall', { code: 'nope' }));
    expect(texts(await person(deps, { id: '6900' }).say('/closecall nido-2027'))[0]).toBe(it_('calls.staffCloseOk', { code: 'nido-2027' }));
    expect(choiceIds(await person(deps, { id: '6001' }).tap('menu:nido'))).not.toContain('call:show:nido-2027');
  });
});
