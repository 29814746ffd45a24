import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../bot/clock';
import { loadConfig } from '../../../bot/config';
import { createLogger } from '../../../bot/logger';
import { runJob } from '../../../functions/jobs';
import { escalations } from '../../../bot/features/needs/job';
import { pgliteDb, type TestDb } from '../../support/door';
import { coreDeps, i18n, makeStaff, person } from '../../support/chat';
import { familyWithChild } from '../../support/families';

const OPENED = '2026-11-23T10:00:00+01:00';
const deps = (t: TestDb) => ({ db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n });

interface Row { text: string; choices: { id: string; label: string }[] }
const noticesTo = (t: TestDb, contactId: string) =>
  t.sql.query<Row>(`select payload->>'text' as text, payload->'choices' as choices from public.outbox where contact_id = $1 and kind = 'staff_notice' order by id`, [contactId]);

describe('escalations: what staff read about a request nobody took', () => {
  let t: TestDb;
  let clock: FakeClock;
  beforeEach(async () => {
    t = await pgliteDb();
    clock = new FakeClock(OPENED);
  });
  afterEach(() => t.close());

  /** An urgent request of a family on one channel, with no tutor, opened at OPENED. */
  async function urgentNeed(channel: 'whatsapp' | 'telegram', providerId: string) {
    const fam = await familyWithChild(t, { providerId, channel, birth: '2026-01-10' });
    await t.sql.query(`update public.families set caller_name = 'Amina' where id = $1`, [fam.family_id]);
    const [need] = await t.sql.query<{ ref: number }>(
      `insert into public.needs (family_id, category, urgency, source, status, created_at, updated_at) values ($1, 'protection', 'urgent', 'danger', 'open', $2, $2) returning ref::int as ref`,
      [fam.family_id, clock.now().toISOString()]);
    const district = (await t.sql.query<{ name: string }>(`select name from public.districts where code = 'milano-5'`))[0]!.name;
    return { family: `F-${fam.ref}`, need: `N-${need!.ref}`, ref: need!.ref, district };
  }

  it.each([
    { lng: 'it', channel: 'whatsapp', providerId: '+393331234567' },
    { lng: 'it', channel: 'telegram', providerId: '1001' },
    { lng: 'en', channel: 'whatsapp', providerId: '+393331234567' },
    { lng: 'en', channel: 'telegram', providerId: '1001' },
  ] as const)('at +31 minutes ($lng, she writes on $channel): how long in plain words, who she is, how to reach her, and the buttons', async ({ lng, channel, providerId }) => {
    const coordinator = await makeStaff(t, 'coordinator', 'Anna Rossi', '3001');
    await t.sql.query(`update public.contacts set language = $1 where id = $2`, [lng, coordinator]);
    const n = await urgentNeed(channel, providerId);
    const lt = i18n.t(lng);

    clock.advance(29 * 60_000);
    await runJob(escalations, deps(t), clock.now());
    expect(await noticesTo(t, coordinator)).toEqual([]);
    clock.advance(2 * 60_000);
    await runJob(escalations, deps(t), clock.now());
    const [notice] = await noticesTo(t, coordinator);
    const lines = notice!.text.split('\n');

    const duration = lng === 'it' ? '31 minuti' : '31 minutes';
    expect(lines[0]).toBe(lt('staff.escalationUrgent', { need: n.need, category: lt('needs.category.protection'), duration }));
    expect(lines[0]).toContain(duration);
    // a span, never "after … ago"
    expect(notice!.text).not.toMatch(lng === 'it' ? / fa\b|dopo/ : / ago\b|after/);
    expect(lines[1]).toBe(lt('staff.escalationFamily', { family: n.family, name: 'Amina', district: n.district, assignee: lt('staff.nobody') }));
    expect(lines[2]).toBe(channel === 'whatsapp' ? lt('staff.reachWhatsApp', { number: providerId }) : lt('staff.reachTelegram'));
    expect(lines[3]).toBe(lt('staff.escalationAct'));
    expect(lines).toHaveLength(4);
    if (channel === 'telegram') expect(notice!.text).not.toMatch(/\+?\d{9,}/);
    expect(notice!.choices).toEqual([
      { id: `need:take:${n.ref}`, label: lt('staff.needTake') },
      { id: `need:reply:${n.ref}`, label: lt('staff.needReply') },
    ]);

    // the take button works for the coordinator who reads it
    const anna = person(coreDeps(t, clock.now().toISOString()), { id: '3001' });
    expect((await anna.tap(`need:take:${n.ref}`))[0]!.text).toBe(lt('staff.needTaken', { need: n.need }));
  });

  it.each([
    [45, '45 minuti'], [60 * 3 + 5, '3 ore'], [60 * 49, '2 giorni'],
  ])('a request waiting %i minutes reads "aperta da %s"', async (minutes, words) => {
    const coordinator = await makeStaff(t, 'coordinator', 'Anna Rossi', '3001');
    const n = await urgentNeed('telegram', '1001');
    clock.advance(minutes * 60_000);
    await runJob(escalations, deps(t), clock.now());
    const [notice] = await noticesTo(t, coordinator);
    expect(notice!.text.split('\n')[0]).toBe(`🆘 URGENTE ${n.need} · ${i18n.t('it')('needs.category.protection')}: aperta da ${words}, nessuno l'ha ancora presa in carico.`);
  });

  it('the 48-hour reminder tells her tutor how long the request has waited for her, who the family is and how to reach her', async () => {
    const fam = await familyWithChild(t, { providerId: '+393331234567', channel: 'whatsapp', birth: '2026-01-10' });
    const tutor = await makeStaff(t, 'tutor', 'Giulia Bianchi', '2001');
    await t.sql.query(`insert into public.family_assignments (family_id, tutor_id, assigned_at) select $1, staff_id, '2026-11-01' from public.contacts where id = $2`, [fam.family_id, tutor]);
    const [need] = await t.sql.query<{ ref: number }>(
      `insert into public.needs (family_id, category, source, status, created_at, updated_at) values ($1, 'health', 'menu', 'open', $2, $2) returning ref::int as ref`, [fam.family_id, OPENED]);
    clock.advance(49 * 3_600_000);
    await runJob(escalations, deps(t), clock.now());
    const [notice] = await noticesTo(t, tutor);
    const it_ = i18n.t('it');
    const district = (await t.sql.query<{ name: string }>(`select name from public.districts where code = 'milano-5'`))[0]!.name;
    expect(notice!.text.split('\n')).toEqual([
      it_('staff.reminderOpen', { need: `N-${need!.ref}`, category: it_('needs.category.health'), duration: it_('staff.durationDays', { count: 2 }) }),
      it_('staff.escalationFamily', { family: `F-${fam.ref}`, name: it_('staff.noName'), district, assignee: 'Giulia Bianchi' }),
      it_('staff.reachWhatsApp', { number: '+393331234567' }),
    ]);
    expect(notice!.text).toContain('ti aspetta da 2 giorni.');
    expect(notice!.choices!.map((c) => c.id)).toEqual([`need:take:${need!.ref}`, `need:reply:${need!.ref}`]);
  });
});
