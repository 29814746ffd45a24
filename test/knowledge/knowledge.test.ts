import { beforeAll, describe, expect, it } from 'vitest';
import { buildIndex, bestMatch, MIXED_IN, search, type KbEntry } from '../../bot/knowledge/knowledge';
import { analyze, editDistance, fold, latinLanguageOf, words } from '../../bot/knowledge/terms';
import { LANGUAGES } from '../../bot/i18n';
import { readKnowledgeSource } from '../../functions/cli/knowledge-seed';
import type { KnowledgeSource } from '../../bot/features/needs/knowledge-import';

let src: KnowledgeSource;
beforeAll(async () => {
  src = await readKnowledgeSource();
});

const indexFor = (lng: string) => {
  const entries = (l: string): KbEntry[] => src.entries.map((e) => ({ id: e.slug, slug: e.slug, category: e.category, unverified: e.unverified, ...src.texts[l]![e.slug]! }));
  return buildIndex(lng, entries(lng), MIXED_IN.map((l) => ({ language: l, entries: entries(l) })));
};

describe('the knowledge base seed', () => {
  it('has at least 40 questions, each in all 13 languages', () => {
    expect(src.entries.length).toBeGreaterThanOrEqual(40);
    for (const lng of LANGUAGES) {
      expect(Object.keys(src.texts[lng] ?? {}).sort(), lng).toEqual(src.entries.map((e) => e.slug).sort());
    }
  });
});

describe('words and terms', () => {
  it('finds words in Chinese, which has no spaces', () => {
    expect(words('孩子必须打预防针吗', 'zh').length).toBeGreaterThan(2);
  });
  it('folds case, Latin accents and Arabic letter variants', () => {
    expect(fold('Città')).toBe('citta');
    expect(fold('الأطفال')).toBe(fold('اطفال'));
  });
  it.each([
    ['fr', 'est-ce que je peux prendre le métro avec la poussette ?', ['prendr', 'metro', 'pousset']],
    ['it', 'a che età spuntano i primi dentini?', ['eta', 'spunt', 'prim', 'dentin']],
    ['en', 'we were back home and my son skipped his shots, can he still get them?', ['back', 'home', 'son', 'skip', 'shot']],
  ])('%s: leaves out the words that mean nothing, stems the rest: "%s"', (lng, text, expected) => {
    expect(analyze(text, lng)).toEqual(expected);
  });
  it('stems Ukrainian with the Russian stemmer once its own letters are read as Russian ones, and leaves Latin words alone', () => {
    expect(analyze('дитині', 'uk')).toEqual(analyze('дитини', 'uk'));
    expect(analyze("обов'язкові", 'uk')).toEqual(analyze('обовязкови', 'uk'));
    // a Latin i typed inside a Cyrillic word
    expect(analyze('дитинi', 'uk')).toEqual(analyze('дитині', 'uk'));
    expect(analyze('nido isee', 'uk')).toEqual(['nido', 'isee']);
  });
  it('counts one typo as one, a swap of two letters as one', () => {
    expect(editDistance('vaccino', 'vacino', 2)).toBe(1);
    expect(editDistance('pediatra', 'pedaitra', 2)).toBe(1);
    expect(editDistance('nido', 'casa', 2)).toBe(3);
  });
  it.each([
    ['je voudrais savoir pour la crèche de mon fils', 'fr'],
    ['quiero saber cuanto cuesta la guarderia', 'es'],
    ['vorrei sapere come si fa la domanda per il nido', 'it'],
    ['isee', undefined],
  ])('tells which Latin-script language a message is in: "%s"', (text, lng) => {
    expect(latinLanguageOf(text)).toBe(lng);
  });
});

// phrasings a mother might write, none identical to a stored question or phrasing
const CASES: [string, string, string | undefined][] = [
  ['en', 'do my kids have to get vaccinated by law?', 'vaccines-mandatory'],
  ['en', 'how do I find a children doctor for my newborn', 'pediatrician-choose'],
  ['en', 'what papers do I bring to the CAF for the ISEE', 'isee-what'],
  ['en', 'where can I buy a cheap bicycle for myself?', undefined],
  ['it', 'devo per forza vaccinare la bambina?', 'vaccines-mandatory'],
  ['it', 'quando aprono le iscrizioni al nido a Milano', 'nido-enrol-when'],
  ['it', 'come si fa la domanda per la casa popolare', 'sap-apply'],
  ['it', 'dove posso comprare una bicicletta usata?', undefined],
  ['ar', 'هل التطعيم إجباري لابنتي؟', 'vaccines-mandatory'],
  ['ar', 'أحتاج طبيب أطفال للمولود الجديد', 'pediatrician-choose'],
  ['ar', 'أين أشتري دراجة رخيصة؟', undefined],
  ['zh', '孩子必须打预防针吗', 'vaccines-mandatory'],
  ['zh', '怎么申请公共住房', 'sap-apply'],
  ['zh', '没有证件可以去医院看病吗', 'stp-code'],
  ['zh', '哪里可以买便宜的自行车', undefined],
  ['uk', 'чи треба обов\'язково робити дитині щеплення', 'vaccines-mandatory'],
  ['uk', 'як отримати ISEE для дитячого садка', 'isee-what'],
  ['uk', 'де купити дешевий велосипед?', undefined],
];

describe('matching her question in her language', () => {
  it.each(CASES)('%s: "%s" → %s', (lng, text, slug) => {
    const match = bestMatch(indexFor(lng), text);
    expect(match?.entry.slug).toBe(slug);
  });

  it.each([
    ['en', 'do we pay for the nido if we have isee low', 'nido-cost'],
    ['en', 'which bus goes to the vaccination centre?', 'vaccines-where'],
    ['zh', '托儿所八月份放不放假', 'nido-enrol-when'],
  ])('%s: unsure about "%s", offers the entries it may be about, %s first, without answering', (lng, text, first) => {
    const found = search(indexFor(lng), text);
    expect(found.match).toBeUndefined();
    expect(found.suggestions[0]?.slug).toBe(first);
    expect(found.suggestions.length).toBeLessThanOrEqual(3);
  });

  it.each([
    ['en', 'where can I buy a cheap bicycle for myself?'],
    ['ar', 'أين أشتري دراجة رخيصة؟'],
    ['uk', 'де купити дешевий велосипед?'],
  ])('%s: offers nothing for "%s", which no entry is about', (lng, text) => {
    const found = search(indexFor(lng), text);
    expect(found.match).toBeUndefined();
    expect(found.suggestions).toEqual([]);
  });

  it('finds every stored question from its own words, in every language', () => {
    const misses: string[] = [];
    for (const lng of LANGUAGES) {
      const index = indexFor(lng);
      for (const e of src.entries) {
        const q = src.texts[lng]![e.slug]!.question;
        if (bestMatch(index, q)?.entry.slug !== e.slug) misses.push(`${lng}:${e.slug}`);
      }
    }
    // a stored question may honestly sit between two entries; nearly all must find their own
    expect(misses.length, misses.join(', ')).toBeLessThanOrEqual(Math.ceil(src.entries.length * LANGUAGES.length * 0.05));
  });
});
