import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LANGUAGES } from '../../bot/i18n';
import { buildIndex, MIXED_IN, search, type KbEntry } from '../../bot/knowledge/knowledge';
import { readKnowledgeSource } from '../../functions/cli/knowledge-seed';

/**
 * Questions written the way mothers write (test/knowledge/corpus/<lang>.json, and a held-out part the search was never
 * tuned on), each with the entry that answers it or null when no entry does. Drafted by people who had not seen
 * the stored phrasings of their language.
 */
export interface CorpusQuestion {
  text: string;
  slug: string | null;
  why?: string;
}

export type CorpusPart = 'tuning' | 'heldout';

const CORPUS_DIR = fileURLToPath(new URL('../knowledge/corpus/', import.meta.url));

export function readCorpus(lang: string, part: CorpusPart): CorpusQuestion[] {
  const file = `${CORPUS_DIR}${lang}${part === 'heldout' ? '.heldout' : ''}.json`;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { questions: CorpusQuestion[] }).questions : [];
}

export interface CorpusRates {
  lang: string;
  answerable: number;
  /** answered at once with the right entry */
  right: number;
  /** her question found: answered at once, or the right entry among those offered for her to choose (one tap) */
  found: number;
  unanswerable: number;
  /** given no answer she did not ask for: sent to her tutor, at once or after "none of these" */
  forwarded: number;
  /** of those, how many were first offered entries to choose from (one tap more before her tutor) */
  offered: number;
  /** what went wrong, one line each: expected → got */
  misses: string[];
}

/**
 * Right-entry and rightly-forwarded counts per language, as the bot's search decides on each question. When the
 * search offers entries to choose from, she is taken to pick her question's entry if it is offered (she reads the
 * entries' own questions) and "none of these" otherwise.
 */
export async function measureCorpus(part: CorpusPart, languages: readonly string[] = LANGUAGES): Promise<CorpusRates[]> {
  const src = await readKnowledgeSource();
  return languages.map((lang) => {
    const entries = (l: string): KbEntry[] => src.entries.map((e) => ({ id: e.slug, slug: e.slug, category: e.category, unverified: e.unverified, ...src.texts[l]![e.slug]! }));
    const index = buildIndex(lang, entries(lang), MIXED_IN.map((l) => ({ language: l, entries: entries(l) })));
    const rates: CorpusRates = { lang, answerable: 0, right: 0, found: 0, unanswerable: 0, forwarded: 0, offered: 0, misses: [] };
    for (const q of readCorpus(lang, part)) {
      const { match, suggestions } = search(index, q.text);
      const got = match?.entry.slug ?? null;
      const offered = suggestions.map((e) => e.slug);
      if (q.slug) {
        rates.answerable++;
        if (got === q.slug) rates.right++;
        if (got === q.slug || offered.includes(q.slug)) rates.found++;
        else rates.misses.push(`${q.slug} → ${got ?? (offered.length ? `offered ${offered.join(', ')}` : 'forward')}: ${q.text}`);
      } else {
        rates.unanswerable++;
        if (got === null) rates.forwarded++;
        if (got === null && offered.length) rates.offered++;
        if (got !== null) rates.misses.push(`forward → ${got}: ${q.text}`);
      }
    }
    return rates;
  });
}

export const share = (n: number, of: number): number => (of === 0 ? 1 : n / of);
