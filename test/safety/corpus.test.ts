import { describe, expect, it } from 'vitest';
import { LANGUAGES } from '../../bot/i18n';
import { CONCEPTS, readLexicons } from '../../bot/safety/lexicon';
import { buildIndex, bestMatch, type KbEntry } from '../../bot/knowledge/knowledge';
import { dangerMatcher } from '../../bot/safety/matcher';
import { readKnowledgeSource } from '../../functions/cli/knowledge-seed';
import { readCorpus, score } from './corpus';

const RECALL = 0.95;
const FALSE_ALARMS = 0.03;

describe('the danger lexicons against corpora written as mothers write', () => {
  const lexicons = readLexicons();
  const matcher = dangerMatcher();

  it.each(LANGUAGES.map((l) => [l]))('%s: the lexicon covers every concept, certain and possible', (lng) => {
    const signals = lexicons[lng].signals;
    for (const c of CONCEPTS) expect(signals.some((s) => s.concept === c), `${lng} has no signal for ${c}`).toBe(true);
    expect(signals.some((s) => s.level === 'possible')).toBe(true);
  });

  it.each(LANGUAGES.map((l) => [l]))(`%s: at least ${RECALL} of the danger messages heard, at most ${FALSE_ALARMS} of the ordinary ones raise an alarm`, (lng) => {
    const corpus = readCorpus(lng);
    expect(corpus.danger.length).toBeGreaterThanOrEqual(40);
    expect(corpus.ordinary.length).toBeGreaterThanOrEqual(40);
    for (const c of CONCEPTS) expect(corpus.danger.some((m) => m.concept === c), `${lng} corpus lacks ${c}`).toBe(true);
    const s = score(matcher, lng, corpus.danger, corpus.ordinary);
    expect(s.recall, `missed:\n${s.missed.map((m) => `  [${m.concept}] ${m.text}`).join('\n')}`).toBeGreaterThanOrEqual(RECALL);
    expect(s.falseAlarms, `alarms:\n${s.raised.map((m) => `  ${m.text}`).join('\n')}`).toBeLessThanOrEqual(FALSE_ALARMS);
  });

  it.each([
    ['en', 'you hit the nail on the head with that advice'],
    ['it', 'oggi il sole picchia forte, esco col bambino?'],
    ['en', 'he phoned me yesterday about the nido'],
    ['zh', '他打我电话说明天去医院'],
    ['en', 'the baby hit his head lightly, is it normal?'],
  ] as const)('%s near miss "%s" raises no alarm', (lng, text) => {
    expect(matcher.assess(text, [lng]).level).toBe('none');
  });

  it.each([
    ['en', 'I want to die', 'self_harm'],
    ['it', 'non voglio più vivere', 'self_harm'],
    ['en', 'he touched my daughter', 'child_touched'],
    ['en', 'he threw us out tonight with the baby', 'thrown_out'],
    ['en', 'he locks me in and takes my phone', 'control'],
  ] as const)('%s "%s" is heard as %s', (lng, text, concept) => {
    const a = matcher.assess(text, [lng]);
    expect(a.level).toBe('certain');
    expect(a.concepts).toContain(concept);
  });
});

describe('no regression: ordinary questions still reach the knowledge base', () => {
  const matcher = dangerMatcher();

  it.each(LANGUAGES.map((l) => [l]))('%s: no knowledge-base question is taken for danger, unless the knowledge base answers it with the numbers in sight', async (lng) => {
    const kb = await readKnowledgeSource();
    const entries: KbEntry[] = kb.entries.map((e) => ({ id: e.slug, slug: e.slug, category: e.category, unverified: e.unverified, ...kb.texts[lng]![e.slug]! }));
    const index = buildIndex(lng, entries);
    // the protection area and "nowhere to sleep tonight" are emergencies: danger first is right for them
    const wrong = entries.filter((e) => e.category !== 'protection' && e.slug !== 'no-home-tonight')
      .flatMap((e) => [e.question, ...e.phrasings])
      .filter((q) => {
        const a = matcher.assess(q, [lng]);
        return a.level === 'certain' || (a.level === 'possible' && !bestMatch(index, q));
      });
    expect(wrong).toEqual([]);
  });
});
