import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bot/config';
import { createLogger } from '../../../bot/logger';
import { runJob, type JobDeps } from '../../../functions/jobs';
import { checkins } from '../../../bot/features/checkin/job';
import { coreDeps, deliverAll, i18n, person, texts } from '../../support/chat';
import { pgliteDb, type TestDb } from '../../support/door';
import { familyWithChild, tutorFor } from '../../support/families';

const it_ = i18n.t('it');
const en = i18n.t('en');
const NOW = '2026-11-23T10:00:00+01:00';

describe('questions in her language, local services and the check-in', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  let tutorContact: string;
  beforeEach(async () => {
    t = await pgliteDb();
    deps = coreDeps(t, NOW);
    const fam = await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-01-10' });
    tutorContact = await tutorFor(t, fam.family_id, '2001');
  });
  afterEach(() => t.close());

  const needs = () => t.sql.query<{ kind: string; category: string; source: string; details: Record<string, unknown> }>(`select kind, category, source, details from public.needs order by ref`);
  const toTutor = () => t.sql.query<{ text: string }>(`select payload->>'text' as text from public.outbox where contact_id = $1 order by id`, [tutorContact]);
  const answers = () => t.sql.query<{ helped: boolean | null; slug: string }>(`select a.helped, e.slug from public.kb_answers a join public.kb_entries e on e.id = a.entry_id order by a.answered_at`);

  it('answers a question it knows at once, asks whether it helped, and records the answer without who asked', async () => {
    const mother = person(deps, { id: '1001' });
    expect(texts(await mother.tap('menu:ask'))).toEqual([en('kb.askPrompt')]);
    const replies = await mother.say('what papers do I bring to the CAF for the ISEE');
    expect(replies[0]!.text).toContain('ISEE');
    expect(replies.at(-1)).toMatchObject({ text: en('kb.didItHelp'), choices: [{ id: 'kb:yes' }, { id: 'kb:no' }] });
    expect(await needs()).toEqual([]);
    expect(texts(await mother.tap('kb:yes'))[0]).toContain(en('kb.glad'));
    expect(await answers()).toEqual([{ helped: true, slug: 'isee-what' }]);
    const columns = await t.sql.query<{ column_name: string }>(`select column_name from information_schema.columns where table_name = 'kb_answers'`);
    expect(columns.map((c) => c.column_name).sort()).toEqual(['answered_at', 'entry_id', 'helped', 'id', 'language']);
  });

  it('sends the question to her tutor when the answer did not help', async () => {
    const mother = person(deps, { id: '1001' });
    await mother.say('do I need a permit renewal receipt to work while I wait?');
    const replies = texts(await mother.tap('kb:no'));
    expect(replies[0]).toBe(en('kb.forwarded'));
    expect(await needs()).toMatchObject([{ kind: 'question', source: 'question' }]);
    expect((await answers())[0]!.helped).toBe(false);
    const [alert] = await toTutor();
    expect(alert!.text).toContain('«do I need a permit renewal receipt to work while I wait?»');
    expect(alert!.text).toContain('non le è bastata');
  });

  it('forwards a question it does not know instead of answering it wrongly', async () => {
    const mother = person(deps, { id: '1001' });
    const replies = texts(await mother.say('where can I buy a cheap second-hand bicycle?'));
    expect(replies[0]).toBe(en('kb.forwarded'));
    expect(await answers()).toEqual([]);
    expect(await needs()).toMatchObject([{ kind: 'question', category: 'other' }]);
    expect((await toTutor())[0]!.text).toContain('❓');
    // a greeting is not a question
    expect(texts(await mother.say('hello'))[0]).toContain(en('menu.title'));
    expect(await needs()).toHaveLength(1);
  });

  it('offers the entries her words may be about when unsure, and answers the one she picks', async () => {
    const mother = person(deps, { id: '1001' });
    const [offer] = await mother.say('do we pay for the nido if we have isee low');
    expect(offer!.text).toBe(en('kb.suggest'));
    // the entries' own questions, best first, and a way to her tutor
    const ids = offer!.choices!.map((c) => c.id);
    expect(ids[0]).toBe('kb:pick:nido-cost');
    expect(ids.at(-1)).toBe('kb:none');
    expect(offer!.choices![0]!.label).toMatch(/nido/i);
    expect(await answers()).toEqual([]);
    // on WhatsApp she would type "1"
    const replies = await mother.say('1');
    expect(replies[0]!.text).toMatch(/ISEE/);
    expect(replies.at(-1)).toMatchObject({ text: en('kb.didItHelp') });
    expect(await answers()).toEqual([{ helped: null, slug: 'nido-cost' }]);
    expect(await needs()).toEqual([]);
    // "no" still takes her words, not the entry's, to her tutor
    await mother.tap('kb:no');
    expect((await toTutor())[0]!.text).toContain('«do we pay for the nido if we have isee low»');
  });

  it('sends her question, in her words, to her tutor when none of the offered entries is hers', async () => {
    const mother = person(deps, { id: '1001' });
    const [offer] = await mother.say('which bus goes to the vaccination centre?');
    expect(offer!.choices!.map((c) => c.id)).toEqual(['kb:pick:vaccines-where', 'kb:none']);
    expect(offer!.choices!.at(-1)!.label).toBe(en('kb.suggestNone'));
    expect(texts(await mother.tap('kb:none'))[0]).toBe(en('kb.forwarded'));
    expect(await answers()).toEqual([]);
    expect(await needs()).toMatchObject([{ kind: 'question', category: 'other', source: 'question' }]);
    expect((await toTutor())[0]!.text).toContain('«which bus goes to the vaccination centre?»');
  });

  it('reads "ask the team" among the offered entries while her family has no tutor', async () => {
    await familyWithChild(t, { providerId: '1003', language: 'en', birth: '2026-01-10' });
    const mother = person(deps, { id: '1003' });
    const [offer] = await mother.say('which bus goes to the vaccination centre?');
    expect(offer!.choices!.at(-1)!.label).toBe(en('kb.suggestNone', { context: 'team' }));
  });

  it('uses what coordinators import, at once, and points to the services near her', async () => {
    const csv = [
      'slug,category,language,question,answer,phrasings,keywords',
      'swimming-babies,parenting,en,Where can my baby learn to swim?,"The municipal pools of Milan have courses for babies from 6 months; ask your tutor for the nearest one and its prices.",baby swimming course|pool for infants,swimming pool baby course water',
    ].join('\n');
    const { parseKnowledgeCsv } = await import('../../../bot/features/needs/knowledge-import');
    const parsed = parseKnowledgeCsv(csv);
    expect(parsed.errors).toEqual([]);
    expect((await t.db.rpc('kb_upsert', { p_rows: parsed.rows, p_now: NOW })).error).toBeNull();
    await t.db.rpc('services_upsert', { p_rows: [
      { name: 'Piscina Comunale Sud', category: 'parenting', district_code: 'milano-5', address: 'Via Esempio 1', hours: 'lun-ven 9-12', phone: '02 1234567', languages: ['it', 'en'] },
      { name: 'Piscina Nord', category: 'parenting', district_code: 'milano-9', address: 'Via Altra 2', phone: '02 7654321' },
    ], p_now: NOW });
    const mother = person(deps, { id: '1001' });
    const replies = texts(await mother.say('is there a swimming course for my baby?'));
    expect(replies[0]).toContain('municipal pools');
    expect(replies[1]).toContain('Piscina Comunale Sud');
    expect(replies[1]).toContain(en('needs.serviceLanguages', { languages: 'Italian, English' }));
    expect(replies[1]).not.toContain('Piscina Nord');
  });

  it('shows the citywide services after a need, and a "check with the service" line where unverified', async () => {
    const mother = person(deps, { id: '1001' });
    await mother.tap('menu:help');
    await mother.tap('need:cat:documents');
    await mother.tap('need:noname');
    const replies = texts(await mother.say('I need help with the Assegno Unico application'));
    const services = replies.find((r) => r.startsWith(en('needs.servicesHead')))!;
    expect(services).toContain('803 164');
    expect(services).toContain(en('needs.checkWithService'));
  });

  describe('check-in', () => {
    const jobDeps = (months = 3): JobDeps => ({ db: t.db, logger: createLogger('silent'), config: loadConfig({ CHECKIN_MONTHS: String(months) }), i18n });

    it('is offered after three months, and each "yes, I need help" becomes a need for her tutor', async () => {
      await t.sql.query(`update public.contacts set consent_at = '2026-08-01T10:00:00Z' where provider_id = '1001'`);
      const early = await runJob(checkins, jobDeps(), new Date('2026-10-20T10:00:00+02:00'));
      expect(early).toMatchObject({ ran: true, summary: { offered: 0 } });
      await runJob(checkins, jobDeps(), new Date('2026-11-23T10:00:00+01:00'));
      const [offer] = await t.sql.query<{ text: string; choices: { id: string }[]; not_before: string }>(`select payload->>'text' as text, payload->'choices' as choices, not_before from public.outbox where kind = 'checkin'`);
      expect(offer!.text).toBe(en('checkin.offer', { count: 6 }));
      expect(offer!.choices.map((c) => c.id)).toEqual(['checkin:start', 'checkin:later', 'checkin:off']);
      // on WhatsApp she would type "1": once it reached her, the offer is her current question
      await deliverAll(t, '2026-11-23T10:00:00+01:00');
      const mother = person(deps, { id: '1001' });
      expect(texts(await mother.say('1'))[0]).toBe(`1/6 ${en('checkin.q.food')}`);
      for (const answer of ['checkin:yes', 'checkin:no', 'checkin:no', 'checkin:yes', 'checkin:no']) await mother.tap(answer);
      const done = texts(await mother.tap('checkin:no'));
      expect(done[0]).toContain(en('checkin.thanksSome', { count: 2 }));
      expect(await needs()).toMatchObject([{ category: 'other', source: 'checkin', details: { checkin: 'food' } }, { category: 'documents', source: 'checkin' }]);
      expect((await toTutor()).map((r) => r.text.split('\n').find((l) => l.startsWith('Dal questionario')))).toEqual([
        it_('staff.needFromCheckin', { question: it_('checkin.q.food') }),
        it_('staff.needFromCheckin', { question: it_('checkin.q.documents') }),
      ]);
      // not again until three months later
      await runJob(checkins, jobDeps(), new Date('2026-12-23T10:00:00+01:00'));
      expect((await t.sql.query(`select 1 from public.outbox where kind = 'checkin'`)).length).toBe(1);
    });

    it('can be switched off by her, and off for everyone with CHECKIN_MONTHS=0', async () => {
      await t.sql.query(`update public.contacts set consent_at = '2026-08-01T10:00:00Z' where provider_id = '1001'`);
      expect(await runJob(checkins, jobDeps(0), new Date('2026-11-23T10:00:00+01:00'))).toMatchObject({ summary: { off: true } });
      await runJob(checkins, jobDeps(), new Date('2026-11-24T10:00:00+01:00'));
      const mother = person(deps, { id: '1001' });
      expect(texts(await mother.tap('checkin:off'))[0]).toContain(en('checkin.offOk'));
      await runJob(checkins, jobDeps(), new Date('2027-06-01T10:00:00+02:00'));
      expect((await t.sql.query(`select 1 from public.outbox where kind = 'checkin'`)).length).toBe(1);
    });
  });
});
