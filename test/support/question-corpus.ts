import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LANGUAGES } from '../../bot/i18n';
import { bestMatch, buildIndex, MIXED_IN, type KbEntry } from '../../bot/needs/knowledge';
import { readKnowledgeSource } from '../../functions/cli/knowledge-seed';

/**
 * Questions written the way mothers write (test/needs/corpus/<lang>.json, and a held-out part the search was never
 * tuned on), each with the entry that answers it or null when no entry does. Drafted by people who had not seen
 * the stored phrasings of their language.
 */
export interface CorpusQuestion {
  text: string;
  slug: string | null;
  why?: string;
}

export type CorpusPart = 'tuning' | 'heldout';

const CORPUS_DIR = fileURLToPath(new URL('../needs/corpus/', import.meta.url));

export function readCorpus(lang: string, part: CorpusPart): CorpusQuestion[] {
  const file = `${CORPUS_DIR}${lang}${part === 'heldout' ? '.heldout' : ''}.json`;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { questions: CorpusQuestion[] }).questions : [];
}

export interface CorpusRates {
  lang: string;
  answerable: number;
  right: number;
  unanswerable: number;
  forwarded: number;
  /** what went wrong, one line each: expected → got */
  misses: string[];
}

/** Right-entry and rightly-forwarded counts per language, as the bot's search decides on each question. */
export async function measureCorpus(part: CorpusPart, languages: readonly string[] = LANGUAGES): Promise<CorpusRates[]> {
  const src = await readKnowledgeSource();
  return languages.map((lang) => {
    const entries = (l: string): KbEntry[] => src.entries.map((e) => ({ id: e.slug, slug: e.slug, category: e.category, unverified: e.unverified, ...src.texts[l]![e.slug]! }));
    const index = buildIndex(lang, entries(lang), MIXED_IN.map((l) => ({ language: l, entries: entries(l) })));
    const rates: CorpusRates = { lang, answerable: 0, right: 0, unanswerable: 0, forwarded: 0, misses: [] };
    for (const q of readCorpus(lang, part)) {
      const got = bestMatch(index, q.text)?.entry.slug ?? null;
      if (q.slug) {
        rates.answerable++;
        if (got === q.slug) rates.right++;
      } else {
        rates.unanswerable++;
        if (got === null) rates.forwarded++;
      }
      if (got !== q.slug) rates.misses.push(`${q.slug ?? 'forward'} → ${got ?? 'forward'}: ${q.text}`);
    }
    return rates;
  });
}

export const share = (n: number, of: number): number => (of === 0 ? 1 : n / of);
