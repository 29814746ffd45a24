import snowball from 'snowball-stemmers';
import { LANGUAGES, type Language } from '../i18n';
import { CONCEPTS, readLexicons, type Concept, type LexiconData, type Level, type SignalData } from './lexicon';
import { normalizeText, tokenize } from './normalize';

/** What the matcher heard in one message. */
export interface Assessment {
  level: Level | 'none';
  /** every concept heard at that level (a message can be about violence and about wanting to die) */
  concepts: Concept[];
  /** the lexicon that heard it: the language of her words */
  language?: Language;
  /** for the bench and the logs: which signal fired (never her words) */
  signal?: string;
}

interface WordPattern {
  mode: 'exact' | 'plain' | 'prefix';
  text: string;
  stem?: string;
  fuzzy: boolean;
}
type Term = WordPattern[];
interface Span {
  start: number;
  end: number;
}

/** Words shorter than this must be typed exactly (or by stem): one letter off in "hit" is another word. */
const TYPO_MIN_LENGTH = 5;
/** A word's beginning (`word*`) tolerates a typo from this length: "abue…" is not "abuse*" but "abuelitos". */
const TYPO_MIN_PREFIX = 7;
const DEFAULT_WINDOW = 6;

const length = (s: string) => [...s].length;

/** Damerau–Levenshtein distance, stopping early: true when a and b differ by at most one edit. */
function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const x = [...a];
  const y = [...b];
  if (Math.abs(x.length - y.length) > 1) return false;
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  const rest = (p: number, q: number) => x.slice(p).join('') === y.slice(q).join('');
  if (x.length === y.length) return rest(i + 1, i + 1) || (x[i] === y[i + 1] && x[i + 1] === y[i] && rest(i + 2, i + 2));
  return x.length > y.length ? rest(i + 1, i) : rest(i, i + 1);
}

type Stemmer = (word: string) => string;

function stemmerFor(algorithm: string | undefined): Stemmer | undefined {
  if (!algorithm) return undefined;
  const s = snowball.newStemmer(algorithm);
  return (w) => (/^[\p{L}]+$/u.test(w) ? s.stem(w) : w);
}

/** The same words recur across terms and lexicons: each is normalised once. */
const normalizedWords = new Map<string, string[]>();
const wordsOf = (written: string): string[] => {
  let parts = normalizedWords.get(written);
  if (!parts) normalizedWords.set(written, (parts = tokenize(normalizeText(written))));
  return parts;
};

/** A term's words as typed by the lexicon's author: `=` before a word and `*` after it are read before normalising. */
function compileTerm(raw: string, stem: Stemmer | undefined, typoMin = TYPO_MIN_LENGTH): Term {
  return raw.trim().split(/\s+/).flatMap((written) => {
    const exact = written.startsWith('=');
    const prefix = written.endsWith('*');
    const parts = wordsOf(written.replace(/^=/, '').replace(/\*$/, ''));
    return parts.map((text, i): WordPattern => {
      const isPrefix = prefix && i === parts.length - 1;
      // `=word*`: any ending, but no typo
      const mode = isPrefix ? 'prefix' : exact ? 'exact' : 'plain';
      const fuzzy = !exact && length(text) >= (isPrefix ? Math.max(TYPO_MIN_PREFIX, typoMin) : typoMin) && !/\p{Script=Han}/u.test(text);
      return { mode, text, fuzzy, ...(mode === 'plain' && stem ? { stem: stem(text) } : {}) };
    });
  });
}

function wordMatches(p: WordPattern, token: string, tokenStem: string | undefined): boolean {
  switch (p.mode) {
    case 'exact':
      return token === p.text;
    case 'prefix':
      if (token.startsWith(p.text)) return true;
      if (!p.fuzzy) return false;
      for (const k of [p.text.length - 1, p.text.length + 1]) if (withinOneEdit([...token].slice(0, k).join(''), p.text)) return true;
      return false;
    default:
      return token === p.text || (p.stem !== undefined && tokenStem === p.stem) || (p.fuzzy && length(token) >= TYPO_MIN_LENGTH && withinOneEdit(token, p.text));
  }
}

/** Every word with one letter deleted (and itself): two words one edit apart share one of these (SymSpell). */
function deletions(word: string): string[] {
  const chars = [...word];
  return [word, ...chars.map((_, i) => [...chars.slice(0, i), ...chars.slice(i + 1)].join(''))];
}

const firstChars = (w: string, n = 2) => [...w].slice(0, n).join('');

/**
 * Terms looked up by the word they start with, so a message meets only the terms that could begin at each of
 * its words: exact words and stems by value, beginnings by their first two letters, typos by shared deletions.
 */
class TermIndex<T> {
  private readonly byWord = new Map<string, { term: Term; tag: T }[]>();
  private readonly byStem = new Map<string, { term: Term; tag: T }[]>();
  private readonly byPrefix = new Map<string, { term: Term; tag: T }[]>();
  private readonly byDeletion = new Map<string, { term: Term; tag: T }[]>();

  private static push<T>(map: Map<string, T[]>, key: string, value: T) {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  }

  add(term: Term, tag: T): void {
    const first = term[0]!;
    const entry = { term, tag };
    if (first.mode === 'prefix') {
      TermIndex.push(this.byPrefix, firstChars(first.text), entry);
      if (first.fuzzy) for (const d of new Set(deletions(first.text).map((x) => firstChars(x)))) if (d !== firstChars(first.text)) TermIndex.push(this.byPrefix, d, entry);
      return;
    }
    TermIndex.push(this.byWord, first.text, entry);
    if (first.stem !== undefined) TermIndex.push(this.byStem, first.stem, entry);
    if (first.fuzzy) for (const d of deletions(first.text)) TermIndex.push(this.byDeletion, d, entry);
  }

  /** Each term that occurs in the words, tagged, as a span, and whether it touches a masked word. */
  find(tokens: string[], stems: (string | undefined)[], masked: boolean[], found: (tag: T, span: Span, touchesMask: boolean) => void): void {
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      const candidates = new Set([
        ...(this.byWord.get(token) ?? []),
        ...(stems[i] !== undefined ? this.byStem.get(stems[i]!) ?? [] : []),
        ...[...new Set(deletions(firstChars(token, 3)).map((d) => firstChars(d)))].flatMap((d) => this.byPrefix.get(d) ?? []),
        ...(length(token) >= TYPO_MIN_LENGTH - 1 ? deletions(token).flatMap((d) => this.byDeletion.get(d) ?? []) : []),
      ]);
      for (const { term, tag } of candidates) {
        if (i + term.length > tokens.length) continue;
        let ok = true;
        let touchesMask = false;
        for (let k = 0; k < term.length && ok; k++) {
          ok = wordMatches(term[k]!, tokens[i + k]!, stems[i + k]);
          touchesMask ||= masked[i + k]!;
        }
        if (ok) found(tag, { start: i, end: i + term.length - 1 }, touchesMask);
      }
    }
  }
}

/** One language's lexicon, ready to match. */
class CompiledLexicon {
  readonly language: Language;
  private readonly stem: Stemmer | undefined;
  private readonly groups = new TermIndex<string>();
  private readonly not = new TermIndex<null>();
  private readonly markers: Set<string>;
  readonly signals: SignalData[];

  constructor(data: LexiconData) {
    this.language = data.language;
    this.stem = stemmerFor(data.stemmer);
    for (const [name, terms] of Object.entries(data.groups)) {
      for (const raw of terms) {
        const term = compileTerm(raw, this.stem, data.typo_min_length);
        if (term.length) this.groups.add(term, name);
      }
    }
    for (const raw of data.not) {
      const term = compileTerm(raw, this.stem, data.typo_min_length);
      if (term.length) this.not.add(term, null);
    }
    this.markers = new Set(data.markers.flatMap((m) => tokenize(normalizeText(m))));
    this.signals = data.signals;
  }

  /** How many of her words are frequent words of this language. */
  markerCount(tokens: string[]): number {
    return tokens.reduce((n, t) => n + (this.markers.has(t) ? 1 : 0), 0);
  }

  assess(tokens: string[]): { hits: { signal: SignalData; index: number }[]; covered: number; groups: Map<string, Span[]> } {
    const stems = tokens.map((t) => this.stem?.(t));
    const masked = tokens.map(() => false);
    this.not.find(tokens, stems, masked, (_, span) => {
      for (let i = span.start; i <= span.end; i++) masked[i] = true;
    });
    // an idiom's words never make a signal, but they may still hold it back ("il padrone di casa" is a landlord)
    const found = new Map<string, Span[]>();
    const near = new Map<string, Span[]>();
    const push = (map: Map<string, Span[]>, group: string, span: Span) => {
      const list = map.get(group);
      if (list) list.push(span);
      else map.set(group, [span]);
    };
    this.groups.find(tokens, stems, masked, (group, span, touchesMask) => {
      if (!touchesMask) push(found, group, span);
      push(near, group, span);
    });
    const spansOf = (group: string): Span[] => found.get(group) ?? [];
    const hits: { signal: SignalData; index: number }[] = [];
    const covered = new Set<number>();
    for (const [index, signal] of this.signals.entries()) {
      const lists = signal.all.map(spansOf);
      if (lists.some((l) => l.length === 0)) continue;
      const window = signal.window ?? DEFAULT_WINDOW;
      const match = closest(lists, window, signal.ordered ?? false);
      if (!match) continue;
      const around = signal.unless_window ?? window;
      const close = (s: Span) => s.end >= match.start - around && s.start <= match.end + around;
      if (signal.unless?.some((g) => (near.get(g) ?? []).some(close))) continue;
      hits.push({ signal, index });
      for (const l of lists) for (const s of l) for (let i = s.start; i <= s.end; i++) covered.add(i);
    }
    for (const [i, t] of tokens.entries()) if (this.markers.has(t)) covered.add(i);
    return { hits, covered: covered.size, groups: found };
  }
}

/** The tightest choice of one span per group whose words in between number at most `window` (in the groups' order when `ordered`). */
function closest(lists: Span[][], window: number, ordered: boolean): Span | undefined {
  let best: Span | undefined;
  const walk = (i: number, start: number, end: number, words: number) => {
    if (i === lists.length) {
      // the window counts the words between the groups, not the length of a multi-word phrase
      const between = end - start + 1 - words;
      if (between <= window && (!best || end - start < best.end - best.start)) best = { start, end };
      return;
    }
    for (const s of lists[i]!.slice(0, 20)) {
      if (ordered && i > 0 && s.start <= end) continue;
      walk(i + 1, Math.min(start, s.start), Math.max(end, s.end), words + s.end - s.start + 1);
    }
  };
  walk(0, Number.MAX_SAFE_INTEGER, -1, 0);
  return best;
}

/**
 * The lexicons that listen to a message: those of the languages it looks written in (most of its frequent
 * words; or at least two and half as many as the most), and her own. "mio marito" is not Banglish "mar"
 * (to hit); a message with no frequent word of any language is heard by all.
 */
function listenersFor(lexicons: CompiledLexicon[], tokens: string[], prefer: Language[]): CompiledLexicon[] {
  const counts = lexicons.map((l) => l.markerCount(tokens));
  const most = Math.max(...counts);
  if (most === 0) return lexicons;
  const own = prefer[0];
  return lexicons.filter((l, i) => counts[i] === most || (counts[i]! >= 2 && counts[i]! * 2 >= most) || l.language === own);
}

/**
 * Danger in her own words, in any of the 13 languages (and the romanized and related forms each lexicon holds):
 * every lexicon listens; the one that hears the strongest signal names the language she wrote in.
 */
export class DangerMatcher {
  private readonly lexicons: CompiledLexicon[];

  constructor(data: Record<Language, LexiconData>) {
    this.lexicons = LANGUAGES.map((l) => new CompiledLexicon(data[l]));
  }

  private listeners(tokens: string[], prefer: Language[]): CompiledLexicon[] {
    return listenersFor(this.lexicons, tokens, prefer);
  }

  /** `prefer`: languages that win a tie, in order (her confirmed language, then the hint); the first always listens. */
  assess(text: string, prefer: Language[] = []): Assessment {
    const tokens = tokenize(normalizeText(text));
    if (!tokens.length) return { level: 'none', concepts: [] };
    const rank = (l: Language) => {
      const i = prefer.indexOf(l);
      return i < 0 ? prefer.length + LANGUAGES.indexOf(l) : i;
    };
    let best: { level: Level; lexicon: CompiledLexicon; hits: SignalData[]; covered: number; first: number } | undefined;
    for (const lexicon of this.listeners(tokens, prefer)) {
      const { hits, covered } = lexicon.assess(tokens);
      if (!hits.length) continue;
      const level: Level = hits.some((h) => h.signal.level === 'certain') ? 'certain' : 'possible';
      const atLevel = hits.filter((h) => h.signal.level === level);
      const better = !best
        || (level === 'certain' && best.level === 'possible')
        || (level === best.level && (covered > best.covered || (covered === best.covered && rank(lexicon.language) < rank(best.lexicon.language))));
      if (better) best = { level, lexicon, hits: atLevel.map((h) => h.signal), covered, first: atLevel[0]!.index };
    }
    if (!best) return { level: 'none', concepts: [] };
    const concepts = CONCEPTS.filter((c) => best!.hits.some((h) => h.concept === c));
    return { level: best.level, concepts, language: best.lexicon.language, signal: `${best.lexicon.language}#${best.first}` };
  }

  /** For a reviewer: which groups of which listening lexicon took which of her words, and the signals that fired. */
  explain(text: string, prefer: Language[] = []): { language: Language; groups: Record<string, string[]>; signals: string[] }[] {
    const tokens = tokenize(normalizeText(text));
    return this.listeners(tokens, prefer).map((lexicon) => {
      const { hits, groups } = lexicon.assess(tokens);
      return {
        language: lexicon.language,
        groups: Object.fromEntries([...groups].map(([g, spans]) => [g, [...new Set(spans.map((sp) => tokens.slice(sp.start, sp.end + 1).join(' ')))]])),
        signals: hits.map((h) => `#${h.index} ${h.signal.level} ${h.signal.concept}: ${h.signal.all.join(' + ')}`),
      };
    }).filter((e) => e.signals.length || Object.keys(e.groups).length);
  }
}

let shared: DangerMatcher | undefined;
/** The lexicons in locales/safety, read once per process. */
export function dangerMatcher(): DangerMatcher {
  shared ??= new DangerMatcher(readLexicons());
  return shared;
}
