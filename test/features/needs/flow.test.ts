import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bot/config';
import { createLogger } from '../../../bot/logger';
import { libreTranslate } from '../../../bot/knowledge/translate';
import { runJob, type JobDeps } from '../../../functions/jobs';
import { escalations, needsDigest } from '../../../bot/features/needs/job';
import { coreDeps, i18n, makeStaff, person, texts, type Person } from '../../support/chat';
import { pgliteDb, type TestDb } from '../../support/door';
import { fakeTranslate } from '../../support/fake-translate';
import { familyWithChild, tutorFor } from '../../support/families';

const it_ = i18n.t('it');
const ur = i18n.t('ur');
const NOW = '2026-11-23T10:00:00+01:00';

/** She asks for help in an area, skips the name question and describes it. */
async function askForHelp(p: Person, area: string, words: string) {
  await p.tap('menu:help');
  await p.tap(`need:cat:${area}`);
  await p.tap('need:noname');
  return p.say(words);
}

interface OutRow { key: string; kind: string; text: string; choices: { id: string; label: string }[] | null }

describe('needs: from her words to her tutor and back', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  beforeEach(async () => {
    t = await pgliteDb();
    deps = coreDeps(t, NOW);
  });
  afterEach(() => t.close());

  const outboxOf = (contactId: string) => t.sql.query<OutRow>(
    `select idempotency_key as key, kind, payload->>'text' as text, payload->'choices' as choices from public.outbox where contact_id = $1 order by id`, [contactId]);
  const needRow = () => t.sql.query<{ id: string; ref: number; kind: string; category: string; urgency: string; status: string; language: string; outcome: string | null; source: string }>(
    `select id, ref::int, kind, category, urgency, status, language, outcome, source from public.needs order by created_at, ref`);
  const thread = (needId: string) => t.sql.query<{ author: string; language: string; body: string | null; translation: string | null }>(
    `select author, language, body, translation from public.need_messages where need_id = $1 order by seq`, [needId]);
  const jobDeps = (): JobDeps => ({ db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n });

  it('takes a need from a mother on WhatsApp in Urdu to her tutor on Telegram: take charge, reply, her answer, resolve; every step stored', async () => {
    const fam = await familyWithChild(t, { providerId: '+923001234567', channel: 'whatsapp', language: 'ur', birth: '2026-01-10', name: 'Ayesha', lastInboundAt: '2026-11-23T08:00:00Z' });
    const tutorContact = await tutorFor(t, fam.family_id, '2001');
    const mother = person(deps, { channel: 'whatsapp', id: '+923001234567' });
    const tutor = person(deps, { id: '2001' });

    const areas = await mother.tap('menu:help');
    expect(areas[0]!.choices!.map((c) => c.label)).toContain(ur('needs.category.documents'));
    expect(texts(await mother.tap('need:cat:documents'))).toEqual([ur('needs.askName')]);
    const words = 'میرا پرمٹ ختم ہو رہا ہے، تجدید میں مدد چاہیے';
    expect(texts(await mother.say('Fatima'))).toEqual([ur('needs.nameThanks', { name: 'Fatima' }), ur('needs.describe', { area: ur('needs.category.documents') })]);
    const sent = texts(await mother.say(words));
    const [need] = await needRow();
    expect(need).toMatchObject({ kind: 'need', category: 'documents', urgency: 'normal', status: 'open', language: 'ur', source: 'menu' });
    expect(sent[0]).toBe(ur('needs.sent', { tutor: 'Giulia', need: `N-${need!.ref}` }));
    expect(await thread(need!.id)).toEqual([{ author: 'family', language: 'ur', body: words, translation: null }]);

    // the alert: Italian, her first name and district, the child's age, the area, her words with their language, the actions
    const [alert] = await outboxOf(tutorContact);
    expect(alert!.kind).toBe('staff_notice');
    expect(alert!.text.split('\n')).toEqual([
      `📌 Nuova richiesta N-${need!.ref} · ${it_('needs.category.documents')}`,
      `Famiglia F-${fam.ref} · Fatima · Municipio 5 – Vigentino, Chiaravalle, Gratosoglio`,
      'Bambini: Ayesha (10 mesi)',
      `Le sue parole (urdu): «${words}»`,
      it_('staff.needCommands', { need: `N-${need!.ref}` }),
    ]);
    expect(alert!.choices!.map((c) => c.id)).toEqual(['take', 'reply', 'resolve', 'hand'].map((v) => `need:${v}:${need!.ref}`));

    // take charge: she is told, in Urdu, by her tutor's first name
    await tutor.tap(`need:take:${need!.ref}`);
    expect((await needRow())[0]!.status).toBe('in_charge');
    const motherContact = (await t.sql.query<{ id: string }>(`select id from public.contacts where provider_id = '+923001234567'`))[0]!.id;
    expect((await outboxOf(motherContact)).at(-1)!.text).toBe(ur('needs.taken', { tutor: 'Giulia' }));

    // reply: the tutor is asked for the words, which reach her labelled as her tutor's
    expect(texts(await tutor.tap(`need:reply:${need!.ref}`))[0]).toContain(`N-${need!.ref}`);
    const reply = 'Ciao Fatima, vieni giovedì alle 10 con il permesso e il passaporto.';
    expect(texts(await tutor.say(reply))[0]).toBe(it_('staff.replySent', { need: `N-${need!.ref}` }));
    const toHer = (await outboxOf(motherContact)).at(-1)!;
    expect(toHer).toMatchObject({ kind: 'tutor_reply', text: ur('needs.fromTutor', { tutor: 'Giulia', words: reply }) });

    // what she writes back while the need is open reaches the tutor
    const answer = 'ٹھیک ہے، شکریہ';
    expect(texts(await mother.say(answer))).toEqual([ur('needs.relayed', { tutor: 'Giulia' })]);
    const followUp = (await outboxOf(tutorContact)).at(-1)!;
    expect(followUp.text).toBe([it_('staff.needFollowUp', { need: `N-${need!.ref}`, family: `F-${fam.ref}`, name: 'Fatima' }), `Le sue parole (urdu): «${answer}»`].join('\n'));

    // resolve with an outcome
    const outcomes = await tutor.tap(`need:resolve:${need!.ref}`);
    expect(outcomes[0]!.choices!.map((c) => c.id)).toEqual(['solved', 'referred', 'not_reachable', 'not_needed'].map((o) => `need:outcome:${need!.ref}:${o}`));
    await tutor.tap(`need:outcome:${need!.ref}:solved`);
    expect((await needRow())[0]).toMatchObject({ status: 'resolved', outcome: 'solved' });
    expect((await outboxOf(motherContact)).at(-1)!.text).toBe(ur('needs.resolved', { tutor: 'Giulia' }));

    expect((await thread(need!.id)).map((m) => [m.author, m.body])).toEqual([['family', words], ['staff', reply], ['family', answer]]);
    const audit = await t.sql.query<{ action: string }>(`select action from public.audit_log where target_id = $1 order by id`, [need!.id]);
    expect(audit.map((a) => a.action)).toEqual(['need.read', 'need.taken', 'need.read', 'need.read', 'need.replied', 'need.read', 'need.read', 'need.resolved']);
    // resolved: her next words are not relayed any more
    const before = (await outboxOf(tutorContact)).length;
    await mother.say('شکریہ');
    expect((await outboxOf(tutorContact)).length).toBe(before);
  });

  it('works the same with commands, and a tutor can hand a need to a colleague who is then alerted', async () => {
    const fam = await familyWithChild(t, { providerId: '1001', language: 'it', birth: '2026-01-10', name: 'Amir' });
    await tutorFor(t, fam.family_id, '2001');
    const other = await makeStaff(t, 'tutor', 'Marta Neri', '2002');
    const [{ ref: martaRef }] = (await t.sql.query<{ ref: number }>(`select s.ref::int as ref from public.staff s join public.contacts c on c.staff_id = s.id where c.id = $1`, [other])) as [{ ref: number }];
    const mother = person(deps, { id: '1001' });
    await askForHelp(mother, 'housing', 'Il padrone di casa vuole aumentare l\'affitto, cosa posso fare?');
    const [need] = await needRow();
    const tutor = person(deps, { id: '2001' });
    expect(texts(await tutor.say('/needs'))[0]).toContain(`🟡 N-${need!.ref} · ${it_('needs.category.housing')} · F-${fam.ref} ${it_('staff.noName')}`);
    expect(texts(await tutor.say(`/need N-${need!.ref}`))[0]).toContain('Il padrone di casa');
    await tutor.say(`/hand N-${need!.ref} T-${martaRef}`);
    const [alert] = await outboxOf(other);
    expect(alert!.text).toContain(`N-${need!.ref}`);
    expect(alert!.text).toContain(it_('staff.handedBy', { name: 'Giulia Bianchi' }));
    const marta = person(deps, { id: '2002' });
    await marta.say(`/reply N-${need!.ref} Ti chiamo domani mattina.`);
    expect((await thread(need!.id)).at(-1)).toMatchObject({ author: 'staff', body: 'Ti chiamo domani mattina.' });
    await marta.say(`/resolve N-${need!.ref} referred`);
    expect((await needRow())[0]).toMatchObject({ status: 'resolved', outcome: 'referred' });
  });

  it('never lets a tutor see or act on a need of a family not assigned to them, nor a mother use staff commands', async () => {
    const fam = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });
    await tutorFor(t, fam.family_id, '2001');
    await makeStaff(t, 'tutor', 'Luca Verdi', '2003');
    const mother = person(deps, { id: '1001' });
    await askForHelp(mother, 'work', 'Cerco un lavoro part-time la mattina');
    const [need] = await needRow();
    const stranger = person(deps, { id: '2003' });
    for (const attempt of [`/need N-${need!.ref}`, `/take N-${need!.ref}`, `/reply N-${need!.ref} ciao`, `/resolve N-${need!.ref} solved`]) {
      expect(texts(await stranger.say(attempt))[0]).toBe(it_('staff.unknownNeed', { need: `N-${need!.ref}` }));
    }
    expect(texts(await stranger.say('/needs'))[0]).toContain(it_('staff.needsNone'));
    // the buttons, forged: same answer, nothing changed
    expect(texts(await stranger.tap(`need:take:${need!.ref}`))[0]).toBe(it_('staff.unknownNeed', { need: `N-${need!.ref}` }));
    expect((await needRow())[0]!.status).toBe('open');
    // the database refuses too, whatever a flow decided
    const strangerContact = (await t.sql.query<{ id: string }>(`select id from public.contacts where provider_id = '2003'`))[0]!.id;
    const forged = await t.db.rpc('effect_apply', { p_contact_id: strangerContact, p_effect: { op: 'needs.resolve', need_id: need!.id, outcome: 'solved' }, p_now: NOW });
    expect(forged.error?.code).toBe('42501');
    // a mother typing staff commands gets her own menu, and sees no staff action
    expect(texts(await mother.say(`/take N-${need!.ref}`))).toEqual([`${it_('common.notUnderstood')}\n${it_('menu.title')}`]);
    expect(texts(await mother.tap(`need:take:${need!.ref}`))).toEqual([`${it_('common.notUnderstood')}\n${it_('menu.title')}`]);
    expect(await needRow()).toMatchObject([{ status: 'open' }]);
    expect(JSON.stringify((await t.db.rpc('privacy_export', { p_contact_id: (await t.sql.query<{ id: string }>(`select id from public.contacts where provider_id = '1001'`))[0]!.id })).data)).not.toContain('audit');
  });

  it.each([
    ['it', 'Aiuto, mio marito mi picchia ogni sera'],
    ['ar', 'زوجي يضربني كل يوم'],
    ['zh', '我丈夫打我，我很害怕'],
  ] as const)('danger words in %s give the emergency numbers at once and an urgent need; 30 minutes untaken → every coordinator, once', async (lng, words) => {
    const fam = await familyWithChild(t, { providerId: `m-${lng}`, language: lng, birth: '2026-01-10' });
    await tutorFor(t, fam.family_id, '2001');
    const c1 = await makeStaff(t, 'coordinator', 'Anna Rossi', '3001');
    const c2 = await makeStaff(t, 'coordinator', 'Paolo Blu', '3002');
    const mother = person(deps, { id: `m-${lng}` });
    const replies = texts(await mother.say(words));
    const lt = i18n.t(lng);
    for (const n of ['112', '1522', '114']) expect(replies[0]).toContain(n);
    expect(replies[0]).toContain(lng === 'zh' ? lt('needs.emergency1522Mediator') : lt('needs.emergency1522Speaks', { language: new Intl.DisplayNames([lng], { type: 'language' }).of(lng) }));
    const [need] = await needRow();
    expect(replies[1]).toBe(lt('safety.toldTutor', { tutor: 'Giulia', need: `N-${need!.ref}` }));
    expect(need).toMatchObject({ urgency: 'urgent', category: 'protection', source: 'danger', status: 'open' });

    const at = (minutes: number) => new Date(new Date(NOW).getTime() + minutes * 60_000);
    expect((await runJob(escalations, jobDeps(), at(29))).ran && (await outboxOf(c1)).length).toBe(0);
    await runJob(escalations, jobDeps(), at(31));
    for (const c of [c1, c2]) {
      const rows = await outboxOf(c);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.text).toContain(`🆘 URGENTE N-${need!.ref}`);
    }
    await runJob(escalations, jobDeps(), at(40));
    await runJob(escalations, jobDeps(), at(120));
    expect((await outboxOf(c1)).length).toBe(1);
  });

  it('the protection area gives the numbers and opens an urgent need; what she adds joins it, never a second one', async () => {
    const fam = await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-01-10' });
    const tutorContact = await tutorFor(t, fam.family_id, '2001');
    const mother = person(deps, { id: '1001' });
    await mother.tap('menu:help');
    const r = texts(await mother.tap('need:cat:protection'));
    expect(r[0]).toContain('1522');
    expect(r[1]).toBe(i18n.t('en')('needs.urgentDescribe'));
    await mother.say('My partner threatens me and I am afraid for my baby');
    await mother.say('he hits me');
    const needs = await needRow();
    expect(needs).toHaveLength(1);
    expect((await thread(needs[0]!.id)).map((m) => m.body)).toEqual(['My partner threatens me and I am afraid for my baby', 'he hits me']);
    expect((await outboxOf(tutorContact))[0]!.text.split('\n')[0]).toBe(`🆘 URGENTE N-${needs[0]!.ref} · ${it_('needs.category.protection')}`);
  });

  it('reminds the tutor once about a need nobody took in 48 hours, and sends each tutor a morning digest', async () => {
    const fam = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });
    const tutorContact = await tutorFor(t, fam.family_id, '2001');
    const mother = person(deps, { id: '1001' });
    await askForHelp(mother, 'health', 'Il bambino ha la tosse da una settimana, a chi chiedo?');
    const [need] = await needRow();
    const at = (hours: number) => new Date(new Date(NOW).getTime() + hours * 3_600_000);
    await runJob(escalations, jobDeps(), at(47));
    expect(await outboxOf(tutorContact)).toHaveLength(1);
    await runJob(escalations, jobDeps(), at(49));
    await runJob(escalations, jobDeps(), at(60));
    const rows = await outboxOf(tutorContact);
    expect(rows).toHaveLength(2);
    const lines = rows[1]!.text.split('\n');
    expect(lines[0]).toBe(it_('staff.reminderOpen', { need: `N-${need!.ref}`, category: it_('needs.category.health'), duration: it_('staff.durationDays', { count: 2 }) }));
    expect(lines[1]).toContain(`F-${fam.ref}`);
    await runJob(needsDigest, jobDeps(), new Date('2026-11-26T08:30:00+01:00'));
    const digest = (await outboxOf(tutorContact)).at(-1)!;
    expect(digest.text.split('\n')[0]).toBe(it_('staff.digestHead', { count: 1 }));
    expect(digest.text).toContain(`N-${need!.ref}`);
  });

  describe('translation', () => {
    it('on: the tutor sees the original and the Italian; she sees the reply in Urdu and can ask for the original', async () => {
      const fake = await fakeTranslate();
      try {
        const d = coreDeps(t, NOW, { translate: libreTranslate({ url: fake.url, logger: createLogger('silent') }) });
        const fam = await familyWithChild(t, { providerId: '1001', language: 'ur', birth: '2026-01-10', name: 'Ayesha' });
        const tutorContact = await tutorFor(t, fam.family_id, '2001');
        const mother = person(d, { id: '1001' });
        await askForHelp(mother, 'health', 'بچے کو بخار ہے');
        const [alert] = await outboxOf(tutorContact);
        expect(alert!.text).toContain('Le sue parole (urdu): «بچے کو بخار ہے»');
        expect(alert!.text).toContain(it_('staff.needTranslation', { words: '[it] بچے کو بخار ہے' }));
        const [need] = await needRow();
        const tutor = person(d, { id: '2001' });
        expect(texts(await tutor.tap(`need:reply:${need!.ref}`))[0]).toContain(it_('staff.replyTranslated', { language: 'urdu' }));
        await tutor.say('Portalo dal pediatra oggi.');
        const toHer = (await t.sql.query<{ text: string }>(`select payload->>'text' as text from public.outbox where kind = 'tutor_reply'`))[0]!;
        expect(toHer.text).toBe(`${ur('needs.fromTutor', { tutor: 'Giulia', words: '[ur] Portalo dal pediatra oggi.' })}\n\n${ur('needs.translatedNote')}`);
        expect(texts(await mother.say(ur('keywords.original')))).toEqual([ur('needs.original', { tutor: 'Giulia', language: new Intl.DisplayNames(['ur'], { type: 'language' }).of('it'), words: 'Portalo dal pediatra oggi.' })]);
        expect(fake.state.requests.map((r) => [r.source, r.target])).toEqual([['ur', 'it'], ['it', 'ur']]);
      } finally {
        await fake.close();
      }
    });

    it('off: the tutor sees her words with their language named, and she gets the reply as written', async () => {
      const fam = await familyWithChild(t, { providerId: '1001', language: 'ur', birth: '2026-01-10' });
      const tutorContact = await tutorFor(t, fam.family_id, '2001');
      const mother = person(deps, { id: '1001' });
      await askForHelp(mother, 'health', 'بچے کو بخار ہے');
      const [alert] = await outboxOf(tutorContact);
      expect(alert!.text).toContain('Le sue parole (urdu): «بچے کو بخار ہے»');
      expect(alert!.text).not.toContain(it_('staff.needTranslation', { words: '' }).slice(0, 10));
    });

    it.each(['fail', 'hang'] as const)('a provider that %s never blocks the message: it goes untranslated', async (mode) => {
      const fake = await fakeTranslate();
      fake.state.mode = mode;
      try {
        const d = coreDeps(t, NOW, { translate: libreTranslate({ url: fake.url, logger: createLogger('silent'), timeoutMs: 300 }) });
        const fam = await familyWithChild(t, { providerId: '1001', language: 'ur', birth: '2026-01-10' });
        const tutorContact = await tutorFor(t, fam.family_id, '2001');
        const mother = person(d, { id: '1001' });
        const replies = texts(await askForHelp(mother, 'health', 'بچے کو بخار ہے'));
        expect(replies[0]).toContain('N-');
        const [alert] = await outboxOf(tutorContact);
        expect(alert!.text).toContain('«بچے کو بخار ہے»');
        expect(alert!.text).not.toContain('[it]');
        const [need] = await needRow();
        const tutor = person(d, { id: '2001' });
        await tutor.say(`/reply N-${need!.ref} Portalo dal pediatra.`);
        const toHer = (await t.sql.query<{ text: string }>(`select payload->>'text' as text from public.outbox where kind = 'tutor_reply'`))[0]!;
        expect(toHer.text).toBe(ur('needs.fromTutor', { tutor: 'Giulia', words: 'Portalo dal pediatra.' }));
      } finally {
        await fake.close();
      }
    });
  });
});
