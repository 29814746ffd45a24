import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handleInbound } from '../../bot/app';
import { atAnotherChild, coreDeps, choiceIds, i18n, makeStaff, person, registered, texts } from '../support/chat';
import { pgliteDb, type TestDb } from '../support/door';
import { familyWithChild, tutorFor } from '../support/families';

const NOW = '2026-11-23T10:00:00+01:00';
const en = i18n.t('en');
const it_ = i18n.t('it');

describe('danger heard first, in any state', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  beforeEach(async () => {
    t = await pgliteDb();
    deps = coreDeps(t, NOW);
  });
  afterEach(() => t.close());

  const needs = () => t.sql.query<{ ref: number; urgency: string; category: string; source: string; status: string; language: string; details: Record<string, unknown>; family_id: string }>(
    'select ref::int, urgency, category, source, status, language, details, family_id from public.needs order by ref');
  const outboxOf = (contactId: string) => t.sql.query<{ text: string }>(`select payload->>'text' as text from public.outbox where contact_id = $1 order by id`, [contactId]);
  const events = () => t.sql.query<{ level: string; concept: string; language: string; outcome: string; before_consent: boolean }>('select level, concept, language, outcome, before_consent from public.safety_events order by id');

  it.each([
    ['it', 'mio marito mi picchia, ho paura', 'it'],
    ['es', 'Mi esposo me pega y tengo miedo', 'it'],
    ['ar', 'زوجي يضربني وأنا خايفة', 'it'],
    ['bn', 'আমার স্বামী আমাকে মারে, আমি ভয় পাই', 'it'],
  ] as const)('a new contact\'s first message in %s gets the numbers in her language and an urgent request for the coordinators, not the language menu', async (lng, words, hint) => {
    const coordinator = await makeStaff(t, 'coordinator', 'Anna Rossi', '3001');
    const replies = texts(await person(deps, { id: `new-${lng}`, hint }).say(words));
    const lt = i18n.t(lng);
    expect(replies[0]).toContain(lt('needs.emergencyHead'));
    for (const n of ['112', '1522', '114']) expect(replies[0]).toContain(n);
    const [need] = await needs();
    expect(need).toMatchObject({ urgency: 'urgent', category: 'protection', source: 'danger', status: 'open', language: lng, details: { before_consent: true } });
    expect(replies[1]).toBe(lt('safety.toldTeam', { need: `N-${need!.ref}` }));
    expect(replies.join('\n')).not.toContain(lt('greeting.chooseLanguage'));
    const alert = await outboxOf(coordinator);
    expect(alert[0]!.text).toContain(`🆘 URGENTE N-${need!.ref}`);
    expect(alert[0]!.text).toContain(words);
    expect(alert[0]!.text).toContain(it_('staff.safetyBeforeConsent'));
    // before consent only what the request needs: her chat, a family number, the request; no children, no district
    const [contact] = await t.sql.query<{ consent: string; language: string }>(`select consent, language from public.contacts where provider_id = $1`, [`new-${lng}`]);
    expect(contact).toEqual({ consent: 'pending', language: lng });
    expect(await t.sql.query('select * from public.children')).toEqual([]);
    expect(await events()).toEqual([{ level: 'certain', concept: 'violence', language: lng, outcome: 'alerted', before_consent: true }]);
  });

  it('before consent, what she writes next reaches the team, and she can still register when she wants', async () => {
    await makeStaff(t, 'coordinator', 'Anna Rossi', '3001');
    const p = person(deps, { id: 'n1', hint: 'en' });
    await p.say('he beats me every night');
    expect(texts(await p.say('he is sleeping now. I am in the kitchen'))).toEqual([en('safety.passedOn')]);
    const [need] = await needs();
    const thread = await t.sql.query<{ body: string }>('select body from public.need_messages where need_id = (select id from public.needs) order by seq');
    expect(thread.map((m) => m.body)).toEqual(['he beats me every night', 'he is sleeping now. I am in the kitchen']);
    // the team closes the request: her next word starts the usual welcome
    await t.sql.query(`update public.needs set status = 'resolved' where ref = $1`, [need!.ref]);
    expect(texts(await p.say('hello'))).toContain(en('greeting.chooseLanguage'));
  });

  it('a message during consent is heard first', async () => {
    await makeStaff(t, 'coordinator', 'Anna Rossi', '3001');
    const p = person(deps, { id: 'c1', hint: 'it' });
    await p.say('ciao');
    await p.tap('lang:it');
    const replies = texts(await p.say('non posso, lui mi controlla il telefono e mi chiude in casa'));
    expect(replies[0]).toContain('1522');
    expect((await needs())[0]).toMatchObject({ urgency: 'urgent', category: 'protection' });
  });

  it('an imported mother\'s first message is heard before the paper welcome, and her tutor gets the alert', async () => {
    const fam = await familyWithChild(t, { providerId: 'imp1', language: 'it', birth: '2026-01-10', lastInboundAt: null });
    const tutor = await tutorFor(t, fam.family_id, '2001');
    await t.sql.query(`update public.contacts set consent_source = 'paper' where provider_id = 'imp1'`);
    const replies = texts(await person(deps, { id: 'imp1' }).say('Mio marito mi picchia e ho paura per il bambino'));
    expect(replies[0]).toContain('1522');
    const [need] = await needs();
    expect(replies[1]).toBe(it_('safety.toldTutor', { tutor: 'Giulia', need: `N-${need!.ref}` }));
    expect(replies.join('\n')).not.toContain(it_('greeting.paperWelcome'));
    expect((await outboxOf(tutor))[0]!.text).toContain(`🆘 URGENTE N-${need!.ref}`);
  });

  it('a photo or voice note with a caption is heard, and the media goes with the request', async () => {
    await makeStaff(t, 'coordinator', 'Anna Rossi', '3001');
    await registered(deps, 'cap1', 'en');
    const { replies } = await handleInbound(deps, { channel: 'telegram', providerId: 'cap1', providerMessageId: 'cap-1', text: 'look what he did to my arm, he hit me', media: [{ kind: 'photo', ref: 'file-123' }] });
    expect(texts(replies).some((r) => r.includes('1522'))).toBe(true);
    const thread = await t.sql.query<{ media: { ref: string }[] }>('select media from public.need_messages');
    expect(thread[0]!.media).toEqual([{ id: expect.stringMatching(/^[0-9a-f-]{36}$/), kind: 'photo', ref: 'file-123', channel: 'telegram' }]);
  });

  it.each([
    ['it', 'ci buttano fuori di casa stanotte con i bambini'],
    ['ar', 'طردونا من البيت'],
    ['fr', 'ils nous jette dehors ce soir avec les enfants'],
    ['tl', 'pinalayas kami ngayong gabi kasama ang mga bata'],
  ] as const)('%s: thrown out in words of eviction gets the numbers first, then the housing path', async (lng, words) => {
    const fam = await familyWithChild(t, { providerId: `ev-${lng}`, language: lng, birth: '2026-01-10' });
    await tutorFor(t, fam.family_id, '2001');
    const replies = texts(await person(deps, { id: `ev-${lng}` }).say(words));
    const [need] = await needs();
    expect(need).toMatchObject({ category: 'housing', urgency: 'urgent', details: { eviction: true } });
    expect(replies[0]).toContain(i18n.t(lng)('needs.emergencyHead'));
    expect(replies[1]).toBe(i18n.t(lng)('calls.evictionSent', { tutor: 'Giulia', need: `N-${need!.ref}` }));
  });

  it('a landlord\'s eviction in her words opens the housing path, without an alarm', async () => {
    const fam = await familyWithChild(t, { providerId: 'ev-landlord', language: 'it', birth: '2026-01-10' });
    await tutorFor(t, fam.family_id, '2001');
    const replies = texts(await person(deps, { id: 'ev-landlord' }).say('Il padrone di casa ci ha mandato lo sfratto, entro marzo dobbiamo uscire'));
    const [need] = await needs();
    expect(need).toMatchObject({ category: 'housing', urgency: 'urgent' });
    expect(replies[0]).toBe(it_('calls.evictionSent', { tutor: 'Giulia', need: `N-${need!.ref}` }));
  });

  it('danger first when a message is both violence and eviction', async () => {
    const fam = await familyWithChild(t, { providerId: 'both', language: 'it', birth: '2026-01-10' });
    await tutorFor(t, fam.family_id, '2001');
    const replies = texts(await person(deps, { id: 'both' }).say('il padrone ci sfratta e mio marito mi picchia'));
    expect(replies[0]).toContain('1522');
    expect(await needs()).toMatchObject([{ category: 'protection', urgency: 'urgent' }]);
  });

  it('a question the knowledge base answers, with one weaker word of danger, gets the answer and the numbers in sight', async () => {
    await familyWithChild(t, { providerId: 'kb1', language: 'it', birth: '2026-01-10' });
    const replies = await person(deps, { id: 'kb1' }).say('depressione dopo il parto aiuto');
    expect(replies[0]!.text).toBe(it_('needs.emergencyShort'));
    expect(choiceIds(replies)).toContain('kb:yes');
    expect(await needs()).toEqual([]);
  });

  describe('a possible danger: the numbers and one question', () => {
    it.each([
      ['safety:now', 'urgent', 'now'],
      ['safety:tutor', 'normal', 'tutor'],
    ] as const)('%s opens a request (%s)', async (choice, urgency, outcome) => {
      const fam = await familyWithChild(t, { providerId: 'pos1', language: 'en', birth: '2026-01-10' });
      await tutorFor(t, fam.family_id, '2001');
      const p = person(deps, { id: 'pos1' });
      const asked = await p.say('i am so scared');
      expect(asked[0]!.text).toContain('1522');
      expect(asked[1]!.text).toBe(en('safety.askNow'));
      expect(choiceIds(asked)).toEqual(['safety:now', 'safety:tutor', 'safety:safe']);
      expect(await needs()).toEqual([]);
      await p.tap(choice);
      expect((await needs())[0]).toMatchObject({ urgency, category: 'protection' });
      expect((await events()).map((e) => e.outcome)).toEqual(['asked', ...(outcome === 'now' ? ['alerted', 'now'] : ['tutor'])]);
    });

    it('"No, I am safe" opens nothing, counts the false alarm and brings her back where she was', async () => {
      await familyWithChild(t, { providerId: 'pos2', language: 'en', birth: '2026-01-10' });
      const p = person(deps, { id: 'pos2' });
      await p.tap('menu');
      await p.say('i am so scared');
      const back = await p.tap('safety:safe');
      expect(texts(back)).toEqual([`${en('safety.safeThanks')}\n${en('menu.title')}`]);
      expect(choiceIds(back)).toContain('menu:help');
      expect(await needs()).toEqual([]);
      expect((await events()).map((e) => e.outcome)).toEqual(['asked', 'safe']);
    });
  });

  it('wanting to die gets 112 and a listening line, her tutor told urgently, and never a pause', async () => {
    const fam = await familyWithChild(t, { providerId: 'sh1', language: 'en', birth: '2026-01-10' });
    const tutor = await tutorFor(t, fam.family_id, '2001');
    const replies = texts(await person(deps, { id: 'sh1' }).say('i dont want to live anymore, my kids are better off without me'));
    expect(replies[0]).toContain(en('safety.selfHead'));
    expect(replies[0]).toContain('112');
    expect(replies[0]).toContain('02 2327 2327');
    expect(replies[0]).not.toContain('1522');
    const [need] = await needs();
    expect(need).toMatchObject({ urgency: 'urgent', category: 'health', source: 'danger' });
    expect((await outboxOf(tutor))[0]!.text).toContain(it_('staff.safetyConcept.self_harm'));
    const [c] = await t.sql.query<{ status: string }>(`select status from public.contacts where provider_id = 'sh1'`);
    expect(c!.status).toBe('active');
  });
});

describe('STOP is an opt-out, not a word in a sentence', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  beforeEach(async () => {
    t = await pgliteDb();
    deps = coreDeps(t, NOW);
  });
  afterEach(() => t.close());
  const status = async (id: string) => (await t.sql.query<{ status: string }>(`select status from public.contacts where provider_id = $1`, [id]))[0]!.status;

  it.each([
    ['it', 'basta'], ['ar', 'بس'], ['bn', 'আর না'], ['si', 'ඇති'], ['zh', '够了'], ['uk', 'досить'], ['sq', 'mjaft'], ['ro', 'ajunge'], ['tl', 'tama na'],
  ] as const)('%s: "%s" typed as the answer to "another child?" does not pause her', async (lng, word) => {
    const p = await atAnotherChild(deps, `s-${lng}`, lng);
    const replies = await p.say(word);
    expect(texts(replies).join('\n')).not.toContain(i18n.t(lng)('pause.confirm'));
    expect(await status(`s-${lng}`)).toBe('active');
  });

  it('STOP alone asks for one tap, says how to resume, and pauses only after it; "No" keeps everything', async () => {
    const p = await registered(deps, 'st1', 'en');
    const asked = await p.say('STOP');
    expect(texts(asked)).toEqual([en('pause.confirm')]);
    expect(choiceIds(asked)).toEqual(['pause:yes', 'pause:no']);
    expect(await status('st1')).toBe('active');
    expect(texts(await p.tap('pause:no'))[0]).toContain(en('pause.kept'));
    expect(await status('st1')).toBe('active');
    await p.say('stop');
    const paused = texts(await p.tap('pause:yes'));
    expect(paused).toEqual([en('pause.stopped')]);
    expect(en('pause.stopped')).toMatch(/START/);
    expect(await status('st1')).toBe('paused');
  });

  it('STOP inside a sentence is not an opt-out', async () => {
    const p = await registered(deps, 'st2', 'en');
    await p.say('please stop the reminders for my son, he had all vaccines');
    expect(await status('st2')).toBe('active');
  });
});
