import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LANGUAGES, LOCALES_DIR, type Language } from '../i18n';

/** What a danger message is about; each has its own words in every language's lexicon. */
export const CONCEPTS = ['violence', 'threat', 'control', 'sexual', 'child_harm', 'child_touched', 'thrown_out', 'fear', 'self_harm'] as const;
export type Concept = (typeof CONCEPTS)[number];

/** Certain: the numbers and an urgent request at once. Possible: the numbers and one question. */
export type Level = 'certain' | 'possible';

const term = z.string().trim().min(1);
const signal = z.object({
  concept: z.enum(CONCEPTS),
  level: z.enum(['certain', 'possible']),
  /** every group named here within `window` words of each other, in any order */
  all: z.array(z.string()).min(1),
  window: z.number().int().min(0).max(30).optional(),
  /** the groups must come in the order written ("hits my baby", not "the baby hit my face") */
  ordered: z.boolean().optional(),
  /** none of these groups near the match (he "phoned" me, the sun "beats down") */
  unless: z.array(z.string()).optional(),
  /** how many words around the match `unless` looks (default: the signal's window) */
  unless_window: z.number().int().min(0).max(50).optional(),
  note: z.string().optional(),
});

export const lexiconSchema = z.object({
  language: z.enum(LANGUAGES),
  /** a Snowball algorithm of the snowball-stemmers package, when the language has one */
  stemmer: z.string().optional(),
  /** words this long or longer tolerate one typo (default 5; beginnings `word*` from 7); set higher where one letter makes another everyday word */
  typo_min_length: z.number().int().min(4).max(99).optional(),
  about: z.string().optional(),
  /** frequent words of the language (and its romanized or related forms): they tell which language she wrote in */
  markers: z.array(term).default([]),
  /** named lists of words: `word` (its forms by stem, one typo allowed in longer words), `word*` (any ending), `=word` (only exactly), several words in a row */
  groups: z.record(z.string(), z.array(term).min(1)),
  signals: z.array(signal).min(1),
  /** phrases whose words never count (idioms: "il sole picchia", "hit the nail on the head") */
  not: z.array(term).default([]),
});

export type LexiconData = z.infer<typeof lexiconSchema>;
export type SignalData = z.infer<typeof signal>;

export const SAFETY_DIR = join(LOCALES_DIR, 'safety');

/** One language's lexicon, checked: a group a signal names must exist. */
export function parseLexicon(raw: unknown, source: string): LexiconData {
  const parsed = lexiconSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${source}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const data = parsed.data;
  for (const [i, s] of data.signals.entries()) {
    for (const g of [...s.all, ...(s.unless ?? [])]) {
      if (!data.groups[g]) throw new Error(`${source}: signals.${i} names the group "${g}", which is not defined`);
    }
  }
  return data;
}

export function readLexicons(dir = SAFETY_DIR): Record<Language, LexiconData> {
  return Object.fromEntries(LANGUAGES.map((lng) => {
    const file = join(dir, `${lng}.json`);
    return [lng, parseLexicon(JSON.parse(readFileSync(file, 'utf8')), file)];
  })) as Record<Language, LexiconData>;
}
