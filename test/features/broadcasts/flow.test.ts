import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderNotice, type Audience } from '../../../bot/features/broadcasts/service';
import { departure, parseWhen } from '../../../bot/features/broadcasts/flow';
import { libreTranslate } from '../../../bot/knowledge/translate';
import { createLogger } from '../../../bot/logger';
import { runJob } from '../../../functions/jobs';
import { broadcasts } from '../../../bot/features/broadcasts/job';
import { loadConfig } from '../../../bot/config';
import { pgliteDb, type TestDb } from '../../support/door';
import { choiceIds, coreDeps, deliverAll, i18n, makeStaff, person, texts } from '../../support/chat';
import { fakeTranslate } from '../../support/fake-translate';

const it_ = i18n.t('it');
const TODAY = '2026-11-23';
const NOW = '2026-11-23T10:00:00+01:00';

interface Fam {
  name: string;
  language: string;
  channel: 'telegram' | 'whatsapp';
  district: string;
  birth?: string;
  due?: string;
  tutor?: 'T1' | 'T2';
  need?: 'open' | 'in_charge' | 'resolved';
  status?: 'active' | 'paused' | 'unreachable';
  familyStatus?: 'active' | 'closed';
  consent?: 'given' | 'pending';
}

/** Families whose every attribute is known, so each filter has one exact answer. The provider id is the name. */
const FAMILIES: Fam[] = [
  { name: 'A', language: 'it', channel: 'telegram', district: 'milano-1', birth: '2026-06-01', tutor: 'T1', need: 'open' },
  { name: 'B', language: 'ar', channel: 'whatsapp', district: 'milano-2', birth: '2025-01-10', tutor: 'T1' },
  { name: 'C', language: 'ar', channel: 'telegram', district: 'milano-1', birth: '2022-03-01', tutor: 'T2', need: 'resolved' },
  { name: 'D', language: 'bn', channel: 'whatsapp', district: 'milano-3', due: '2027-02-01', need: 'in_charge' },
  { name: 'E', language: 'uk', channel: 'telegram', district: 'milano-2', birth: '2019-01-01', tutor: 'T2', status: 'paused' },
  { name: 'F', language: 'en', channel: 'whatsapp', district: 'milano-1', birth: '2026-10-01', tutor: 'T2', status: 'unreachable' },
  { name: 'G', language: 'it', channel: 'telegram', district: 'milano-1', birth: '2026-01-01', familyStatus: 'closed' },
  { name: 'H', language: 'es', channel: 'telegram', district: 'milano-1', birth: '2026-01-01', consent: 'pending' },
];

async function seedFamilies(t: TestDb): Promise<Record<string, number>> {
  const tutors: Record<string, string> = {};
  for (const [key, name] of [['T1', 'Giulia Bianchi'], ['T2', 'Sara Neri']]) {
    tutors[key!] = (await t.sql.query<{ id: string }>(`insert into public.staff (role, full_name) values ('tutor', $1) returning id`, [name]))[0]!.id;
  }
  const refs: Record<string, number> = {};
  for (const f of FAMILIES) {
    const [fam] = await t.sql.query<{ id: string; ref: number }>(`insert into public.families (district_code, status) values ($1, $2) returning id, ref::int as ref`, [f.district, f.familyStatus ?? 'active']);
    refs[f.name] = fam!.ref;
    await t.sql.query(`insert into public.contacts (channel, provider_id, language, language_confirmed, consent, consent_at, status, family_id, last_inbound_at)
                       values ($1, $2, $3, true, $4, $7, $5, $6, $7)`,
    [f.channel, f.channel === 'whatsapp' ? `+39333000000${f.name.charCodeAt(0) - 64}` : f.name, f.language, f.consent ?? 'given', f.status ?? 'active', fam!.id, '2026-11-23T08:00:00Z']);
    await t.sql.query(`insert into public.children (family_id, name, birth_date, due_date) values ($1, 'X', $2::date, $3::date)`, [fam!.id, f.birth ?? null, f.due ?? null]);
    if (f.tutor) await t.sql.query(`insert into public.family_assignments (family_id, tutor_id) values ($1, $2)`, [fam!.id, tutors[f.tutor]]);
    if (f.need) await t.sql.query(`insert into public.needs (family_id, category, source, status) values ($1, 'housing', 'menu', $2)`, [fam!.id, f.need]);
  }
  // B's partner, in Italian on Telegram: language and channel filters are per person, the rest per family
  await t.sql.query(`insert into public.contacts (channel, provider_id, language, language_confirmed, consent, family_id)
                     select 'telegram', 'B2', 'it', true, 'given', family_id from public.contacts where provider_id = '+393330000002'`);
  return refs;
}

const tutorRef = async (t: TestDb, name: string) => (await t.sql.query<{ ref: number }>(`select ref::int as ref from public.staff where full_name = $1`, [name]))[0]!.ref;

describe('broadcasts: audience, texts in each language, sending and the report', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  beforeEach(async () => {
    t = await pgliteDb();
    deps = coreDeps(t, NOW);
  });
  afterEach(() => t.close());

  /** who a filter picks: provider ids of the contacts, with their status */
  const picked = async (audience: Audience) =>
    (await t.sql.query<{ who: string }>(
      `select c.provider_id || ':' || a.status as who from public.broadcast_audience($1::jsonb, $2::date) a join public.contacts c on c.id = a.contact_id order by 1`,
      [JSON.stringify(audience), TODAY],
    )).map((r) => r.who.replace(/^\+39333000000(\d)/, (_, n: string) => String.fromCharCode(64 + Number(n)))).sort();

  it('each audience filter picks exactly the right people; closed families and pending consent never', async () => {
    await seedFamilies(t);
    const t1 = await tutorRef(t, 'Giulia Bianchi');
    const t2 = await tutorRef(t, 'Sara Neri');
    const cases: [string, Audience, string[]][] = [
      ['all', {}, ['A:active', 'B2:active', 'B:active', 'C:active', 'D:active', 'E:paused', 'F:unreachable']],
      ['Arabic', { languages: ['ar'] }, ['B:active', 'C:active']],
      ['Arabic or Bengali', { languages: ['ar', 'bn'] }, ['B:active', 'C:active', 'D:active']],
      ['district 1', { districts: ['milano-1'] }, ['A:active', 'C:active', 'F:unreachable']],
      ['under one year', { ages: ['under1'] }, ['A:active', 'F:unreachable']],
      ['one to three', { ages: ['1to3'] }, ['B2:active', 'B:active']],
      ['three to six', { ages: ['3to6'] }, ['C:active']],
      ['expecting', { ages: ['expecting'] }, ['D:active']],
      ['tutor T1', { tutors: [t1] }, ['A:active', 'B2:active', 'B:active']],
      ['tutor T2', { tutors: [t2] }, ['C:active', 'E:paused', 'F:unreachable']],
      ['WhatsApp', { channels: ['whatsapp'] }, ['B:active', 'D:active', 'F:unreachable']],
      ['open need (open or in charge, not resolved)', { open_need: true }, ['A:active', 'D:active']],
      ['Arabic on Telegram in district 1 with T2', { languages: ['ar'], channels: ['telegram'], districts: ['milano-1'], tutors: [t2] }, ['C:active']],
      ['Italian, one to three (her partner, not her)', { languages: ['it'], ages: ['1to3'] }, ['B2:active']],
      ['nobody', { languages: ['zh'] }, []],
    ];
    for (const [name, audience, expected] of cases) expect(await picked(audience), name).toEqual(expected);
  });

  it('the fallback rule: her own language when the coordinator wrote it, otherwise the Italian text under a note in her language', () => {
    const texts = { it: 'Sabato open day al nido di via Rossi.', ar: 'يوم مفتوح في الحضانة يوم السبت.' };
    const ar = renderNotice(i18n, texts, 'ar');
    expect(ar).toEqual({ text: `${i18n.t('ar')('broadcast.head')}\n\n${texts.ar}`, text_language: 'ar', notice: texts.ar });
    const bn = renderNotice(i18n, texts, 'bn');
    expect(bn.text_language).toBe('it');
    expect(bn.text).toBe(`${i18n.t('bn')('broadcast.head')}\n${i18n.t('bn')('broadcast.inItalian')}\n\n${texts.it}`);
    // the template variable is one line (WhatsApp refuses newlines in variables)
    expect(renderNotice(i18n, { it: 'Riga uno\n\nRiga due' }, 'it').notice).toBe('Riga uno · Riga due');
  });

  it('a coordinator builds a broadcast in chat: audience, Italian text, her own Arabic text, preview, send; each gets the right text once, paused and unreachable are skipped and counted', async () => {
    await seedFamilies(t);
    await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
    const marco = person(deps, { id: '3001', hint: 'it' });

    let r = await marco.say('/avviso');
    expect(texts(r)[0]).toContain(it_('broadcast.audienceCount', { count: 5, families: 4 }));
    expect(texts(r)[0]).toContain(it_('broadcast.audienceSkipped', { paused: 1, unreachable: 1 }));
    r = await marco.tap('bc:filter:districts');
    expect(choiceIds(r)).toContain('bc:add:districts:milano-1');
    r = await marco.tap('bc:add:districts:milano-1');
    r = await marco.tap('bc:filter:districts');
    r = await marco.tap('bc:add:districts:milano-2');
    expect(texts(r)[0]).toContain(it_('broadcast.audienceCount', { count: 4, families: 3 }));
    r = await marco.tap('bc:next');
    expect(texts(r)[0]).toBe(it_('broadcast.askItalian', { max: 1000 }));
    r = await marco.say('Sabato 28 open day al nido di via Rossi, ore 10.');
    expect(choiceIds(r)).toEqual(expect.arrayContaining(['bc:write:ar', 'bc:preview']));
    expect(choiceIds(r)).not.toContain('bc:draft'); // no translation service configured
    expect(texts(r)[0]).toContain(it_('broadcast.noTranslator'));
    r = await marco.tap('bc:write:ar');
    r = await marco.say('يوم مفتوح في الحضانة يوم السبت 28 الساعة 10.');
    r = await marco.tap('bc:preview');
    // one preview per language exactly as she will read it, then the count
    const previews = texts(r);
    expect(previews.find((p) => p.includes('يوم مفتوح'))).toContain(i18n.t('ar')('broadcast.head'));
    // 10:00 in Rome, inside the notices' window: it says so, and it leaves at once
    expect(previews.at(-1)).toBe([it_('broadcast.confirm', { count: 4, skipped: 2 }), it_('broadcast.leavesNow', { from: '09:00', to: '19:00' })].join('\n'));
    expect(r.at(-1)!.choices![0]).toEqual({ id: 'bc:now', label: it_('broadcast.sendNow') });
    r = await marco.tap('bc:now');
    expect(texts(r)[0]).toContain(it_('broadcast.sendingNow', { broadcast: 'B-1' }));
    expect(choiceIds(r)).toEqual(['staff:menu']);

    // a redelivered tap does not make a second broadcast
    expect(await t.sql.query(`select ref::int as ref, status from public.broadcasts`)).toEqual([{ ref: 1, status: 'scheduled' }]);

    const job = { db: deps.db, logger: createLogger('silent'), config: loadConfig({}), i18n };
    const released = await runJob(broadcasts, job, new Date(NOW));
    expect(released).toMatchObject({ ran: true, summary: { released: [{ ref: 1, queued: 4, skipped: 2 }] } });
    await deliverAll(t, NOW);
    const got = await t.sql.query<{ who: string; text: string; priority: number }>(
      `select c.provider_id as who, o.payload ->> 'text' as text, o.priority from public.outbox o join public.contacts c on c.id = o.contact_id where o.kind = 'broadcast' order by 1`);
    expect(got.map((g) => g.who)).toEqual(['+393330000002', 'A', 'B2', 'C']);
    const byWho = Object.fromEntries(got.map((g) => [g.who, g.text]));
    expect(byWho['+393330000002']).toBe(`${i18n.t('ar')('broadcast.head')}\n\nيوم مفتوح في الحضانة يوم السبت 28 الساعة 10.`);
    expect(byWho.C).toBe(byWho['+393330000002']);
    expect(byWho.A).toBe(`${it_('broadcast.head')}\n\nSabato 28 open day al nido di via Rossi, ore 10.`);
    expect(got.every((g) => g.priority > 0)).toBe(true); // bulk: behind replies

    // done: the coordinator gets the report once
    await runJob(broadcasts, job, new Date('2026-11-23T10:01:00+01:00'));
    await runJob(broadcasts, job, new Date('2026-11-23T10:02:00+01:00'));
    const reports = await t.sql.query<{ text: string }>(`select payload ->> 'text' as text from public.outbox where idempotency_key like 'broadcast-report:%'`);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.text).toContain(it_('broadcast.reportCounts', { recipients: 6, queued: 4, sent: 4, delivered: 0, read: 0, whatsapp: 1 }));
    expect(reports[0]!.text).toContain(it_('broadcast.reportSkipped', { paused: 1, unreachable: 1, fallback: 0 }));

    // on request, and the list of who it did not reach
    expect(texts(await marco.say('/avviso B-1'))[0]).toContain(it_('broadcast.status.done'));
    const failures = texts(await marco.say('/mancati B-1'))[0]!;
    expect(failures).toContain(it_('broadcast.failuresHead', { broadcast: 'B-1', count: 2 }));
    expect(failures).toContain(it_('broadcast.reason.paused'));
    expect(failures).toContain(it_('broadcast.reason.unreachable'));
  });

  it('a language without its own text gets the Italian one with the note; machine drafts are shown and used only once approved', async () => {
    const translator = await fakeTranslate();
    try {
      await seedFamilies(t);
      await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
      deps = coreDeps(t, NOW, { translate: libreTranslate({ url: translator.url, logger: createLogger('silent') }) });
      const marco = person(deps, { id: '3001', hint: 'it' });
      await marco.say('/broadcast');
      await marco.tap('bc:filter:languages');
      await marco.tap('bc:add:languages:ar');
      await marco.tap('bc:filter:languages');
      await marco.tap('bc:add:languages:bn');
      await marco.tap('bc:next');
      await marco.say('Vaccinazioni gratuite in piazza sabato.');
      let r = await marco.tap('bc:draft');
      expect(texts(r)).toEqual(expect.arrayContaining([`${it_('broadcast.draftFor', { language: 'arabo' })}\n\n[ar] Vaccinazioni gratuite in piazza sabato.`]));
      expect(texts(r).at(-1)).toContain(it_('broadcast.langLine', { language: 'arabo', count: 2, state: it_('broadcast.langDraft') }));
      r = await marco.tap('bc:approve');
      expect(texts(r)[0]).toContain(it_('broadcast.langLine', { language: 'arabo', count: 2, state: it_('broadcast.langOwn') }));
      await marco.tap('bc:now');
      // a second broadcast with no drafts: Bengali falls back to Italian with the note
      await marco.say('/broadcast');
      await marco.tap('bc:filter:languages');
      await marco.tap('bc:add:languages:bn');
      await marco.tap('bc:next');
      await marco.say('Secondo avviso.');
      await marco.tap('bc:now');

      await runJob(broadcasts, { db: deps.db, logger: createLogger('silent'), config: loadConfig({}), i18n }, new Date(NOW));
      const rows = await t.sql.query<{ key: string; text: string }>(`select idempotency_key as key, payload ->> 'text' as text from public.outbox where kind = 'broadcast' order by id`);
      const bengali = i18n.t('bn');
      expect(rows.map((r2) => r2.text)).toEqual(expect.arrayContaining([
        `${i18n.t('ar')('broadcast.head')}\n\n[ar] Vaccinazioni gratuite in piazza sabato.`,
        `${bengali('broadcast.head')}\n\n[bn] Vaccinazioni gratuite in piazza sabato.`,
        `${bengali('broadcast.head')}\n${bengali('broadcast.inItalian')}\n\nSecondo avviso.`,
      ]));
      expect(await t.sql.query(`select text_language, count(*)::int as n from public.broadcast_recipients group by 1 order by 1`)).toEqual([{ text_language: 'ar', n: 2 }, { text_language: 'bn', n: 1 }, { text_language: 'it', n: 1 }]);
    } finally {
      await translator.close();
    }
  });

  it('sends at a chosen time, never at night, and can be cancelled before it goes', async () => {
    await seedFamilies(t);
    await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
    const marco = person(deps, { id: '3001', hint: 'it' });
    await marco.say('/broadcast');
    await marco.tap('bc:next');
    await marco.say('Chiusura uffici lunedì.');
    await marco.tap('bc:preview');
    await marco.tap('bc:later');
    expect(texts(await marco.say('domani'))[0]).toBe(it_('broadcast.badWhen', { example: '25/11 10:00' }));
    const r = await marco.say('24/11 21:30');
    expect(texts(r)[0]).toContain(it_('broadcast.movedToDay'));
    const [b] = await t.sql.query<{ send_at: Date }>(`select send_at from public.broadcasts`);
    expect(new Date(b!.send_at).toISOString()).toBe('2026-11-25T08:00:00.000Z'); // 09:00 in Rome, the next morning

    const job = { db: deps.db, logger: createLogger('silent'), config: loadConfig({}), i18n };
    expect((await runJob(broadcasts, job, new Date('2026-11-24T21:30:00+01:00')))).toMatchObject({ summary: { released: [] } });
    expect(texts(await marco.say('/annullaavviso B-1'))[0]).toContain(it_('broadcast.cancelled', { broadcast: 'B-1', count: 0 }));
    await runJob(broadcasts, job, new Date('2026-11-25T09:00:00+01:00'));
    expect(await t.sql.query(`select 1 from public.outbox where kind = 'broadcast'`)).toEqual([]);
    expect(texts(await marco.say('/annullaavviso B-1'))[0]).toContain(it_('broadcast.cannotCancel', { broadcast: 'B-1', status: it_('broadcast.status.cancelled') }));
  });

  it.each([
    { at: '2026-11-23T08:05:00+01:00', day: 'today', leaves: '2026-11-23T08:00:00.000Z' },
    { at: '2026-11-23T20:00:00+01:00', day: 'tomorrow', leaves: '2026-11-24T08:00:00.000Z' },
    { at: '2026-11-23T10:00:00+01:00', day: 'now', leaves: '2026-11-23T09:00:00.000Z' },
  ] as const)('the preview at $at (Rome) says the notice leaves $day, before the tap, and the tap does just that', async ({ at, day, leaves }) => {
    await seedFamilies(t);
    await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
    const marco = person(coreDeps(t, at), { id: '3001', hint: 'it' });
    await marco.say('/broadcast');
    await marco.tap('bc:next');
    await marco.say('Chiusura uffici lunedì.');
    const preview = await marco.tap('bc:preview');
    const window = { from: '09:00', to: '19:00' };
    const said = { now: it_('broadcast.leavesNow', window), today: it_('broadcast.leavesToday', { ...window, time: '09:00' }), tomorrow: it_('broadcast.leavesTomorrow', { ...window, time: '09:00' }) }[day];
    const button = { now: it_('broadcast.sendNow'), today: it_('broadcast.sendAtToday', { time: '09:00' }), tomorrow: it_('broadcast.sendAtTomorrow', { time: '09:00' }) }[day];
    expect(texts(preview).at(-1)).toBe([it_('broadcast.confirm', { count: 5, skipped: 2 }), said].join('\n'));
    expect(preview.at(-1)!.choices!.slice(0, 2)).toEqual([{ id: 'bc:now', label: button }, { id: 'bc:later', label: it_('broadcast.sendLater') }]);

    const sent = texts(await marco.tap('bc:now'))[0]!;
    const [b] = await t.sql.query<{ send_at: Date }>(`select send_at from public.broadcasts`);
    expect(new Date(b!.send_at).toISOString()).toBe(day === 'now' ? new Date(at).toISOString() : leaves);
    const when = new Intl.DateTimeFormat('it', { timeZone: 'Europe/Rome', weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(new Date(leaves));
    expect(sent.split('\n')[0]).toBe(day === 'now' ? it_('broadcast.sendingNow', { broadcast: 'B-1' }) : it_('broadcast.scheduled', { broadcast: 'B-1', when }));
    // nothing left unsaid after the tap: the preview already told when
    expect(sent).not.toContain(it_('broadcast.movedToDay'));
  });

  it('a mother or a tutor cannot broadcast, and the database refuses it too', async () => {
    await seedFamilies(t);
    const mother = person(deps, { id: 'A', hint: 'it' });
    for (const command of ['/broadcast', '/avviso', '/broadcasts', '/report', '/deactivate T-1']) {
      expect(texts(await mother.say(command)).join('\n')).not.toContain(it_('broadcast.intro'));
    }
    await makeStaff(t, 'tutor', 'Eva Verdi', '2001');
    const eva = person(deps, { id: '2001', hint: 'it' });
    for (const command of ['/broadcast', '/broadcasts', '/failures B-1', '/cancelbroadcast B-1', '/report', '/deactivate T-1']) {
      expect(texts(await eva.say(command))[0], command).toBe(it_('staff.notAllowed'));
    }
    const [tutor] = await t.sql.query<{ id: string }>(`select id from public.staff where full_name = 'Eva Verdi'`);
    const forged = await t.db.rpc('broadcast_create', { p_staff_id: tutor!.id, p_source: 'chat', p_source_key: null, p_audience: {}, p_texts: { it: 'x' }, p_send_at: NOW, p_now: NOW });
    expect(forged.error?.code).toBe('42501');
    expect(await t.sql.query(`select 1 from public.broadcasts`)).toEqual([]);
  });

  it('parses the day and time she types on Rome\'s clock', () => {
    const now = new Date('2026-11-23T10:00:00+01:00');
    expect(parseWhen('25/11 10:00', now)?.toISOString()).toBe('2026-11-25T09:00:00.000Z');
    expect(parseWhen('2027-07-01 09:30', now)?.toISOString()).toBe('2027-07-01T07:30:00.000Z');
    expect(parseWhen('01/01 09:00', now)?.toISOString()).toBe('2027-01-01T08:00:00.000Z'); // next 1 January
    expect(parseWhen('31/02 10:00', now)).toBeNull();
    expect(parseWhen('25/11', now)).toBeNull();
  });
});

describe('when a notice confirmed now leaves: the reminders\' 09:00–19:00 window on Rome\'s clock', () => {
  it.each([
    ['2026-11-23T08:59:59+01:00', 'today', '2026-11-23T08:00:00.000Z'],
    ['2026-11-23T09:00:00+01:00', 'now', '2026-11-23T08:00:00.000Z'],
    ['2026-11-23T18:59:00+01:00', 'now', '2026-11-23T17:59:00.000Z'],
    ['2026-11-23T19:00:00+01:00', 'tomorrow', '2026-11-24T08:00:00.000Z'],
    ['2026-11-24T00:30:00+01:00', 'today', '2026-11-24T08:00:00.000Z'],
    ['2026-03-28T23:00:00+01:00', 'tomorrow', '2026-03-29T07:00:00.000Z'], // the night summer time starts: 09:00 is 07:00 UTC
  ])('a notice confirmed at %s leaves %s, at %s', (now, day, leaves) => {
    const d = departure(new Date(now));
    expect([d.day, d.at.toISOString()]).toEqual([day, leaves]);
  });
});

describe('staff and caseloads', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  beforeEach(async () => {
    t = await pgliteDb();
    deps = coreDeps(t, NOW);
  });
  afterEach(() => t.close());

  it('lists tutors with families and open needs; deactivating one sends her families to the queue and her needs back, nothing lost', async () => {
    await seedFamilies(t);
    await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
    const marco = person(deps, { id: '3001', hint: 'it' });
    const t1 = await tutorRef(t, 'Giulia Bianchi');
    const t2 = await tutorRef(t, 'Sara Neri');
    const list = texts(await marco.say('/tutors'))[0]!;
    expect(list).toContain(it_('staff.tutorLineNeeds', { tutor: `T-${t1}`, name: 'Giulia Bianchi', count: 2, needs: 1 }));
    expect(list).toContain(it_('staff.tutorLineNeeds', { tutor: `T-${t2}`, name: 'Sara Neri', count: 3, needs: 0 }));

    await t.sql.query(`insert into public.contacts (channel, provider_id, language, consent, staff_id) select 'telegram', '2001', 'it', 'given', id from public.staff where full_name = 'Giulia Bianchi'`);
    const r = await marco.say(`/disattiva T-${t1}`);
    expect(choiceIds(r)).toEqual([`deact:${t1}`, 'deact:no']);
    expect(await t.sql.query(`select active from public.staff where full_name = 'Giulia Bianchi'`)).toEqual([{ active: true }]);
    const done = await marco.tap(`deact:${t1}`);
    expect(texts(done)).toEqual([it_('staff.deactivated', { tutor: `T-${t1}`, name: 'Giulia Bianchi', families: 2, needs: 1 })]);
    expect(choiceIds(done)).toEqual(['staff:queue', 'staff:menu']);
    expect(await t.sql.query(`select count(*)::int as n from public.family_assignments where ended_at is null`)).toEqual([{ n: 3 }]);
    expect(await t.sql.query(`select status, assignee_id, taken_by from public.needs where status <> 'resolved' order by status`)).toEqual([
      { status: 'in_charge', assignee_id: null, taken_by: null }, { status: 'open', assignee_id: null, taken_by: null },
    ]);
    // her families are in the queue for a coordinator, and she can no longer act as staff
    // D and H were already waiting; A and B join them
    expect(texts(await marco.say('/queue'))[0]).toContain(it_('staff.queueHeader', { count: 4 }));
    const giulia = person(deps, { id: '2001', hint: 'it' });
    expect(texts(await giulia.say('/families')).join('\n')).not.toContain(it_('staff.familiesHeader', { count: 2 }));
    expect(texts(await marco.say('/tutors'))[0]).not.toContain('Giulia Bianchi');
  });
});
