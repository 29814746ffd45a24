import { describe, expect, it } from 'vitest';
import { LANGUAGES } from '../../bot/i18n';
import { catalogMap, readCatalog } from '../../bot/locales/catalog';
import { glossaryMisses, loadGlossary, OWN_SCRIPT_LANGUAGES, strayLatinWords, termsIn } from '../../bot/locales/glossary';

const glossary = loadGlossary(LANGUAGES);
const italian = catalogMap(readCatalog('it'));
const others = LANGUAGES.filter((l) => l !== 'it');

describe('the glossary', () => {
  it('gives every term a definition and a way to find it in Italian', () => {
    for (const [key, term] of Object.entries(glossary.source)) {
      expect(term.definition.length, key).toBeGreaterThan(30);
      expect(term.match.length, key).toBeGreaterThan(0);
    }
  });

  it.each(others)('%s: has every term, with its word among the forms that count', (lang) => {
    const terms = glossary.byLanguage[lang]!;
    expect(Object.keys(terms).sort()).toEqual(Object.keys(glossary.source).sort());
    for (const [key, t] of Object.entries(terms)) {
      expect(t.forms.length, `${lang} ${key}`).toBeGreaterThan(0);
      expect(t.forms.some((f) => t.term.toLocaleLowerCase().includes(f.toLocaleLowerCase())), `${lang} ${key}: "${t.term}" is none of its forms`).toBe(true);
    }
  });

  it('finds its terms in Italian as they are used, not the other sense of the word', () => {
    expect(termsIn('Ci hai detto che hai fatto domanda il {{date}}.', glossary)).toContain('domanda');
    expect(termsIn('Scrivi la tua domanda con parole tue', glossary)).not.toContain('domanda');
    expect(termsIn('🏫 Asilo nido: i bandi adatti', glossary)).toEqual(expect.arrayContaining(['nido', 'bando']));
  });
});

describe('texts use the glossary word wherever the Italian uses the term', () => {
  it.each(others)('%s', (lang) => {
    const misses = glossaryMisses(lang, readCatalog(lang), italian, glossary);
    expect(misses.map((m) => `${m.id}: ${m.term} → "${m.expected}"`)).toEqual([]);
  });

  it('fails a translation that keeps only the Italian word', () => {
    const text = [{ id: 'menu.nido', text: '🏫 nido', role: 'ui' as const }];
    expect(glossaryMisses('zh', text, italian, glossary)).toEqual([{ id: 'menu.nido', term: 'nido', expected: glossary.byLanguage.zh!.nido!.term }]);
  });
});

describe('her answers in her script', () => {
  it.each([...OWN_SCRIPT_LANGUAGES])('%s: no Latin word but kept terms, names and codes', (lang) => {
    const stray = readCatalog(lang)
      .filter((t) => t.role !== 'search')
      .flatMap((t) => strayLatinWords(lang, t.text, glossary).map((w) => `${t.id}: ${w}`));
    expect(stray).toEqual([]);
  });

  it('catches an English word left in Sinhala and lets names, codes and placeholders pass', () => {
    expect(strayLatinWords('si', 'ඔබේ appointment එක {{date}} /help T-n INPS', glossary)).toEqual(['appointment']);
  });
});
