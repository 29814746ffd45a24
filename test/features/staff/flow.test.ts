import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pgliteDb, type TestDb } from '../../support/door';
import { choiceIds, coreDeps, i18n, makeStaff, person, registered, texts } from '../../support/chat';

const it_ = i18n.t('it');

describe('staff: invitations, codes, roles and assignments', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  let codes: string[];
  beforeEach(async () => {
    t = await pgliteDb();
    codes = ['TUTR2345', 'FAM23456', 'REL23456', 'COOR2345', 'XTRA2345'];
    deps = coreDeps(t, undefined, { newCode: () => codes.shift()! });
  });
  afterEach(() => t.close());

  const audit = async () => (await t.sql.query<{ action: string }>(`select action from public.audit_log order by id`)).map((r) => r.action);
  const familyRef = async (providerId: string) => (await t.sql.query<{ ref: string }>(`select f.ref::text as ref from public.families f join public.contacts c on c.family_id = f.id where c.provider_id = $1`, [providerId]))[0]!.ref;
  const staffRef = async (name: string) => (await t.sql.query<{ ref: string }>(`select ref::text as ref from public.staff where full_name = $1`, [name]))[0]!.ref;

  it('a coordinator invites a tutor, who redeems the single-use code once and gets the staff menu', async () => {
    await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
    const marco = person(deps, { id: '3001', hint: 'it' });
    const invite = texts(await marco.say('/invite tutor Giulia Bianchi'));
    expect(invite[0]).toContain(it_('staff.inviteCode', { name: 'Giulia Bianchi', role: it_('staff.roleTutor'), code: 'TUTR2345', date: '30 novembre 2026' }));
    expect(invite[0]).toContain('https://t.me/family_bot?start=TUTR2345');
    expect(invite[0]).toContain('https://wa.me/390200000000?text=TUTR2345');

    const giulia = person(deps, { channel: 'whatsapp', id: '+393330000001', hint: 'it' });
    const welcome = await giulia.say('TUTR2345');
    expect(texts(welcome)).toEqual([it_('staff.welcome', { name: 'Giulia', role: it_('staff.roleTutor') }), it_('staff.menuTitle')]);
    expect(choiceIds(welcome)).toEqual(['staff:code', 'staff:needs', 'staff:families']);
    const [staff] = await t.sql.query<{ role: string; full_name: string }>(`select s.role, s.full_name from public.staff s join public.contacts c on c.staff_id = s.id where c.provider_id = '+393330000001'`);
    expect(staff).toEqual({ role: 'tutor', full_name: 'Giulia Bianchi' });

    // single use: someone else sending it gets told, and becomes nothing
    const other = person(deps, { id: '9999', hint: 'it' });
    expect(texts(await other.say('TUTR2345'))[0]).toBe(it_('codes.used', { context: 'team' }));
    expect((await t.sql.query(`select 1 from public.contacts where provider_id = '9999' and staff_id is not null`))).toEqual([]);
    expect(await audit()).toEqual(['staff.invited', 'staff.joined']);
  });

  it('an invitation expires after 7 days', async () => {
    await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
    await person(deps, { id: '3001' }).say('/invite coordinator Anna Verdi');
    deps.clock.advance(7 * 24 * 3600_000 + 1000);
    expect(texts(await person(deps, { id: '4001', hint: 'it' }).say('/start TUTR2345'))[0]).toBe(it_('codes.expired', { context: 'team' }));
  });

  it('a mother cannot reach a staff action by typing its command, and the database refuses it too', async () => {
    const mother = await registered(deps, '1001', 'it');
    // a coordinators' command is said to be theirs; a tutor's command is words she did not mean for the bot
    for (const [command, answer] of [
      ['/invite tutor Eva Neri', 'staff.notAllowed'], ['/queue', 'staff.notAllowed'], ['/assign F-1 T-1', 'staff.notAllowed'], ['/tutors', 'staff.notAllowed'],
      ['/code', 'common.notUnderstood'], ['/families', 'common.notUnderstood'], ['/relink F-1', 'common.notUnderstood'],
    ] as const) {
      expect(texts(await mother.say(command)), command).toEqual([`${it_(answer)}\n${it_('menu.title')}`]);
    }
    expect(await t.sql.query(`select 1 from public.link_codes`)).toEqual([]);
    expect(await audit()).toEqual([]);

    const [c] = await t.sql.query<{ id: string }>(`select id from public.contacts where provider_id = '1001'`);
    const queue = await t.db.rpc('staff_queue', { p_contact_id: c!.id, p_now: '2026-11-23T10:00:00Z' });
    expect(queue.error?.code).toBe('42501');
    const forged = await t.db.rpc('inbound_finish', {
      p_channel: 'telegram', p_provider_message_id: 'forged', p_contact_id: c!.id, p_conversation: {}, p_language: 'it', p_language_confirmed: true,
      p_effects: [{ op: 'staff.invite', code: 'FORG2345', role: 'coordinator', full_name: 'Eva', expires_at: '2026-12-01T00:00:00Z' }], p_replies: [], p_media: [], p_now: '2026-11-23T10:00:00Z',
    });
    expect(forged.error?.code).toBe('42501');
    expect(await t.sql.query(`select 1 from public.link_codes`)).toEqual([]);
  });

  it('a tutor cannot use the coordinators\' commands', async () => {
    await makeStaff(t, 'tutor', 'Giulia Bianchi', '2001');
    const giulia = person(deps, { id: '2001' });
    for (const command of ['/queue', '/tutors', '/assign F-1 T-1', '/invite tutor Eva Neri']) {
      expect(texts(await giulia.say(command))[0]).toBe(it_('staff.notAllowed'));
    }
    expect(await t.sql.query(`select 1 from public.link_codes`)).toEqual([]);
  });

  it('a tutor\'s family code links the mother who uses it; a coordinator assigns a waiting family; both are told', async () => {
    await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
    const tutorContact = await makeStaff(t, 'tutor', 'Giulia Bianchi', '2001');
    const giulia = person(deps, { id: '2001' });
    codes.shift();
    const code = texts(await giulia.tap('staff:code'))[0]!;
    expect(code).toContain('FAM23456');

    // a mother with the code; another without, who waits in the queue
    const withCode = person(deps, { channel: 'whatsapp', id: '+393331110001', hint: 'it' });
    await withCode.say('FAM23456');
    await withCode.tap('lang:it');
    await withCode.tap('consent:yes');
    await withCode.tap('kind:birth');
    await withCode.say('Omar');
    await withCode.say('01/06/2026');
    await withCode.tap('another:no');
    expect(texts(await withCode.tap('district:milano-3'))[1]).toBe(it_('profile.linkedTutor', { tutor: 'Giulia' }));
    const waiting = await registered(deps, '1002', 'ar');
    const ref = await familyRef('1002');

    const marco = person(deps, { id: '3001' });
    const queue = texts(await marco.tap('staff:queue'))[0]!;
    expect(queue).toContain(it_('staff.queueHeader', { count: 1 }));
    expect(queue).toContain(`F-${ref} · Municipio 2`);
    expect(queue).toContain('Sara (21 mesi)');
    expect(queue).toContain('arabo · Telegram');
    expect(queue).not.toContain('1002');

    const tref = await staffRef('Giulia Bianchi');
    expect(texts(await marco.say(`/assign F-${ref} T-${tref}`))[0]).toBe(it_('staff.assigned', { family: `F-${ref}`, name: 'Giulia Bianchi' }));
    const toMother = await t.sql.query<{ text: string }>(`select o.payload->>'text' as text from public.outbox o join public.contacts c on c.id = o.contact_id where c.provider_id = '1002' and o.kind = 'notice'`);
    expect(toMother.map((r) => r.text)).toEqual([i18n.t('ar')('staff.tutorAssigned', { tutor: 'Giulia' })]);
    const toTutor = await t.sql.query<{ text: string }>(`select payload->>'text' as text from public.outbox where contact_id = $1 and kind = 'staff_notice' order by id`, [tutorContact]);
    expect(toTutor.map((r) => r.text)).toEqual([
      expect.stringMatching(/^Nuova famiglia con il tuo codice: F-\d+ · Municipio 3/),
      expect.stringMatching(new RegExp(`^Ti è stata affidata una famiglia: F-${ref} · Municipio 2`)),
    ]);
    expect(texts(await marco.tap('staff:tutors'))[0]).toBe([it_('staff.tutorLineNeeds', { tutor: `T-${tref}`, name: 'Giulia Bianchi', count: 2, needs: 0 }), it_('staff.tutorsHint')].join('\n'));
    const families = texts(await giulia.tap('staff:families'))[0]!;
    expect(families).toContain(it_('staff.familiesHeader', { count: 2 }));
    expect(texts(await waiting.say('menu'))).toEqual([i18n.t('ar')('menu.title')]);

    expect(await audit()).toEqual(['code.family', 'family.joined_with_code', 'queue.listed', 'family.viewed', 'family.needs_listed', 'family.assigned', 'tutors.listed', 'families.listed']);
  });

  it('tells a coordinator plainly when a family or tutor does not exist, or the command is malformed', async () => {
    await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
    const marco = person(deps, { id: '3001' });
    expect(texts(await marco.say('/assign F-99 T-1'))[0]).toBe(it_('staff.unknownFamily', { family: 'F-99' }));
    expect(texts(await marco.say('/assign twelve'))[0]).toBe(it_('staff.usage', { example: '/assign F-12 T-3' }));
    expect(texts(await marco.say('/fly'))[0]).toBe(it_('staff.unknownCommand'));
  });

  it('her tutor relinks a new account to the family without losing its history', async () => {
    await makeStaff(t, 'tutor', 'Giulia Bianchi', '2001');
    await registered(deps, '1003', 'ar');
    const ref = await familyRef('1003');
    await t.sql.query(`insert into public.family_assignments (family_id, tutor_id) select c.family_id, s.id from public.contacts c, public.staff s where c.provider_id = '1003'`);
    codes.splice(0, 2);
    const giulia = person(deps, { id: '2001' });
    expect(texts(await giulia.say(`/relink F-${ref}`))[0]).toContain('REL23456');

    const newPhone = person(deps, { channel: 'whatsapp', id: '+393339990000', hint: 'it' });
    const back = await newPhone.say('REL23456');
    expect(texts(back)).toEqual([`${i18n.t('ar')('codes.relinked')}\n${i18n.t('ar')('menu.title')}`]);
    const rows = await t.sql.query<{ provider_id: string; language: string; consent_source: string }>(`select provider_id, language, consent_source from public.contacts where family_id is not null`);
    expect(rows).toEqual([{ provider_id: '+393339990000', language: 'ar', consent_source: 'relink' }]);
    expect(await t.sql.query<{ name: string }>(`select name from public.children`)).toEqual([{ name: 'Sara' }]);
  });

  it('shows a tutor a child\'s plan and where each item stands', async () => {
    await makeStaff(t, 'tutor', 'Giulia Bianchi', '2001');
    await registered(deps, '1005', 'it');
    const ref = await familyRef('1005');
    await t.sql.query(`insert into public.family_assignments (family_id, tutor_id) select c.family_id, s.id from public.contacts c, public.staff s where c.provider_id = '1005'`);
    const { reminders } = await import('../../../bot/features/care/job');
    const { loadConfig } = await import('../../../bot/config');
    const { createLogger } = await import('../../../bot/logger');
    await reminders.run({ db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n }, new Date('2026-11-23T09:00:00Z'));
    // a long plan comes in parts that each fit a WhatsApp message
    const parts = texts(await person(deps, { id: '2001' }).say(`/plan F-${ref}`));
    expect(parts.every((part) => part.length <= 1600)).toBe(true);
    const out = parts.join('\n');
    expect(out.split('\n')[0]).toBe(it_('staff.planHeader', { child: 'Sara', family: `F-${ref}`, state: it_('staff.planOn') }));
    expect(out).toContain(`3 aprile 2025 · ${it_('care.item.hexa', { dose: 1 })} · ${it_('care.status.overdue')}`);
    expect(out).toContain(`1 febbraio 2030 · ${it_('care.item.mmrv', { dose: 2 })} · ${it_('care.status.planned')}`);
    expect(await audit()).toContain('family.viewed');
    // another tutor's family is not hers to see
    expect(texts(await person(deps, { id: '2001' }).say('/plan F-999'))[0]).toBe(it_('staff.unknownFamily', { family: 'F-999' }));
  });
});
