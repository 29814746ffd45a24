import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderWhatsApp } from '../../../bot/channels/whatsapp';
import { loadLocaleFiles, type Language } from '../../../bot/i18n';
import { STAFF_COMMANDS, commandsFor } from '../../../bot/app';
import type { StaffRole } from '../../../bot/router/menus';
import { pgliteDb, type TestDb } from '../../support/door';
import { choiceIds, coreDeps, i18n, makeStaff, person, texts } from '../../support/chat';
import { familyWithChild, tutorFor } from '../../support/families';

const it_ = i18n.t('it');
const NOW = '2026-11-23T10:00:00+01:00';
const files = loadLocaleFiles() as Record<string, Record<string, Record<string, unknown>>>;

/** The whole staff menu's first choices: a reply that has them is the menu again, not a confirmation. */
const MENU_CHOICES = ['staff:code', 'staff:needs', 'staff:families'];

describe('staff: short confirmations and lists to act on', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  beforeEach(async () => {
    t = await pgliteDb();
    deps = coreDeps(t, NOW);
  });
  afterEach(() => t.close());

  const staffRef = async (name: string) => (await t.sql.query<{ ref: number }>(`select ref::int as ref from public.staff where full_name = $1`, [name]))[0]!.ref;
  const openNeed = async (familyId: string, category = 'health') =>
    (await t.sql.query<{ id: string; ref: number }>(`insert into public.needs (family_id, category, source, status, created_at, updated_at) values ($1, $2, 'menu', 'open', $3, $3) returning id, ref::int as ref`, [familyId, category, NOW]))[0]!;
  const outboxOf = (contactId: string) => t.sql.query<{ kind: string; text: string; choices: { id: string; label: string }[] | null }>(
    `select kind, payload->>'text' as text, payload->'choices' as choices from public.outbox where contact_id = $1 and kind <> 'reply' order by id`, [contactId]);
  const district = async () => (await t.sql.query<{ name: string }>(`select name from public.districts where code = 'milano-5'`))[0]!.name;
  /** a coordinator writing on WhatsApp, where choices are numbered lines */
  const whatsappCoordinator = async (name: string, number: string) => {
    await t.sql.query(`
      with s as (insert into public.staff (role, full_name) values ('coordinator', $1) returning id)
      insert into public.contacts (channel, provider_id, language, language_confirmed, consent, consent_source, staff_id, last_inbound_at)
      select 'whatsapp', $2, 'it', true, 'given', 'chat', s.id, $3 from s`, [name, number, NOW]);
    return person(deps, { channel: 'whatsapp', id: number });
  };

  it('a tutor takes a request from the list\'s button and reads one line back, not the whole menu', async () => {
    const fam = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });
    await tutorFor(t, fam.family_id, '2001');
    const need = await openNeed(fam.family_id);
    const tutor = person(deps, { id: '2001' });

    const list = await tutor.tap('staff:needs');
    expect(texts(list)[0]!.split('\n')).toEqual([it_('staff.needsHeader', { count: 1 }), expect.stringContaining(`N-${need.ref}`)]);
    expect(list[0]!.choices).toEqual([
      { id: `need:take:${need.ref}`, label: it_('staff.takeButton', { need: `N-${need.ref}` }) },
      { id: `need:reply:${need.ref}`, label: it_('staff.replyButton', { need: `N-${need.ref}` }) },
      { id: 'staff:menu', label: it_('staff.menuButton') },
    ]);

    const taken = await tutor.tap(`need:take:${need.ref}`);
    expect(texts(taken)).toEqual([it_('staff.needTaken', { need: `N-${need.ref}` })]);
    expect(texts(taken)[0]).not.toContain('\n');
    expect(choiceIds(taken)).toEqual([`need:reply:${need.ref}`, `need:resolve:${need.ref}`, `need:hand:${need.ref}`, 'staff:menu']);
    expect(await t.sql.query(`select status from public.needs`)).toEqual([{ status: 'in_charge' }]);

    // the Menu button, /start and the menu word still bring the whole menu
    for (const ask of [() => tutor.tap('staff:menu'), () => tutor.say('/start'), () => tutor.say('menu')]) {
      const menu = await ask();
      expect(texts(menu)).toEqual([it_('staff.menuTitle')]);
      expect(choiceIds(menu)).toEqual(MENU_CHOICES);
    }
  });

  it.each([
    ['resolving', (p: ReturnType<typeof person>, ref: number) => p.tap(`need:outcome:${ref}:solved`)],
    ['handing over', (p: ReturnType<typeof person>, ref: number) => p.say(`/hand N-${ref} T-99`)],
    ['asking for an unknown command', (p: ReturnType<typeof person>) => p.say('/fly')],
    ['a family code', (p: ReturnType<typeof person>) => p.tap('staff:code')],
  ])('after %s a tutor gets a short answer with a Menu button, never the staff menu', async (_, act) => {
    const fam = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });
    await tutorFor(t, fam.family_id, '2001');
    const need = await openNeed(fam.family_id);
    const replies = await act(person(deps, { id: '2001' }), need.ref);
    expect(replies).toHaveLength(1);
    expect(choiceIds(replies).at(-1)).toBe('staff:menu');
    expect(choiceIds(replies)).not.toContain('staff:code');
    expect(texts(replies)[0]).not.toContain(it_('staff.menuTitle'));
  });

  it('a coordinator assigns a waiting family from /queue with two taps: the family, then the tutor', async () => {
    await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
    const giulia = await makeStaff(t, 'tutor', 'Giulia Bianchi', '2001');
    await makeStaff(t, 'tutor', 'Sara Neri', '2002');
    const fam = await familyWithChild(t, { providerId: '1001', language: 'ar', birth: '2026-01-10' });
    const need = await openNeed(fam.family_id);
    const [g, s] = [await staffRef('Giulia Bianchi'), await staffRef('Sara Neri')];
    const marco = person(deps, { id: '3001' });

    const queue = await marco.say('/coda');
    expect(texts(queue)[0]!.split('\n')).toEqual([
      it_('staff.queueHeader', { count: 1 }), `F-${fam.ref} · ${await district()} · Amir (10 mesi) · arabo · Telegram`, it_('staff.queuePick'),
    ]);
    expect(queue[0]!.choices).toEqual([
      { id: `staff:assign:F-${fam.ref}`, label: it_('staff.assignButton', { family: `F-${fam.ref}` }) },
      { id: 'staff:menu', label: it_('staff.menuButton') },
    ]);

    const pick = await marco.tap(`staff:assign:F-${fam.ref}`);
    expect(texts(pick)).toEqual([it_('staff.assignPick', { family: `F-${fam.ref}` })]);
    expect(pick[0]!.choices).toEqual([
      { id: `staff:assign:F-${fam.ref}:T-${g}`, label: it_('staff.tutorChoice', { tutor: `T-${g}`, name: 'Giulia Bianchi', families: 0 }) },
      { id: `staff:assign:F-${fam.ref}:T-${s}`, label: it_('staff.tutorChoice', { tutor: `T-${s}`, name: 'Sara Neri', families: 0 }) },
      { id: 'staff:menu', label: it_('staff.menuButton') },
    ]);

    const done = await marco.tap(`staff:assign:F-${fam.ref}:T-${g}`);
    expect(texts(done)).toEqual([[it_('staff.assigned', { family: `F-${fam.ref}`, name: 'Giulia Bianchi' }), it_('staff.needsMoved', { needs: 1 })].join('\n')]);
    expect(choiceIds(done)).toEqual(['staff:queue', 'staff:menu']);
    expect(await t.sql.query(`select s.full_name from public.family_assignments a join public.staff s on s.id = a.tutor_id where a.ended_at is null`)).toEqual([{ full_name: 'Giulia Bianchi' }]);
    // her tutor is told once, with the family's request and its buttons
    const [notice] = await outboxOf(giulia);
    expect(notice!.text).toContain(`N-${need.ref}`);
    expect(notice!.choices!.map((c) => c.id)).toEqual([`need:take:${need.ref}`, `need:reply:${need.ref}`]);
    expect(texts(await marco.tap('staff:queue'))).toEqual([it_('staff.queueNone')]);
  });

  it('on WhatsApp the coordinator assigns by typing the numbers of the lists', async () => {
    const marco = await whatsappCoordinator('Marco Rossi', '+393330000003');
    await makeStaff(t, 'tutor', 'Giulia Bianchi', '2001');
    await makeStaff(t, 'tutor', 'Sara Neri', '2002');
    const fam = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });

    const queue = await marco.say('/queue');
    const rendered = renderWhatsApp(queue[0]!, it_('common.replyWithNumber'));
    expect(rendered).toContain(`1. ${it_('staff.assignButton', { family: `F-${fam.ref}` })}`);
    expect(rendered).toContain(`2. ${it_('staff.menuButton')}`);
    const pick = await marco.say('1');
    expect(texts(pick)).toEqual([it_('staff.assignPick', { family: `F-${fam.ref}` })]);
    const done = await marco.say('2');
    expect(texts(done)[0]).toBe(it_('staff.assigned', { family: `F-${fam.ref}`, name: 'Sara Neri' }));
    expect(await t.sql.query(`select s.full_name from public.family_assignments a join public.staff s on s.id = a.tutor_id where a.ended_at is null`)).toEqual([{ full_name: 'Sara Neri' }]);
  });

  it('a long queue comes a page at a time, each page a WhatsApp message that fits, with "more" to the next', async () => {
    const marco = await whatsappCoordinator('Marco Rossi', '+393330000003');
    await makeStaff(t, 'tutor', 'Giulia Bianchi', '2001');
    const refs: number[] = [];
    for (let i = 0; i < 19; i++) refs.push(Number((await familyWithChild(t, { providerId: `m${i}`, name: `Bambina numero ${i} con un nome lungo`, birth: '2026-01-10' })).ref));

    const seen: number[] = [];
    let page = await marco.say('/queue');
    for (let n = 1; ; n++) {
      const reply = page.at(-1)!;
      expect(renderWhatsApp(reply, it_('common.replyWithNumber')).length).toBeLessThanOrEqual(1600);
      expect(reply.choices!.length).toBeLessThanOrEqual(12);
      seen.push(...reply.choices!.flatMap((c) => /^staff:assign:F-(\d+)$/.exec(c.id)?.[1] ?? []).map(Number));
      const more = reply.choices!.findIndex((c) => c.id === `staff:queue:${n + 1}`);
      if (more < 0) break;
      expect(reply.choices![more]!.label).toBe(it_('staff.more'));
      page = await marco.say(String(more + 1));
    }
    expect(seen).toEqual(refs);
  });

  it('reassigning a family moves her open requests to the new tutor: the cards name her, she gets one notice with buttons, the previous tutor is told', async () => {
    await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
    const fam = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });
    const giulia = await makeStaff(t, 'tutor', 'Giulia Bianchi', '2001');
    await t.sql.query(`insert into public.family_assignments (family_id, tutor_id, assigned_at) select $1, staff_id, '2026-11-01' from public.contacts where id = $2`, [fam.family_id, giulia]);
    const sara = await makeStaff(t, 'tutor', 'Sara Neri', '2002');
    const taken = await openNeed(fam.family_id, 'health');
    const open = await openNeed(fam.family_id, 'documents');
    const closed = await openNeed(fam.family_id, 'work');
    await person(deps, { id: '2001' }).tap(`need:take:${taken.ref}`);
    await t.sql.query(`update public.needs set status = 'resolved', outcome = 'solved' where id = $1`, [closed.id]);
    const before = (await outboxOf(giulia)).length;
    const s = await staffRef('Sara Neri');
    const marco = person(deps, { id: '3001' });

    const done = await marco.say(`/assign F-${fam.ref} T-${s}`);
    expect(texts(done)).toEqual([[it_('staff.assigned', { family: `F-${fam.ref}`, name: 'Sara Neri' }), it_('staff.needsMoved', { needs: 2 })].join('\n')]);
    expect(await t.sql.query(`select n.ref::int as ref, n.status, s.full_name as assignee, n.taken_by from public.needs n left join public.staff s on s.id = n.assignee_id order by n.ref`)).toEqual([
      { ref: taken.ref, status: 'open', assignee: 'Sara Neri', taken_by: null },
      { ref: open.ref, status: 'open', assignee: 'Sara Neri', taken_by: null },
      { ref: closed.ref, status: 'resolved', assignee: 'Giulia Bianchi', taken_by: null },
    ]);

    // the request's card names the new tutor
    const card = texts(await marco.say(`/need N-${taken.ref}`))[0]!;
    expect(card).toContain(it_('staff.needStatus.open', { name: 'Sara Neri', outcome: '' }));

    // one notice to the new tutor: the family, her two open requests, their buttons
    const notices = await outboxOf(sara);
    expect(notices).toHaveLength(1);
    const lines = notices[0]!.text.split('\n');
    expect(lines[0]).toBe(it_('staff.familyAssignedToYou', { family: `F-${fam.ref}`, district: await district(), children: 'Amir (10 mesi)' }));
    expect(lines[1]).toBe(it_('staff.familyOpenNeeds'));
    expect(lines.slice(2).map((l) => /N-(\d+)/.exec(l)?.[1])).toEqual([String(taken.ref), String(open.ref)]);
    expect(notices[0]!.choices!.map((c) => c.id)).toEqual([`need:take:${taken.ref}`, `need:reply:${taken.ref}`, `need:take:${open.ref}`, `need:reply:${open.ref}`]);
    expect(notices[0]!.kind).toBe('staff_notice');

    // the previous tutor is told the family moved, and can no longer open her requests
    const toGiulia = (await outboxOf(giulia)).slice(before);
    expect(toGiulia.map((n) => n.text)).toEqual([it_('staff.familyMoved', { family: `F-${fam.ref}`, name: 'Sara Neri' })]);
    expect(texts(await person(deps, { id: '2001' }).say(`/need N-${open.ref}`))[0]).toBe(it_('staff.unknownNeed', { need: `N-${open.ref}` }));
    // and the new one takes it from her notice's button
    expect(texts(await person(deps, { id: '2002' }).tap(`need:take:${open.ref}`))).toEqual([it_('staff.needTaken', { need: `N-${open.ref}` })]);
  });

  it('a request of a family nobody follows yet says "not taken yet, no tutor", not "assigned to –"', async () => {
    await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
    const fam = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });
    const need = await openNeed(fam.family_id);
    const card = texts(await person(deps, { id: '3001' }).say(`/need N-${need.ref}`))[0]!;
    expect(card).toContain(it_('staff.needStatusNobody'));
    expect(card).not.toContain(it_('staff.needStatus.open', { name: '–', outcome: '' }));
  });

  it('the coordinator who invited a tutor is told when she joins, with her T-number', async () => {
    const marcoContact = await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
    await makeStaff(t, 'coordinator', 'Anna Verdi', '3002');
    const d = coreDeps(t, NOW, { newCode: () => 'TUTR2345' });
    await person(d, { id: '3001' }).say('/invita tutor Giulia Bianchi');
    expect(await outboxOf(marcoContact)).toEqual([]);

    await person(d, { channel: 'whatsapp', id: '+393330000001', hint: 'it' }).say('TUTR2345');
    const ref = await staffRef('Giulia Bianchi');
    const told = await outboxOf(marcoContact);
    expect(told).toEqual([{ kind: 'staff_notice', text: it_('staff.joined', { name: 'Giulia Bianchi', role: it_('staff.roleTutor'), tutor: `T-${ref}` }), choices: [{ id: 'staff:queue', label: it_('staff.menuQueue') }] }]);
    // only the one who invited her
    expect(await t.sql.query(`select count(*)::int as n from public.outbox o join public.contacts c on c.id = o.contact_id where c.provider_id = '3002'`)).toEqual([{ n: 0 }]);
  });
});

describe('staff: /help comes from the command table, per role, in her language', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await pgliteDb();
  });
  afterEach(() => t.close());

  it.each(['it', 'en', 'ar'] as const)('every command in the table has its help text in %s', (lng) => {
    const commands = files[lng]!.commands as Record<string, string> | undefined;
    for (const c of STAFF_COMMANDS) expect(commands?.[c.name], `${lng}: commands.${c.name}`).toBeTruthy();
  });

  it.each([
    ['tutor', 'it'], ['coordinator', 'it'], ['tutor', 'en'], ['coordinator', 'en'],
  ] as [StaffRole, Language][])('a %s reading %s sees every command of her role, with its aliases, and no other', async (role, lng) => {
    const deps = coreDeps(t, NOW);
    const contact = await makeStaff(t, role, 'Eva Verdi', '2001');
    await t.sql.query(`update public.contacts set language = $1 where id = $2`, [lng, contact]);
    const help = texts(await person(deps, { id: '2001' }).say('/aiuto')).join('\n');
    const lt = i18n.t(lng);
    const raw = files[lng]!.commands as Record<string, string>;
    const lines = help.split('\n');
    expect(lines[0]).toBe(lt('staff.helpHead'));
    const listed = lines.filter((l) => l.startsWith('/'));
    expect(listed).toEqual(commandsFor(role).map((c) => lt('staff.helpLine', {
      command: [`/${c.name}`, c.args].filter(Boolean).join(' '), aliases: c.aliases.map((a) => `/${a}`).join(', '), what: raw[c.name],
    })));
    const others = STAFF_COMMANDS.filter((c) => !commandsFor(role).includes(c));
    expect(others.length > 0).toBe(role === 'tutor');
    for (const c of others) expect(help).not.toMatch(new RegExp(`^/${c.name}\\b`, 'm'));
  });

  it('every command and alias in the table reaches its handler', async () => {
    const deps = coreDeps(t, NOW);
    await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
    const marco = person(deps, { id: '3001' });
    for (const c of STAFF_COMMANDS) {
      for (const word of [c.name, ...c.aliases]) {
        const replies = texts(await marco.say(`/${word}`)).join('\n');
        expect(replies, `/${word}`).not.toContain(it_('staff.unknownCommand'));
        await marco.tap('staff:menu');
      }
    }
  });
});
