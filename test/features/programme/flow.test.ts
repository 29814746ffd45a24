import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDate, languageName } from '../../../bot/core/format';
import { LANGUAGES } from '../../../bot/i18n';
import { coreDeps, i18n, makeStaff, person, texts } from '../../support/chat';
import { pgliteDb, type TestDb } from '../../support/door';

const NOW = '2026-11-23T10:00:00+01:00';

/** Twelve families: nine Arabic-speaking in milano-1 with one tutor, three Bengali-speaking in milano-9 waiting for one; three needs. */
async function seed(t: TestDb): Promise<number> {
  const [tutor] = await t.sql.query<{ id: string; ref: number }>(`insert into public.staff (role, full_name) values ('tutor', 'Giulia Bianchi') returning id, ref::int as ref`);
  const families: [string, string, boolean][] = [...Array.from({ length: 9 }, () => ['ar', 'milano-1', true] as [string, string, boolean]), ...Array.from({ length: 3 }, () => ['bn', 'milano-9', false] as [string, string, boolean])];
  for (const [i, [lng, district, assigned]] of families.entries()) {
    const [f] = await t.sql.query<{ id: string }>(`insert into public.families (district_code, created_at) values ($1, '2026-11-10T10:00:00Z') returning id`, [district]);
    await t.sql.query(`insert into public.contacts (channel, provider_id, language, consent, family_id, created_at) values ('telegram', $1, $2, 'given', $3, '2026-11-10T10:00:00Z')`, [String(6_000_000 + i), lng, f!.id]);
    await t.sql.query(`insert into public.children (family_id, name, birth_date, created_at) values ($1, 'X', '2026-05-01', '2026-11-10T10:00:00Z')`, [f!.id]);
    if (assigned) await t.sql.query(`insert into public.family_assignments (family_id, tutor_id, assigned_at) values ($1, $2, '2026-11-10T10:00:00Z')`, [f!.id, tutor!.id]);
    if (i >= 9) await t.sql.query(`insert into public.needs (family_id, category, source, status, created_at) values ($1, 'health', 'menu', 'open', '2026-11-12T10:00:00Z')`, [f!.id]);
  }
  return tutor!.ref;
}

describe('/report in chat', () => {
  let t: TestDb;
  let tutor: number;
  beforeAll(async () => {
    t = await pgliteDb();
    tutor = await seed(t);
    await makeStaff(t, 'coordinator', 'Marco Rossi', '3001');
  });
  afterAll(() => t.close());

  const report = async (lng: string) => {
    await t.sql.query(`update public.contacts set language = $1 where provider_id = '3001'`, [lng]);
    return texts(await person(coreDeps(t, NOW), { id: '3001' }).say('/report 2026-11-01 2026-11-30'))[0]!;
  };

  it('shows the three Bengali-speaking families, the queue and the needs as "<5", never as 3', async () => {
    const it_ = i18n.t('it');
    const text = await report('it');
    expect(text.split('\n').slice(0, 4)).toEqual([
      it_('report.title', { from: formatDate('it', '2026-11-01'), to: formatDate('it', '2026-11-30') }),
      it_('report.families', { count: 12, new: 12, children: 12 }),
      it_('report.languages', { list: `${languageName('it', 'ar')} 9, ${languageName('it', 'bn')} <5` }),
      it_('report.tutors', { list: `T-${tutor} 9, ${it_('report.queue')} <5` }),
    ]);
    expect(text).toContain(it_('report.needs', { count: '<5', areas: `${it_('needs.category.health')} <5` }));
    expect(text).not.toMatch(/\b3\b/);
  });

  it('reads well in each of the 13 languages: "<5" where a count was, no key names, no plural gone wrong', async () => {
    for (const lng of LANGUAGES) {
      const t_ = i18n.t(lng);
      const text = await report(lng);
      expect(text, lng).toContain(t_('report.families', { count: 12, new: 12, children: 12 }));
      expect(text, lng).toContain(t_('report.needs', { count: '<5', areas: `${t_('needs.category.health')} <5` }));
      expect(text.match(/<5/g)?.length, lng).toBe(4);
      expect(text, lng).not.toMatch(/\b(report|needs)\.[a-z]|\{\{|undefined|NaN/);
      expect(text, lng).not.toMatch(/\b3\b/);
    }
  });
});
