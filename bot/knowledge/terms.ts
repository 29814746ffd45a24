import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import snowball from 'snowball-stemmers';
import { LOCALES_DIR } from '../i18n';

// stopwords-iso ships one JSON file and no types: { <iso code>: string[] }
const stopwordsIso = createRequire(import.meta.url)('stopwords-iso') as Record<string, string[]>;

/**
 * Her words as the knowledge-base search compares them: word boundaries from Intl.Segmenter (Chinese has no
 * spaces), one written form per word, stop words out (stopwords-iso, extended for chat in
 * locales/stopwords/<lang>.json), and a Snowball stem where a well-kept stemmer exists for the language.
 */

const segmenters = new Map<string, Intl.Segmenter>();

export function words(text: string, language: string): string[] {
  let seg = segmenters.get(language);
  if (!seg) segmenters.set(language, (seg = new Intl.Segmenter(language, { granularity: 'word' })));
  return [...seg.segment(text)].filter((s) => s.isWordLike).map((s) => s.segment);
}

/** Case, Latin accents, Arabic-script letter variants and harakat, the Arabic article and the prepositions written onto it. */
export function fold(term: string): string {
  let t = term.normalize('NFKC').toLocaleLowerCase();
  t = t.normalize('NFD').replace(/[\u0300-\u036f]/g, '').normalize('NFC');
  t = t
    .replace(/[\u064B-\u065F\u0670\u0640]/g, '')
    .replace(/[أإآٱ]/g, 'ا')
    .replace(/[ىیي]/g, 'ي')
    .replace(/[كک]/g, 'ك')
    .replace(/[ةہھ]/g, 'ه')
    .replace(/['’]/g, '');
  return t.replace(/^(?:وال|بال|فال|كال|لل|ال)(?=[\u0600-\u06FF]{3,}$)/, '');
}

/** Snowball algorithms for our languages; Ukrainian borrows the Russian one, which shares most endings. */
const STEMMERS: Record<string, string> = { en: 'english', it: 'italian', fr: 'french', es: 'spanish', ro: 'romanian', ar: 'arabic', uk: 'russian' };
const stemmers = new Map<string, { stem(w: string): string } | null>();

function stemmerFor(language: string) {
  if (!stemmers.has(language)) stemmers.set(language, STEMMERS[language] ? snowball.newStemmer(STEMMERS[language]) : null);
  return stemmers.get(language) ?? null;
}

interface StopwordFile {
  add?: string[];
  keep?: string[];
}

const stopLists = new Map<string, Set<string>>();

export function stopwords(language: string, dir = join(LOCALES_DIR, 'stopwords')): Set<string> {
  const cached = stopLists.get(language);
  if (cached) return cached;
  let extra: StopwordFile = {};
  try {
    extra = JSON.parse(readFileSync(join(dir, `${language}.json`), 'utf8')) as StopwordFile;
  } catch {
    // a language without an extension file uses the upstream list alone
  }
  const iso = stopwordsIso[language] ?? [];
  const keep = new Set((extra.keep ?? []).map(fold));
  const set = new Set([...iso, ...(extra.add ?? [])].map(fold).filter((w) => !keep.has(w)));
  stopLists.set(language, set);
  return set;
}

const HAN = /\p{Script=Han}/u;

/** Overlapping character pairs of a Chinese word: "打预防针" and "预防针" then share 预防, 防针. */
function hanGrams(word: string): string[] {
  if (word.length < 3) return [word];
  const out: string[] = [];
  for (let i = 0; i + 1 < word.length; i++) out.push(word.slice(i, i + 2));
  return out;
}

/**
 * Ukrainian borrows the Russian stemmer, which knows no і, ї, є, ґ: "дитині" then ends like "дитини" and stems to
 * "дитин". A Latin i typed inside a Cyrillic word (a common keyboard habit) counts as і; Latin words are left alone.
 */
const asRussianLetters = (t: string): string => (/\p{Script=Cyrillic}/u.test(t) ? t.replace(/[іїi]/g, 'и').replace(/є/g, 'е').replace(/ґ/g, 'г') : t);

/** The terms of a text: folded, stop words out, stemmed; numbers and one-letter words out (Chinese characters stay). */
export function analyze(text: string, language: string): string[] {
  const stop = stopwords(language);
  const stemmer = stemmerFor(language);
  const out: string[] = [];
  for (const w of words(text, language)) {
    const t = fold(w);
    // a number counts only when it can be a phone number or a year (112, 1522, 2026): ages and counts say little
    if (stop.has(t) || /^\d{1,2}$/.test(t)) continue;
    if (HAN.test(t)) out.push(...hanGrams(t));
    else if (t.length > 1) out.push(stemmer ? stemmer.stem(language === 'uk' ? asRussianLetters(t) : t) : t);
  }
  return out;
}

/** Optimal string alignment distance, cut off above `max` (typos: one letter wrong, missing, extra or swapped). */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    let rowMin = Infinity;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
  }
  return d[a.length]![b.length]!;
}

/** Latin-script languages told apart by their stop words, when her message is not in her profile's language. */
const LATIN_LANGUAGES = ['it', 'en', 'fr', 'es', 'ro', 'sq', 'tl'];

/**
 * The language a Latin-script message is written in, when its stop words say so clearly: the language with the
 * most stop words among her words, at least two, and more than any other. Undefined when unsure.
 */
export function latinLanguageOf(text: string): string | undefined {
  const ws = words(text, 'en').map(fold);
  if (ws.length < 3) return undefined;
  const counts = LATIN_LANGUAGES.map((l) => [l, ws.filter((w) => stopwords(l).has(w)).length] as const).sort((a, b) => b[1] - a[1]);
  const [first, second] = counts;
  return first![1] >= 2 && first![1] > second![1] ? first![0] : undefined;
}
