import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pgliteDb, type TestDb } from '../../support/door';
import { atAnotherChild, choiceIds, coreDeps, deliverAll, i18n, makeStaff, person, personalRows, registered, texts } from '../../support/chat';

const ar = i18n.t('ar');
const it_ = i18n.t('it');
/** The consent explanation as she reads it: four short messages, the last one asking. */
const consentTexts = (t: (k: string) => string) => [
  t('consent.intro'),
  `${t('consent.what')}\n\n${t('consent.why')}`,
  `${t('consent.who')}\n\n${t('consent.howLong')}`,
  `${t('consent.rights')}\n\n${t('consent.question')}`,
];

describe('first contact and consent', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  beforeEach(async () => {
    t = await pgliteDb();
    deps = coreDeps(t);
  });
  afterEach(() => t.close());

  it('takes a mother writing in Arabic from hello to the main menu, and stores only what she agreed to', async () => {
    const amina = person(deps, { id: '1001', hint: 'ar' });
    const hello = await amina.say('مرحبا');
    expect(texts(hello)).toEqual([ar('greeting.welcome'), ar('greeting.chooseLanguage')]);
    expect(choiceIds(hello)[0]).toBe('lang:ar');
    expect(await personalRows(t)).toMatchObject({ contacts: 1, families: 0, children: 0 });

    const consent = await amina.tap('lang:ar');
    expect(texts(consent)).toEqual([ar('greeting.languageSet'), ...consentTexts(ar)]);
    expect(choiceIds(consent)).toEqual(['consent:yes', 'consent:no']);
    expect(await personalRows(t)).toMatchObject({ families: 0 });

    expect(texts(await amina.tap('consent:yes'))).toEqual([ar('profile.askKind')]);
    expect(texts(await amina.tap('kind:birth'))).toEqual([ar('profile.askName')]);
    expect(texts(await amina.say('Amir'))[0]).toContain('Amir');
    const saved = await amina.say('12/03/2026');
    expect(texts(saved)[0]).toBe(ar('profile.childSaved', { name: 'Amir', date: new Intl.DateTimeFormat('ar', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date('2026-03-12T00:00:00Z')) }));
    expect(texts(await amina.tap('another:no'))).toEqual([ar('profile.askDistrict')]);
    const done = await amina.tap('district:milano-7');
    expect(texts(done)).toEqual([ar('profile.done'), ar('profile.queued'), ar('menu.title')]);
    expect(choiceIds(done)).toEqual(['menu:children', 'menu:nido', 'menu:housing', 'menu:ask', 'menu:help', 'menu:language', 'menu:privacy']);

    const [row] = await t.sql.query<Record<string, unknown>>(`
      select c.language, c.consent, c.consent_source, f.district_code, ch.name, ch.birth_date::text as birth
        from public.contacts c join public.families f on f.id = c.family_id join public.children ch on ch.family_id = f.id`);
    expect(row).toEqual({ language: 'ar', consent: 'given', consent_source: 'chat', district_code: 'milano-7', name: 'Amir', birth: '2026-03-12' });
  });

  it('keeps nothing when she declines, and says how to come back', async () => {
    const rahima = person(deps, { channel: 'whatsapp', id: '+8801711111111', hint: 'bn' });
    await rahima.say('hello');
    await rahima.say('1');
    const no = await rahima.say('2');
    expect(texts(no)).toEqual([i18n.t('bn')('consent.declined')]);
    await deliverAll(t);
    expect(await personalRows(t)).toEqual({ contacts: 0, families: 0, children: 0, family_assignments: 0, media_refs: 0, outbox: 0, link_codes: 0 });

    // coming back starts again, kindly
    expect(texts(await rahima.say('hello'))[0]).toBe(i18n.t('bn')('greeting.welcome'));
  });

  it('deletes a declined contact whose goodbye could never be sent, at housekeeping', async () => {
    const p = person(deps, { id: '76', hint: 'it' });
    await p.say('ciao');
    await p.tap('lang:it');
    await p.tap('consent:no');
    expect((await personalRows(t)).contacts).toBe(1);
    const pruned = await t.db.rpc('housekeeping_prune', { p_before: '2026-12-01T00:00:00Z' });
    expect(pruned.data).toMatchObject({ declined_contacts_deleted: 1 });
    expect(await personalRows(t)).toMatchObject({ contacts: 0, outbox: 0 });
  });

  it('treats STOP before consent as a no, once she confirms it', async () => {
    const p = person(deps, { id: '77', hint: 'it' });
    await p.say('ciao');
    const asked = await p.say('STOP');
    expect(texts(asked)).toEqual([it_('pause.confirmBefore')]);
    expect(choiceIds(asked)).toEqual(['pause:yes', 'pause:no']);
    expect(texts(await p.tap('pause:yes'))).toEqual([it_('consent.declined')]);
    await deliverAll(t);
    expect((await personalRows(t)).contacts).toBe(0);
  });

  it('asks again when the answer to the consent question is neither yes nor no', async () => {
    const p = person(deps, { id: '78', hint: 'it' });
    await p.say('ciao');
    await p.tap('lang:it');
    const again = await p.say('forse');
    expect(texts(again)).toEqual([`${it_('common.notUnderstood')}\n${it_('consent.question')}`]);
    expect(choiceIds(again)).toEqual(['consent:yes', 'consent:no']);
  });

  it('links her to the tutor whose code she sends first, and tells the tutor when she is registered', async () => {
    const tutorContact = await makeStaff(t, 'tutor', 'Giulia Bianchi', '2001');
    await t.sql.query(`insert into public.link_codes (code, purpose, tutor_id, created_at, expires_at) select 'K7M4QP2X', 'family', staff_id, $2::timestamptz, $2::timestamptz + interval '30 days' from public.contacts where id = $1`, [tutorContact, deps.clock.now().toISOString()]);
    const p = person(deps, { id: '1002', hint: 'fr' });
    expect(texts(await p.say('/start K7M4QP2X'))[0]).toBe(i18n.t('fr')('greeting.welcome'));
    await p.tap('lang:fr');
    await p.tap('consent:yes');
    await p.tap('kind:due');
    await p.say('15/03/2027');
    await p.tap('another:no');
    const done = await p.tap('district:other');
    expect(texts(done)[1]).toBe(i18n.t('fr')('profile.linkedTutor', { tutor: 'Giulia' }));
    const [assignment] = await t.sql.query<{ n: number }>(`select count(*)::int as n from public.family_assignments where ended_at is null`);
    expect(assignment!.n).toBe(1);
    const notices = await t.sql.query<{ text: string }>(`select payload->>'text' as text from public.outbox where contact_id = $1`, [tutorContact]);
    expect(notices).toHaveLength(1);
    expect(notices[0]!.text).toMatch(/^Nuova famiglia con il tuo codice: F-\d+ · zona non indicata · Bambino atteso il 15 marzo 2027$/);
  });

  it('says so when a code is unknown, used or expired, and goes on without it', async () => {
    const p = person(deps, { id: '1003', hint: 'es' });
    const out = await p.say('ZZZZ9999');
    // she has no tutor yet: the code came from whoever gave it to her
    expect(texts(out).slice(0, 2)).toEqual([i18n.t('es')('codes.unknown', { context: 'team' }), i18n.t('es')('greeting.welcome')]);
    const tutor = await makeStaff(t, 'tutor', 'Giulia Bianchi', '2001');
    await t.sql.query(`insert into public.link_codes (code, purpose, tutor_id, created_at, expires_at) select 'EXP9RED2', 'family', staff_id, $2::timestamptz - interval '40 days', $2::timestamptz - interval '10 days' from public.contacts where id = $1`, [tutor, deps.clock.now().toISOString()]);
    expect(texts(await p.say('EXP9RED2'))[0]).toBe(i18n.t('es')('codes.expired', { context: 'team' }));
  });

  it.each([
    ['a change of language', async (p: ReturnType<typeof person>) => { await p.say('language'); return p.tap('lang:en'); }],
    ['STOP, then "no, keep it"', async (p: ReturnType<typeof person>) => { await p.say('stop'); return p.tap('pause:no'); }],
    ['a code nobody knows', async (p: ReturnType<typeof person>) => p.say('ZZ99ZZ99')],
  ])('takes registration up again after %s, until her district is known', async (_what, interrupt) => {
    const p = await atAnotherChild(deps, '1001', 'it');
    const back = texts(await interrupt(p)).join('\n');
    const lt = i18n.t(back.includes(i18n.t('en')('greeting.languageSet')) ? 'en' : 'it');
    expect(back).toContain(lt('profile.resume'));
    expect(back).toContain(lt('profile.askAnother'));
    expect(back).not.toContain(lt('menu.title'));
    await p.tap('another:no');
    const done = texts(await p.tap('district:milano-2')).join('\n');
    expect(done).toContain(lt('profile.done'));
    // registered: the next resting point is the menu again
    expect(texts(await p.say('menu')).join('\n')).toContain(lt('menu.title'));
  });

  it('lets her change the language at any time, and STOP pauses while START resumes', async () => {
    const p = await registered(deps, '1004', 'it');
    const ask = await p.say('lingua');
    expect(texts(ask)).toEqual([it_('greeting.chooseLanguage')]);
    const changed = await p.say('English');
    expect(texts(changed)).toEqual([i18n.t('en')('greeting.languageSet'), i18n.t('en')('menu.title')]);

    expect(texts(await p.say('STOP'))).toEqual([i18n.t('en')('pause.confirm')]);
    expect(texts(await p.tap('pause:yes'))).toEqual([i18n.t('en')('pause.stopped')]);
    const [paused] = await t.sql.query<{ status: string }>(`select status from public.contacts where provider_id = '1004'`);
    expect(paused!.status).toBe('paused');
    // a business message waits while she is paused; her replies still go
    const [c] = await t.sql.query<{ id: string }>(`select id from public.contacts where provider_id = '1004'`);
    await t.db.rpc('outbox_enqueue', { p_contact_id: c!.id, p_idempotency_key: 'notice:x', p_kind: 'notice', p_priority: 5, p_payload: { text: 'notice' }, p_not_before: '2026-11-23T09:00:00Z' });
    await deliverAll(t);
    const [held] = await t.sql.query<{ status: string }>(`select status from public.outbox where idempotency_key = 'notice:x'`);
    expect(held!.status).toBe('pending');

    expect(texts(await p.say('start'))).toEqual([i18n.t('en')('pause.resumed'), i18n.t('en')('menu.title')]);
    await deliverAll(t);
    const [sent] = await t.sql.query<{ status: string }>(`select status from public.outbox where idempotency_key = 'notice:x'`);
    expect(sent!.status).toBe('sent');
  });
});
