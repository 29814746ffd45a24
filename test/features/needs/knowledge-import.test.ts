import { describe, expect, it } from 'vitest';
import { knowledgeRowsFromSource, parseKnowledgeCsv, parseServicesCsv } from '../../../bot/features/needs/knowledge-import';
import { readKnowledgeSource } from '../../../functions/cli/knowledge-seed';
import { pgliteDb } from '../../support/door';

describe('knowledge-base CSV', () => {
  it('reads entries with their other phrasings, one row per language', () => {
    const csv = 'slug,category,language,question,answer,phrasings,keywords,unverified\nnido-open-day,education,ar,متى الأيام المفتوحة للحضانة؟,"الأيام المفتوحة في أواخر يناير، اسألي مرشدتك عن الموعد.",يوم مفتوح|زيارة الحضانة,nido حضانة زيارة,yes\n';
    expect(parseKnowledgeCsv(csv)).toEqual({ errors: [], rows: [{
      slug: 'nido-open-day', category: 'education', language: 'ar', question: 'متى الأيام المفتوحة للحضانة؟', answer: 'الأيام المفتوحة في أواخر يناير، اسألي مرشدتك عن الموعد.',
      phrasings: ['يوم مفتوح', 'زيارة الحضانة'], keywords: 'nido حضانة زيارة', unverified: true, source: null, active: true,
    }] });
  });

  it.each([
    ['Bad Slug!,health,en,Why?,An answer long enough.', 'slug "Bad Slug!" must be 2–60 lowercase letters, digits or dashes'],
    ['ok-slug,weather,en,Why?,An answer long enough.', 'category "weather" must be one of'],
    ['ok-slug,health,de,Why?,An answer long enough.', 'language "de" must be one of'],
    ['ok-slug,health,en,Why?,Short', 'answer must be 10–1500 characters'],
  ])('refuses "%s" with the line and the reason', (row, reason) => {
    const parsed = parseKnowledgeCsv(`slug,category,language,question,answer\nfine-one,health,en,Is this fine?,Yes it is a fine answer.\n${row}\n`);
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]!.line).toBe(3);
    expect(parsed.errors[0]!.reason).toContain(reason);
  });

  it('refuses the same entry twice in one language, and an unknown column', () => {
    const dup = parseKnowledgeCsv('slug,category,language,question,answer\na-b,health,en,Is it?,Yes it is fine.\na-b,health,en,Is it?,Yes it is fine.\n');
    expect(dup.errors).toEqual([{ line: 3, reason: 'a-b in en is already on line 2' }]);
    expect(parseKnowledgeCsv('slug,category,language,question,answer,colour\n').errors[0]).toMatchObject({ line: 1, reason: expect.stringContaining('unknown column(s): colour') });
  });
});

describe('services CSV', () => {
  const districts = ['milano-1', 'milano-2'];
  it('reads a district service and a citywide one', () => {
    const parsed = parseServicesCsv('name,category,district,address,hours,phone,languages\nConsultorio Esempio,health,milano-2,Via Esempio 3,lun-ven 9-16,02 1234 567,it ar\nCAF Centrale,documents,,,,,\n', districts);
    expect(parsed.errors).toEqual([]);
    expect(parsed.rows.map((r) => [r.name, r.district_code, r.languages])).toEqual([['Consultorio Esempio', 'milano-2', ['it', 'ar']], ['CAF Centrale', null, ['it']]]);
  });
  it('refuses an unknown district, a bad phone and a bad language with the line and the reason', () => {
    const parsed = parseServicesCsv('name,category,district,phone,languages\nA service,health,milano-99,,it\nB service,health,,call us,it\nC service,health,,,italiano\n', districts);
    expect(parsed.errors.map((e) => [e.line, e.reason.split(';')[0]])).toEqual([
      [2, 'district "milano-99" is not known'],
      [3, 'phone "call us" is not a phone number'],
      [4, 'language "italiano" must be a two- or three-letter code like it, ar, zh'],
    ]);
  });
});

describe("the repository's knowledge base, imported", () => {
  it('brings an edit of supabase/knowledge to a database that ran the seed before it (seeds run once)', async () => {
    const t = await pgliteDb();
    try {
      // the database still holds an older text of one entry
      await t.sql.query(`update public.kb_texts set answer = 'an older answer, since rewritten' where language = 'en' and entry_id = (select id from public.kb_entries where slug = 'isee-what')`);
      const src = await readKnowledgeSource();
      const rows = knowledgeRowsFromSource(src);
      expect(rows).toHaveLength(src.entries.length * Object.keys(src.texts).length);
      const { error } = await t.db.rpc('kb_upsert', { p_rows: rows, p_now: '2026-12-03T10:00:00Z' });
      expect(error).toBeNull();
      const [row] = await t.sql.query<{ answer: string }>(`select x.answer from public.kb_texts x join public.kb_entries e on e.id = x.entry_id where e.slug = 'isee-what' and x.language = 'en'`);
      expect(row!.answer).toBe(src.texts.en!['isee-what']!.answer);
    } finally {
      await t.close();
    }
  });
});
