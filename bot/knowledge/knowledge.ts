import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { call } from '../db/rpc';
import { languageOfScript } from '../core/languages';
import { analyze, editDistance, latinLanguageOf } from './terms';

export interface KbEntry {
  id: string;
  slug: string;
  category: string;
  unverified: boolean;
  question: string;
  phrasings: string[];
  keywords: string;
  answer: string;
}

export interface KbMatch {
  entry: KbEntry;
  /** the language of the index that answered: hers, or the one her message is written in */
  language: string;
  /** the entry's score (BM25) and how far it leads the next entry (0–1) */
  score: number;
  margin: number;
}

export { words } from './terms';

/**
 * The search's weights: how much each field of an entry counts (the question and the keywords are what the entry is
 * about; the answer's words count a little), the Italian and English mixed in, and BM25's term saturation (k1) and
 * length normalisation (b). Chosen on the question corpus' tuning part.
 */
export const WEIGHTS = { question: 4, keywords: 2, phrasings: 1.5, answer: 0, mixed: 1, k1: 1.2, b: 0.4 };
/** A word she typed that the index lacks counts through a word that starts like it (0.85) or is one typo away (0.75). */
const PREFIX_WEIGHT = 0.85;
const TYPO_WEIGHT = 0.75;

interface Posting {
  entry: number;
  tf: number;
}

export interface LanguageIndex {
  language: string;
  entries: KbEntry[];
  postings: Map<string, Posting[]>;
  lengths: number[];
  averageLength: number;
  /** each entry's stored questions (its question and phrasings) as idf-weighted vectors, for the nearest-question similarity */
  questions: TermVector[][];
  /** each entry's question words, in its own language and in those mixed in: what the entry is about */
  titles: Set<string>[];
}

/** Languages whose words she mixes into any language: the Italian she picks up here, the English of phones and forms. */
export const MIXED_IN = ['it', 'en'] as const;

/**
 * One language's index. `mixedIn` holds the same entries in the languages she mixes in (by id): their question
 * and keywords count too, so "pediatra" or "pampers" typed in a Bengali sentence still finds the entry.
 */
export function buildIndex(language: string, entries: KbEntry[], mixedIn: { language: string; entries: KbEntry[] }[] = []): LanguageIndex {
  const others = mixedIn.filter((m) => m.language !== language).map((m) => ({ language: m.language, bySlug: new Map(m.entries.map((e) => [e.slug, e])) }));
  const postings = new Map<string, Posting[]>();
  const lengths: number[] = [];
  // each stored question analysed once: for the term counts, the titles and the nearest-question vectors
  const questionTerms = entries.map((e) => [e.question, ...e.phrasings].map((q) => analyze(q, language)));
  const titles = entries.map((e, i) => new Set([...questionTerms[i]![0]!, ...others.flatMap((o) => (o.bySlug.has(e.slug) ? analyze(o.bySlug.get(e.slug)!.question, o.language) : []))]));
  entries.forEach((e, i) => {
    const tf = new Map<string, number>();
    const add = (terms: string[], weight: number) => {
      for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + weight);
    };
    const [question, ...phrasings] = questionTerms[i]!;
    add(question!, WEIGHTS.question);
    add(analyze(e.keywords, language), WEIGHTS.keywords);
    for (const p of phrasings) add(p, WEIGHTS.phrasings);
    if (WEIGHTS.answer) add(analyze(e.answer, language), WEIGHTS.answer);
    for (const other of others) {
      const o = other.bySlug.get(e.slug);
      // analysed with its own language's stop words and stems
      if (o) for (const t of new Set(analyze(`${o.question}\n${o.keywords}`, other.language))) tf.set(t, (tf.get(t) ?? 0) + WEIGHTS.mixed);
    }
    for (const [t, n] of tf) (postings.get(t) ?? postings.set(t, []).get(t)!).push({ entry: i, tf: n });
    lengths.push([...tf.values()].reduce((a, b) => a + b, 0));
  });
  const averageLength = lengths.reduce((a, b) => a + b, 0) / Math.max(1, lengths.length);
  const index: LanguageIndex = { language, entries, postings, lengths, averageLength, questions: [], titles };
  // idf needs every entry's postings: the stored questions' vectors come last, once
  index.questions = questionTerms.map((qs) => qs.map((q) => termVector(index, q)));
  return index;
}

/** The index's terms a word of hers stands for: itself, else words that start like it, else one typo away. */
function variants(index: LanguageIndex, term: string): [string, number][] {
  if (index.postings.has(term)) return [[term, 1]];
  if (/\p{Script=Han}/u.test(term)) return [];
  const out: [string, number][] = [];
  const typos = term.length >= 8 ? 2 : term.length >= 5 ? 1 : 0;
  for (const known of index.postings.keys()) {
    const shorter = Math.min(known.length, term.length);
    if (shorter >= 4 && (known.startsWith(term) || term.startsWith(known))) out.push([known, PREFIX_WEIGHT]);
    else if (typos && editDistance(term, known, typos) <= typos) out.push([known, TYPO_WEIGHT]);
  }
  return out;
}

const idf = (index: LanguageIndex, df: number): number => Math.log(1 + (index.entries.length - df + 0.5) / (df + 0.5));

export interface Scored {
  entry: KbEntry;
  score: number;
  /** how many of her words the entry holds */
  matched: number;
  /** the share of her words' weight (idf; a word the index lacks weighs as a rare one) that the entry's question holds */
  coverage: number;
  /** cosine similarity (idf-weighted) between her words and the nearest of the entry's stored questions */
  nearest: number;
}

interface TermVector {
  weights: Map<string, number>;
  norm: number;
}

/** A term list as an idf-weighted vector; a term the index lacks weighs as the rarest. */
function termVector(index: LanguageIndex, terms: string[]): TermVector {
  const weights = new Map<string, number>();
  for (const t of terms) weights.set(t, (weights.get(t) ?? 0) + idf(index, index.postings.get(t)?.length ?? 1));
  return { weights, norm: Math.sqrt([...weights.values()].reduce((sum, x) => sum + x * x, 0)) };
}

function cosine(a: TermVector, b: TermVector): number {
  let dot = 0;
  for (const [t, x] of a.weights) dot += x * (b.weights.get(t) ?? 0);
  return dot === 0 ? 0 : dot / (a.norm * b.norm);
}

/** Every entry her words touch, best first, by BM25 over her distinct terms. */
export function score(index: LanguageIndex, text: string): Scored[] {
  const terms = [...new Set(analyze(text, index.language))];
  const totals = new Map<number, { score: number; matched: number; weight: number }>();
  let weightAll = 0;
  // her words, each replaced by the index term it stands for, to compare with the stored questions
  const mapped: string[] = [];
  for (const term of terms) {
    const best = new Map<number, number>();
    const found = variants(index, term);
    mapped.push(found[0]?.[0] ?? term);
    const termWeight = found.length ? Math.max(...found.map(([k, w]) => idf(index, index.postings.get(k)!.length) * w)) : idf(index, 1);
    weightAll += termWeight;
    const inTitle = new Set<number>();
    for (const [known, weight] of found) {
      const list = index.postings.get(known)!;
      for (const { entry } of list) if (index.titles[entry]!.has(known)) inTitle.add(entry);
      const w = idf(index, list.length) * weight;
      for (const { entry, tf } of list) {
        const { k1, b } = WEIGHTS;
        const s = (w * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * index.lengths[entry]!) / index.averageLength));
        if (s > (best.get(entry) ?? 0)) best.set(entry, s);
      }
    }
    for (const [entry, s] of best) {
      const t = totals.get(entry) ?? { score: 0, matched: 0, weight: 0 };
      t.score += s;
      t.matched += 1;
      if (inTitle.has(entry)) t.weight += termWeight;
      totals.set(entry, t);
    }
  }
  const her = termVector(index, mapped);
  return [...totals]
    .map(([i, t]) => ({
      entry: index.entries[i]!,
      score: t.score,
      matched: t.matched,
      coverage: t.weight / weightAll,
      nearest: Math.max(...index.questions[i]!.map((q) => cosine(her, q))),
    }))
    .sort((a, b) => b.score - a.score);
}

/**
 * The decision's constants, chosen on the question corpus' tuning part (test/knowledge/corpus; `npm run bench --
 * questions` prints the table). Entries are ranked by BM25 plus `nearest` × the similarity to their nearest
 * stored question. The first is answered at once when it leads the second by `minMargin` (a share of its rank)
 * and ranks `minRank`, or is `minNearest` similar to one stored question, or holds `minCoverage` of her words;
 * or when it leads by `clearMargin` and ranks `clearRank`; or is `closeNearest` similar to one stored question
 * and leads by `closeMargin`. Similarity counts only on two of her words at least: one word alone is no question.
 * A wrong answer costs her more than one tap, so the bar is high.
 */
export const THRESHOLDS = {
  nearest: 5,
  minMargin: 0.15,
  minRank: 20,
  minNearest: 0.6,
  minCoverage: 0.6,
  clearMargin: 0.28,
  clearRank: 14,
  closeNearest: 0.8,
  closeMargin: 0.05,
};

/**
 * Below that bar, the entries her words point to are offered as choices ("is your question one of these?"), with
 * "none: ask my tutor" beside them: up to `max` entries that rank `minRank` and at least `share` of the first.
 */
export const SUGGEST = { max: 3, minRank: 8, share: 0.7 };

const rank = (s: Scored): number => s.score + THRESHOLDS.nearest * s.nearest;

/** Entries her words touch, in the order the decision reads them. */
export function ranked(index: LanguageIndex, text: string): Scored[] {
  return score(index, text).sort((a, b) => rank(b) - rank(a));
}

export interface KbSearch {
  /** the entry her question is about, when confident */
  match?: KbMatch;
  /** otherwise the entries it may be about, best first (possibly none) */
  suggestions: KbEntry[];
  language: string;
}

/**
 * Her question against one language's index. A long question adds words that score nothing, so it cannot pull
 * the right entry under the bar; a short one ("isee??") is answered when the entry holds most of it. Not
 * confident: the entries it may be about, for her to choose, or none, and the question goes to her tutor.
 */
export function search(index: LanguageIndex, text: string): KbSearch {
  const all = ranked(index, text);
  const language = index.language;
  // her words are one of the stored ways to ask, and only one entry's: that entry
  const exact = all.filter((s) => s.nearest >= 0.99);
  if (exact.length === 1) return { match: { entry: exact[0]!.entry, language, score: exact[0]!.score, margin: 1 }, suggestions: [], language };
  const [first, second] = all;
  if (!first) return { suggestions: [], language };
  const margin = second ? (rank(first) - rank(second)) / rank(first) : 1;
  const th = THRESHOLDS;
  const similar = (at: number) => first.nearest >= at && first.matched >= 2;
  const confident =
    (margin >= th.minMargin && (rank(first) >= th.minRank || similar(th.minNearest) || first.coverage >= th.minCoverage)) ||
    (margin >= th.clearMargin && rank(first) >= th.clearRank) ||
    (margin >= th.closeMargin && similar(th.closeNearest));
  if (confident) return { match: { entry: first.entry, language, score: first.score, margin }, suggestions: [], language };
  const floor = Math.max(SUGGEST.minRank, SUGGEST.share * rank(first));
  return { suggestions: all.slice(0, SUGGEST.max).filter((s) => rank(s) >= floor).map((s) => s.entry), language };
}

/** The entry her question is about, when confident; otherwise undefined. */
export function bestMatch(index: LanguageIndex, text: string): KbMatch | undefined {
  return search(index, text).match;
}

/**
 * The knowledge base in the database, searched in memory: one index per language, rebuilt when
 * coordinators change an entry (checked at most every `refreshMs`).
 */
export class KnowledgeBase {
  private readonly indexes = new Map<string, { version: string; index: LanguageIndex }>();
  private readonly lists = new Map<string, { version: string; entries: KbEntry[] }>();
  private version?: { value: string; checkedAt: number };

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly refreshMs = 30_000,
  ) {}

  private async currentVersion(): Promise<string> {
    const now = this.clock.now().getTime();
    if (this.version && now - this.version.checkedAt < this.refreshMs) return this.version.value;
    const data = await call<unknown>(this.db, 'kb_version');
    this.version = { value: String(data), checkedAt: now };
    return this.version.value;
  }

  /** One language's entries, read once per version: Italian and English are mixed into every other index. */
  private async list(language: string, version: string): Promise<KbEntry[]> {
    const cached = this.lists.get(language);
    if (cached?.version === version) return cached.entries;
    const entries = await call<KbEntry[]>(this.db, 'kb_list', { p_language: language });
    this.lists.set(language, { version, entries });
    return entries;
  }

  async index(language: string): Promise<LanguageIndex> {
    const version = await this.currentVersion();
    const cached = this.indexes.get(language);
    if (cached?.version === version) return cached.index;
    const mixedIn = await Promise.all(MIXED_IN.filter((l) => l !== language).map(async (l) => ({ language: l, entries: await this.list(l, version) })));
    const index = buildIndex(language, await this.list(language, version), mixedIn);
    this.indexes.set(language, { version, index });
    return index;
  }

  async match(language: string, text: string): Promise<KbMatch | undefined> {
    return (await this.search(language, text)).match;
  }

  /**
   * Her question in her profile's language, then in the language her message is written in when that is another
   * of ours ("she wrote French, her profile says Arabic"): the first confident answer, else the suggestions found.
   */
  async search(language: string, text: string): Promise<KbSearch> {
    const own = search(await this.index(language), text);
    if (own.match) return own;
    const written = languageOfScript(text) ?? latinLanguageOf(text);
    if (!written || written === language) return own;
    const other = search(await this.index(written), text);
    // both languages point to one entry: answered in hers
    const agreed = other.match && own.suggestions[0]?.slug === other.match.entry.slug ? own.suggestions[0] : undefined;
    if (agreed) return { match: { ...other.match!, entry: agreed, language }, suggestions: [], language };
    return other.match || !own.suggestions.length ? other : own;
  }

  /** One entry by its slug, as offered to her among the suggestions. */
  async entry(language: string, slug: string): Promise<KbEntry | undefined> {
    return (await this.index(language)).entries.find((e) => e.slug === slug);
  }

  /** After an edit from this process: the next question sees it at once. */
  invalidate(): void {
    this.version = undefined;
  }
}
