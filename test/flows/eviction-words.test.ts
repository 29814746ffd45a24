import { beforeAll, describe, expect, it } from 'vitest';
import { LANGUAGES, type Language } from '../../bot/i18n';
import type { KnowledgeSource } from '../../bot/import/knowledge';
import type { FlowContext } from '../../bot/flows/context';
import { hasPhrase } from '../../bot/flows/keywords';
import { readKnowledgeSource } from '../../functions/cli/knowledge-seed';
import { i18n } from '../support/chat';

const ctxIn = (language: Language) => ({ contact: { language }, deps: { i18n } }) as unknown as FlowContext;
let kb: KnowledgeSource;
beforeAll(async () => {
  kb = await readKnowledgeSource();
});

describe('eviction words', () => {
  it.each(LANGUAGES.map((l) => [l]))('%s: every phrase of its list is recognised inside a sentence', (lng) => {
    const phrases = i18n.t(lng)('keywords.eviction').split('|').map((p) => p.trim()).filter(Boolean);
    expect(phrases.length).toBeGreaterThanOrEqual(8);
    for (const p of phrases) expect(hasPhrase(ctxIn(lng), `... ${p.toLocaleUpperCase()} ...`, 'eviction'), p).toBe(true);
  });

  it.each(LANGUAGES.map((l) => [l]))('%s: no ordinary question of the knowledge base is taken for an eviction', (lng) => {
    const alarms = kb.entries
      .filter((e) => e.category !== 'housing')
      .flatMap((e) => [kb.texts[lng]![e.slug]!.question, ...kb.texts[lng]![e.slug]!.phrasings])
      .filter((q) => hasPhrase(ctxIn(lng), q, 'eviction'));
    expect(alarms).toEqual([]);
  });
});
