import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LANGUAGES } from '../i18n';
import { DEFAULT_DIRS, type CatalogDirs, type CatalogText } from './catalog';
import { glossaryMisses, loadGlossary, OWN_SCRIPT_LANGUAGES, strayLatinWords, type Glossary } from './glossary';

/**
 * Native review: which texts of a language a native speaker has read and approved (locales/review/<lang>.json).
 * A record holds the hash of the text it approved, so any later edit, by anyone, makes the text a draft again.
 */
export interface ReviewRecord {
  state: 'reviewed';
  by: string;
  /** the day in Rome, YYYY-MM-DD */
  at: string;
  /** sha256 of the approved text, first 12 hex */
  hash: string;
}

export type ReviewFile = Record<string, ReviewRecord>;

/** `changed`: reviewed once, edited since (a draft again, but worth telling apart: the reviewer saw an older text) */
export type ReviewState = 'reviewed' | 'draft' | 'changed';

export const glossaryDir = (dirs: CatalogDirs): string => join(dirs.locales, 'glossary');
export const reviewDir = (dirs: CatalogDirs): string => join(dirs.locales, 'review');
const reviewPath = (lang: string, dirs: CatalogDirs): string => join(reviewDir(dirs), `${lang}.json`);

export const textHash = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 12);

/** The language's review records; a language nobody reviewed yet has none. */
export function readReview(lang: string, dirs: CatalogDirs = DEFAULT_DIRS): ReviewFile {
  const path = reviewPath(lang, dirs);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as ReviewFile) : {};
}

/** Writes the records in catalog order (stable diffs); a record of an id the catalog no longer has goes. */
export function writeReview(lang: string, review: ReviewFile, texts: CatalogText[], dirs: CatalogDirs = DEFAULT_DIRS): void {
  const ordered: ReviewFile = {};
  for (const t of texts) if (review[t.id]) ordered[t.id] = review[t.id]!;
  mkdirSync(reviewDir(dirs), { recursive: true });
  writeFileSync(reviewPath(lang, dirs), `${JSON.stringify(ordered, null, 2)}\n`);
}

export function reviewState(text: CatalogText, review: ReviewFile): ReviewState {
  const record = review[text.id];
  if (!record) return 'draft';
  return record.hash === textHash(text.text) ? 'reviewed' : 'changed';
}

/**
 * Records these texts as reviewed by `by` on `day`. A text already reviewed as it is keeps its first record:
 * exported without the fuzzy flag, it was not something this reviewer cleared. Returns the ids newly reviewed.
 */
export function markReviewed(review: ReviewFile, texts: CatalogText[], by: string, day: string): string[] {
  const marked: string[] = [];
  for (const t of texts) {
    if (reviewState(t, review) === 'reviewed') continue;
    review[t.id] = { state: 'reviewed', by, at: day, hash: textHash(t.text) };
    marked.push(t.id);
  }
  return marked;
}

export interface TextProblem {
  id: string;
  reason: string;
}

/** Glossary and script problems of one language's texts: what `check` prints, `status` counts and import refuses. */
export function textProblems(lang: string, texts: CatalogText[], italian: Map<string, CatalogText>, glossary: Glossary): TextProblem[] {
  const problems: TextProblem[] = glossaryMisses(lang, texts, italian, glossary).map((m) => ({
    id: m.id,
    reason: `glossary: "${m.term}" needs "${m.expected}"`,
  }));
  if ((OWN_SCRIPT_LANGUAGES as readonly string[]).includes(lang)) {
    for (const t of texts) {
      if (t.role === 'search') continue;
      const stray = strayLatinWords(lang, t.text, glossary);
      if (stray.length) problems.push({ id: t.id, reason: `script: Latin words ${stray.join(', ')}` });
    }
  }
  return problems;
}

export interface LanguageStatus {
  lang: string;
  texts: number;
  reviewed: number;
  draft: number;
  changed: number;
  last?: { by: string; at: string };
  problems: number;
}

/** Where a language's review stands; `problems` counts what `check` would print for it. */
export function languageStatus(
  lang: string,
  texts: CatalogText[],
  review: ReviewFile,
  italian: Map<string, CatalogText>,
  glossary: Glossary,
): LanguageStatus {
  const count = { reviewed: 0, draft: 0, changed: 0 };
  for (const t of texts) count[reviewState(t, review)]++;
  const ids = new Set(texts.map((t) => t.id));
  // the latest record of a text the language still has; ties on the day go to the later record in the file
  const last = Object.entries(review)
    .filter(([id]) => ids.has(id))
    .map(([, r]) => r)
    .reduce<ReviewRecord | undefined>((a, r) => (!a || r.at >= a.at ? r : a), undefined);
  return {
    lang,
    texts: texts.length,
    ...count,
    last: last && { by: last.by, at: last.at },
    problems: lang === 'it' ? 0 : textProblems(lang, texts, italian, glossary).length,
  };
}

const STATUS_COLUMNS = ['lang', 'texts', 'reviewed', 'draft', 'changed since review', 'last review', 'problems'];

/** A plain table, one row per language, columns padded to line up in a terminal. */
export function formatStatus(rows: LanguageStatus[]): string {
  const cells = [
    STATUS_COLUMNS,
    ...rows.map((r) => [
      r.lang,
      String(r.texts),
      String(r.reviewed),
      String(r.draft),
      String(r.changed),
      r.last ? `${r.last.by}, ${r.last.at}` : '-',
      String(r.problems),
    ]),
  ];
  const widths = STATUS_COLUMNS.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** The glossary that lives beside these locale files (a temp copy in tests). */
export const glossaryFor = (dirs: CatalogDirs): Glossary => loadGlossary(LANGUAGES, glossaryDir(dirs));
