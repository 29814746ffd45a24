import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../bot/clock';
import { KnowledgeBase } from '../../bot/knowledge/knowledge';
import { pgliteDb, type TestDb } from '../support/door';

// The knowledge base as the bot reads it: seeded with the schema, through supabase-js and the data door.
describe('the knowledge base on the database', () => {
  let t: TestDb;
  let kb: KnowledgeBase;
  beforeAll(async () => {
    t = await pgliteDb();
    kb = new KnowledgeBase(t.db, new FakeClock(new Date('2026-12-03T10:00:00+01:00')), 0);
  });
  afterAll(() => t.close());

  it.each([
    ['ar', 'je voudrais savoir combien coûte la crèche pour mon fils chaque mois', 'nido-cost', 'fr'],
    ['it', 'how do i choose a pediatrician for my newborn baby', 'pediatrician-choose', 'en'],
    ['en', 'quiero saber cuanto cuesta la guarderia para mi hijo cada mes', 'nido-cost', 'es'],
    ['zh', 'як отримати ISEE і що це таке', 'isee-what', 'uk'],
  ])('her profile says %s, she writes another of our languages: "%s" is answered in the language she wrote', async (profile, text, slug, written) => {
    const match = await kb.match(profile, text);
    expect(match?.entry.slug).toBe(slug);
    expect(match?.language).toBe(written);
  });

  it.each([
    ['it', 'quanto costa il nido al mese?', 'nido-cost'],
    // the Italian words she picks up are in every language's entries: her own language answers
    ['en', 'mi serve il codice fiscale per il mio bambino appena nato, dove lo chiedo?', 'newborn-codice-fiscale'],
  ])('answers in her own language (%s) when her words are found there: "%s"', async (profile, text, slug) => {
    const match = await kb.match(profile, text);
    expect(match).toMatchObject({ language: profile, entry: { slug } });
  });

  it('sends to the tutor what no entry answers, in whatever language', async () => {
    expect(await kb.match('ar', 'où est-ce que je peux acheter un vélo pas cher ?')).toBeUndefined();
  });
});
