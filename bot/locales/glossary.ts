import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCALES_DIR } from '../i18n';
import { italianFor, type CatalogText } from './catalog';

/** One term of the Italian glossary: the word, what it means here, and how to find it in an Italian text. */
export interface SourceTerm {
  it: string;
  definition: string;
  match: string[];
  /** ids where another language may leave the term out, with the reason */
  allow?: Record<string, string>;
}

/** The same term in one language: its word, the forms that count as it, the Italian words kept on purpose. */
export interface LanguageTerm {
  term: string;
  forms: string[];
  kept?: string[];
  note?: string;
  allow?: Record<string, string>;
}

export interface Glossary {
  source: Record<string, SourceTerm>;
  byLanguage: Record<string, Record<string, LanguageTerm>>;
  /** proper names (offices, websites, benefits, apps) that every language writes as they are on the sign */
  names: string[];
}

export const GLOSSARY_DIR = join(LOCALES_DIR, 'glossary');

export function loadGlossary(languages: readonly string[], dir = GLOSSARY_DIR): Glossary {
  const read = <T>(f: string): T => JSON.parse(readFileSync(join(dir, f), 'utf8')) as T;
  const source = read<{ terms: Record<string, SourceTerm> }>('it.json').terms;
  const byLanguage: Glossary['byLanguage'] = {};
  for (const lang of languages) if (lang !== 'it') byLanguage[lang] = read<{ terms: Record<string, LanguageTerm> }>(`${lang}.json`).terms;
  const names = read<{ names: string[] }>('names.json').names;
  return { source, byLanguage, names };
}

const lower = (s: string): string => s.normalize('NFC').toLocaleLowerCase();
const withoutPlaceholders = (s: string): string => s.replace(/\{\{[^}]*\}\}|\$t\([^)]*\)/g, ' ');

/** Glossary terms an Italian text uses. */
export function termsIn(italian: string, glossary: Glossary): string[] {
  const text = withoutPlaceholders(italian);
  return Object.entries(glossary.source)
    .filter(([, t]) => t.match.some((re) => new RegExp(re, 'u').test(text)))
    .map(([key]) => key);
}

export interface GlossaryMiss {
  id: string;
  term: string;
  /** the word the language's glossary expects */
  expected: string;
}

/** Does this translation use the language's word for the term (any of its forms)? */
export function usesTerm(text: string, term: LanguageTerm): boolean {
  const t = lower(withoutPlaceholders(text));
  return term.forms.some((f) => t.includes(lower(f)));
}

/**
 * Texts of one language that leave out a glossary term their Italian uses: where `it` says "nido", the
 * translation must hold the language's word for it (not only the Italian beside it), unless allowed for that id.
 */
export function glossaryMisses(lang: string, texts: CatalogText[], italian: Map<string, CatalogText>, glossary: Glossary): GlossaryMiss[] {
  const terms = glossary.byLanguage[lang];
  if (!terms) return [];
  const misses: GlossaryMiss[] = [];
  for (const text of texts) {
    if (text.role === 'search') continue;
    const source = italianFor(text.id, italian);
    if (!source) continue;
    for (const key of termsIn(source.text, glossary)) {
      const term = terms[key];
      if (!term) {
        misses.push({ id: text.id, term: key, expected: '(no entry in the glossary)' });
        continue;
      }
      if (glossary.source[key]!.allow?.[text.id] || term.allow?.[text.id]) continue;
      if (!usesTerm(text.text, term)) misses.push({ id: text.id, term: key, expected: term.term });
    }
  }
  return misses;
}

/** Languages whose texts she reads in her own script: a Latin word there must be a kept term, a name or a number. */
export const OWN_SCRIPT_LANGUAGES = ['ar', 'ur', 'bn', 'si', 'zh', 'uk'] as const;

const LATIN_WORD = /[\p{Script=Latin}][\p{Script=Latin}\p{M}'’]*/gu;

/** What is not prose: placeholders, nested keys, web addresses, e-mail, chat commands, codes such as T-3 or F-{{n}}. */
function withoutCode(text: string): string {
  return withoutPlaceholders(text)
    .replace(/https?:\/\/\S+|www\.\S+|\b[\w.-]+\.(?:it|eu|com|org|gov\.it)\b\S*/giu, ' ')
    .replace(/\S+@\S+/g, ' ')
    .replace(/npm run [^\n]*/g, ' ')
    .replace(/(?<![\p{Script=Latin}\p{N}/])\/[a-z_]+/giu, ' ')
    .replace(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g, ' ')
    .replace(/\b[A-Z]-(?:n\b|(?=\s|$|\d))/g, ' ');
}

/** Latin-script words of a text that are neither kept glossary terms nor names (single letters and numbers aside). */
export function strayLatinWords(lang: string, text: string, glossary: Glossary): string[] {
  const kept = Object.values(glossary.byLanguage[lang] ?? {}).flatMap((t) => t.kept ?? []);
  const allowed = [...kept, ...glossary.names].sort((a, b) => b.length - a.length);
  let rest = withoutCode(text);
  // names of several words ("Assegno Unico") go first, whole, case as on the sign or lower
  for (const phrase of allowed) {
    const re = new RegExp(`(?<![\\p{Script=Latin}])${phrase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{Script=Latin}])`, 'giu');
    rest = rest.replace(re, ' ');
  }
  return [...rest.matchAll(LATIN_WORD)].map((m) => m[0]).filter((w) => w.length > 1);
}
