import MiniSearch, { type SearchResult } from 'minisearch';
import type { Clock } from '../clock';
import type { Db } from '../db/client';

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
  /** share of the meaningful words of her question found in the entry (0–1) */
  coverage: number;
}

const segmenters = new Map<string, Intl.Segmenter>();

/** Words as the language writes them: Intl.Segmenter finds word boundaries in Chinese and other scripts without spaces. */
export function words(text: string, language: string): string[] {
  let seg = segmenters.get(language);
  if (!seg) segmenters.set(language, (seg = new Intl.Segmenter(language, { granularity: 'word' })));
  return [...seg.segment(text)].filter((s) => s.isWordLike).map((s) => s.segment);
}

const ALPHABETIC = /^[\p{Script=Latin}\p{Script=Cyrillic}]+$/u;
/** Latin and Cyrillic words are cut to this many letters: a crude stem that joins "vaccine", "vaccination", "vaccinazioni". */
const STEM = 6;

/** One form per word for matching: case, Latin accents, Arabic-script letter variants and harakat, the Arabic article and its prefixes. */
export function normalizeTerm(term: string): string {
  let t = term.normalize('NFKC').toLocaleLowerCase();
  t = t.normalize('NFD').replace(/[\u0300-\u036f]/g, '').normalize('NFC');
  t = t
    .replace(/[\u064B-\u065F\u0670\u0640]/g, '')
    .replace(/[أإآٱ]/g, 'ا')
    .replace(/[ىیي]/g, 'ي')
    .replace(/[كک]/g, 'ك')
    .replace(/[ةہھ]/g, 'ه');
  // the article and the prepositions written onto it: al-, lil-, bil-, wal-, fal-, kal-
  t = t.replace(/^(?:وال|بال|فال|كال|لل|ال)(?=[\u0600-\u06FF]{3,}$)/, '');
  if (ALPHABETIC.test(t) && t.length > STEM) t = t.slice(0, STEM);
  return t;
}

/** A word counts in the coverage unless it is in more than this share of the entries ("how", "my", "can"). */
const COMMON_SHARE = 0.2;

interface LanguageIndex {
  search: MiniSearch<KbEntry>;
  entries: Map<string, KbEntry>;
  common: Set<string>;
}

function terms(text: string, language: string): string[] {
  return words(text, language).map(normalizeTerm).filter((t) => t.length > 1 || /\p{Script=Han}/u.test(t));
}

export function buildIndex(language: string, entries: KbEntry[]): LanguageIndex {
  const search = new MiniSearch<KbEntry>({
    idField: 'id',
    fields: ['question', 'phrasings', 'keywords'],
    extractField: (doc, field) => (field === 'phrasings' ? doc.phrasings.join('\n') : String(doc[field as keyof KbEntry] ?? '')),
    tokenize: (text) => words(text, language),
    processTerm: (term) => {
      const t = normalizeTerm(term);
      return t.length > 1 || /\p{Script=Han}/u.test(t) ? t : null;
    },
    searchOptions: {
      boost: { question: 2, keywords: 2, phrasings: 1.5 },
      prefix: (term) => term.length >= 4,
      fuzzy: (term) => (term.length >= 5 ? 0.2 : false),
    },
  });
  search.addAll(entries);
  const df = new Map<string, number>();
  for (const e of entries) {
    for (const t of new Set(terms([e.question, ...e.phrasings, e.keywords].join('\n'), language))) df.set(t, (df.get(t) ?? 0) + 1);
  }
  const common = new Set([...df].filter(([, n]) => n / Math.max(1, entries.length) > COMMON_SHARE).map(([t]) => t));
  return { search, entries: new Map(entries.map((e) => [e.id, e])), common };
}

/**
 * The entry her question is about, when confident: the best-scored entry that holds at least half of her
 * meaningful words (two when she used three or more), or a third of them when it also scores half again
 * above the next entry. Otherwise undefined, and the question goes to her tutor rather than a wrong answer.
 */
export function bestMatch(index: LanguageIndex, language: string, text: string): KbMatch | undefined {
  const content = [...new Set(terms(text, language))].filter((t) => !index.common.has(t));
  if (content.length === 0) return undefined;
  const results: SearchResult[] = index.search.search(text).slice(0, 5);
  for (const [i, r] of results.entries()) {
    const found = new Set(r.queryTerms.map((q: string) => normalizeTerm(q)));
    const hits = content.filter((t) => found.has(t)).length;
    const coverage = hits / content.length;
    const needed = content.length >= 3 ? 2 : 1;
    const clearlyAhead = i === 0 && (results[1] === undefined || r.score >= 1.5 * results[1].score);
    if (hits >= needed && (coverage >= 0.5 || (clearlyAhead && coverage >= 0.3))) return { entry: index.entries.get(String(r.id))!, coverage };
  }
  return undefined;
}

/**
 * The knowledge base in the database, searched in memory: one index per language, rebuilt when
 * coordinators change an entry (checked at most every `refreshMs`).
 */
export class KnowledgeBase {
  private readonly indexes = new Map<string, { version: string; index: LanguageIndex }>();
  private version?: { value: string; checkedAt: number };

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly refreshMs = 30_000,
  ) {}

  private async currentVersion(): Promise<string> {
    const now = this.clock.now().getTime();
    if (this.version && now - this.version.checkedAt < this.refreshMs) return this.version.value;
    const { data, error } = await this.db.rpc('kb_version');
    if (error) throw new Error(`kb_version failed: ${error.message}`);
    this.version = { value: String(data), checkedAt: now };
    return this.version.value;
  }

  async index(language: string): Promise<LanguageIndex> {
    const version = await this.currentVersion();
    const cached = this.indexes.get(language);
    if (cached?.version === version) return cached.index;
    const { data, error } = await this.db.rpc('kb_list', { p_language: language });
    if (error) throw new Error(`kb_list failed: ${error.message}`);
    const index = buildIndex(language, data as KbEntry[]);
    this.indexes.set(language, { version, index });
    return index;
  }

  async match(language: string, text: string): Promise<KbMatch | undefined> {
    return bestMatch(await this.index(language), language, text);
  }

  async entry(language: string, id: string): Promise<KbEntry | undefined> {
    return (await this.index(language)).entries.get(id);
  }

  /** After an edit from this process: the next question sees it at once. */
  invalidate(): void {
    this.version = undefined;
  }
}
