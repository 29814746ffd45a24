import { beforeAll, describe, expect, it } from 'vitest';
import { LANGUAGES } from '../../bot/i18n';
import { readKnowledgeSource } from '../../functions/cli/knowledge-seed';
import { measureCorpus, readCorpus, share, type CorpusRates } from '../support/question-corpus';

/**
 * Today's floor per language on the tuning part (right entry, rightly forwarded), measured with
 * `npm run bench -- questions`. The target is 0.9 for both in every language; the search does not reach it
 * yet, so this guards what it does reach: a change that answers fewer of her questions fails here.
 */
const FLOOR: Record<string, [number, number]> = {
  it: [0.95, 1.00],
  ar: [0.65, 1.00],
  tl: [0.90, 0.90],
  zh: [0.65, 0.80],
  es: [0.80, 0.90],
  si: [0.80, 0.90],
  ro: [0.80, 0.90],
  uk: [0.90, 0.90],
  sq: [1.00, 1.00],
  bn: [0.85, 0.90],
  en: [0.70, 1.00],
  fr: [0.95, 0.80],
  ur: [0.85, 0.90],
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
  it.each([...LANGUAGES])('%s: does not fall under its floor', (lang) => {
    const r = rates.find((x) => x.lang === lang)!;
    const [right, forwarded] = FLOOR[lang]!;
    expect(share(r.right, r.answerable), r.misses.join('\n')).toBeGreaterThanOrEqual(right);
    expect(share(r.forwarded, r.unanswerable), r.misses.join('\n')).toBeGreaterThanOrEqual(forwarded);
  });
});
