import { beforeAll, describe, expect, it } from 'vitest';
import { LANGUAGES } from '../../bot/i18n';
import { readKnowledgeSource } from '../../functions/cli/knowledge-seed';
import { measureCorpus, readCorpus, share, type CorpusRates } from '../support/question-corpus';

/**
 * The target, in every language on the tuning part: her question found (answered at once, or its entry
 * among those offered to choose from) and unanswerable ones never answered, at least 0.9 each.
 */
const TARGET = 0.9;

/**
 * Today's floor per language for answers given at once, measured with `npm run bench -- questions`: below it,
 * more mothers have to tap before reading their answer. Raise it when the search gets better.
 */
const AT_ONCE: Record<string, number> = {
  it: 0.9, ar: 0.55, tl: 0.85, zh: 0.65, es: 0.65, si: 0.7, ro: 0.75, uk: 0.85, sq: 0.85, bn: 0.75, en: 0.6, fr: 0.95, ur: 0.65,
};

let rates: CorpusRates[];
beforeAll(async () => {
  rates = await measureCorpus('tuning');
});

describe('the question corpus', () => {
  it.each([...LANGUAGES])('%s: at least 15 questions, at least 5 of them unanswerable, every slug an entry', async (lang) => {
    const slugs = new Set((await readKnowledgeSource()).entries.map((e) => e.slug));
    const qs = [...readCorpus(lang, 'tuning'), ...readCorpus(lang, 'heldout')];
    expect(qs.length).toBeGreaterThanOrEqual(15);
    expect(qs.filter((q) => q.slug === null).length).toBeGreaterThanOrEqual(5);
    expect(qs.filter((q) => q.slug !== null && !slugs.has(q.slug))).toEqual([]);
  });
});

describe('her questions, found in her words', () => {
  it.each([...LANGUAGES])('%s: finds at least 9 in 10 of her questions and answers none it cannot', (lang) => {
    const r = rates.find((x) => x.lang === lang)!;
    expect(share(r.found, r.answerable), r.misses.join('\n')).toBeGreaterThanOrEqual(TARGET);
    expect(share(r.forwarded, r.unanswerable), r.misses.join('\n')).toBeGreaterThanOrEqual(TARGET);
  });

  it.each([...LANGUAGES])('%s: answers at once no fewer than today', (lang) => {
    const r = rates.find((x) => x.lang === lang)!;
    expect(share(r.right, r.answerable), r.misses.join('\n')).toBeGreaterThanOrEqual(AT_ONCE[lang]!);
  });
});
